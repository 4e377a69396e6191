"""A synthetic 100,000-model catalog served in cursor-paginated pages, from its own process.

The pages have the shape of Anthropic's Models API (`GET /v1/models?limit=1000&after_id=`,
`data` / `has_more` / `first_id` / `last_id`) and use only its documented fields, so the real
`anthropic` plugin reads them. Two variants are served: `/base` and `/changed` (every 100th
model renamed). The server runs in a child process so that serving 30 MB does not compete
for the benchmark's own GIL, and the pages are serialized once, up front.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from urllib.parse import parse_qs, urlsplit

from tests.fakeserver import FakeServer, Reply

MODELS = 100_000
PAGE_SIZE = 1_000
#: Every CHANGE_EVERY-th model differs in the `/changed` variant: 1% of the catalog.
CHANGE_EVERY = 100
VARIANTS = ("base", "changed")


def model_id(n: int) -> str:
    return f"claude-bench-{n:06d}-20250101"


def entry(n: int, changed: bool) -> dict[str, object]:
    """One model, about 300 bytes of JSON."""
    suffix = " (renamed)" if changed and n % CHANGE_EVERY == 0 else ""
    return {
        "type": "model",
        "id": model_id(n),
        "display_name": f"Claude Bench {n}{suffix}",
        "created_at": "2025-01-01T00:00:00Z",
        "max_input_tokens": 200_000,
        "max_tokens": 64_000,
        "capabilities": {
            "image_input": {"supported": True},
            "pdf_input": {"supported": True},
            "structured_outputs": {"supported": n % 2 == 0},
            "thinking": {"supported": n % 3 == 0},
        },
    }


def pages(changed: bool) -> dict[str | None, bytes]:
    """after_id (None for the first page) -> the serialized page."""
    served: dict[str | None, bytes] = {}
    after: str | None = None
    for start in range(0, MODELS, PAGE_SIZE):
        ids = range(start, min(start + PAGE_SIZE, MODELS))
        body = {
            "data": [entry(n, changed) for n in ids],
            "has_more": ids.stop < MODELS,
            "first_id": model_id(ids.start),
            "last_id": model_id(ids.stop - 1),
        }
        served[after] = json.dumps(body, separators=(",", ":")).encode("utf-8")
        after = model_id(ids.stop - 1)
    return served


def _answer(served: dict[str | None, bytes]) -> Callable[[str], Reply]:
    def answer(path: str) -> Reply:
        after = parse_qs(urlsplit(path).query).get("after_id", [None])[0]
        page = served.get(after)
        if page is None:
            return Reply(400, {"type": "error", "error": {"message": f"bad after_id {after}"}})
        return Reply(raw=page)

    return answer


def _serve(pipe: Connection) -> None:
    server = FakeServer()
    for variant in VARIANTS:
        server.route_dynamic(f"/{variant}/v1/models", _answer(pages(variant == "changed")))
    with server.running():
        pipe.send(server.url)
        pipe.recv()


@contextmanager
def catalog_server() -> Iterator[str]:
    """The server's URL; `{url}/base` and `{url}/changed` are the two base URLs."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs,), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send("stop")
        process.join(timeout=10)
