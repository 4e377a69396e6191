"""Hostile and broken provider answers through the real CLI, each isolated to its provider.

One provider instance is pointed at the fake server (or at a port that refuses, never
answers, or a host that does not resolve); `mock` is the healthy one. Each fault must give
exit 2, one error line naming the provider and the cause, no traceback, the healthy provider
synced and the faulty provider's stored rows (models, versions, events) exactly as before,
checked with plain SQL.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import Result

from tests.cli import query, run
from tests.fakeserver import FakeServer, Reply
from tests.providers.helpers import recorded_body

#: The first models of real recorded listings: what each provider listed before the fault.
OPENAI_MODELS = recorded_body("openai")["data"][:3]
ANTHROPIC_MODELS = recorded_body("anthropic")["data"][:4]
GEMINI_MODELS = recorded_body("gemini")["models"][:4]
OPENROUTER_MODELS = recorded_body("openrouter")["data"][:4]
OPENAI_LISTING = {"object": "list", "data": OPENAI_MODELS}
HTML_503 = b"<html><head><title>503</title></head><body>Service Unavailable</body></html>"
HTML = {"Content-Type": "text/html"}
RETRIES = 2
JSON_ERROR = "Response is not valid JSON (application/json)"
#: The providers' bound on pages (`MAX_PAGES` in each paginating plugin).
MAX_PAGES = 1000


@dataclass(frozen=True)
class Fault:
    """One way a provider can misbehave, and the one line the user must read about it."""

    message: str
    replies: tuple[Reply, ...] = ()
    #: Where the provider points: the fake server, or a port or host that fails on its own.
    target: str = "server"
    #: How many requests reach the fake server: retries are bounded.
    requests: int | None = None
    args: tuple[str, ...] = field(default=())


def error_reply(status: int, message: str, **headers: str) -> Reply:
    """An error in OpenAI's documented shape."""
    return Reply(status, {"error": {"message": message, "type": "error"}}, headers=headers)


FAULTS = {
    "401": Fault(
        "Invalid API key",
        (error_reply(401, "Incorrect API key provided: te***23."),),
        requests=1,
    ),
    "403": Fault(
        "Permission denied", (error_reply(403, "You are not allowed to list models."),), requests=1
    ),
    "404": Fault(
        "Provider error 404: Invalid URL (GET /v1/models)",
        (error_reply(404, "Invalid URL (GET /v1/models)"),),
        requests=1,
    ),
    "429-retry-after-beyond-cap": Fault(
        "Rate limit exceeded, retry after 60 seconds",
        (error_reply(429, "Rate limit reached for requests", **{"Retry-After": "60"}),),
        requests=1,
    ),
    "429-retry-after-within-cap": Fault(
        "Rate limit exceeded, retry after 0 seconds",
        (error_reply(429, "Rate limit reached for requests", **{"Retry-After": "0"}),),
        requests=RETRIES + 1,
    ),
    "429-without-retry-after": Fault(
        "Rate limit exceeded",
        (error_reply(429, "Rate limit reached for requests"),),
        requests=RETRIES + 1,
    ),
    "429-then-500": Fault(
        "Provider error 500: The server had an error while processing your request.",
        (
            error_reply(429, "Rate limit reached for requests"),
            error_reply(500, "The server had an error while processing your request."),
        ),
        requests=RETRIES + 1,
    ),
    "500-html": Fault(
        "Provider error 500: Internal Server Error",
        (Reply(500, raw=b"<html><body><h1>500 Internal Server Error</h1></body></html>"),),
        requests=RETRIES + 1,
    ),
    "502-html": Fault(
        "Provider error 502: Bad Gateway",
        (Reply(502, raw=b"<html><body>502 Bad Gateway</body></html>"),),
        requests=RETRIES + 1,
    ),
    "503-html": Fault(
        "Provider error 503: Service Unavailable",
        (Reply(503, raw=HTML_503, headers=HTML),),
        requests=RETRIES + 1,
    ),
    "not-json": Fault(
        "Response is not valid JSON (text/html)",
        (Reply(200, raw=b"<html><body>Welcome</body></html>", headers=HTML),),
    ),
    "truncated-json": Fault(
        JSON_ERROR,
        (Reply(200, raw=json.dumps(OPENAI_LISTING).encode()[:-40]),),
    ),
    "not-utf8": Fault(JSON_ERROR, (Reply(200, raw=b'{"data": ["\xff\xfe"]}'),)),
    "wrong-shape-list": Fault(
        "Model list is not a JSON object (got list)", (Reply(200, OPENAI_MODELS),)
    ),
    "wrong-shape-data-object": Fault(
        "Model list has no 'data' array", (Reply(200, {"object": "list", "data": {"id": "x"}}),)
    ),
    "wrong-shape-null": Fault(
        "Model list is not a JSON object (got NoneType)", (Reply(200, None),)
    ),
    "every-entry-without-id": Fault(
        "Malformed listing: none of its 3 entries could be read (no model id (3))",
        (Reply(200, {"data": [{k: v for k, v in m.items() if k != "id"} for m in OPENAI_MODELS]}),),
    ),
    "ids-of-wrong-type": Fault(
        "Malformed listing: none of its 3 entries could be read (no model id (3))",
        (Reply(200, {"data": [{**m, "id": index} for index, m in enumerate(OPENAI_MODELS)]}),),
    ),
    "redirect-loop": Fault(
        "Too many redirects (more than 5)",
        (Reply(302, raw=b"", headers={"Location": "/openai/models"}),),
        requests=6,
    ),
    "body-over-50-mb-declared": Fault(
        "Response larger than 50 MB", (Reply(200, raw=b" " * (50 * 1024 * 1024 + 1)),)
    ),
    "body-over-50-mb-streamed": Fault(
        "Response larger than 50 MB",
        (Reply(200, raw=b'{"data": [' + b" " * (50 * 1024 * 1024) + b"]}", stream=True),),
    ),
    "never-answers": Fault(
        "Request timeout after 0.5 seconds", target="silent", args=("--timeout", "0.5")
    ),
    "answers-too-slowly": Fault(
        "Request timeout after 0.5 seconds",
        (Reply(200, OPENAI_LISTING, delay=2),),
        args=("--timeout", "0.5"),
    ),
    "connection-refused": Fault("Cannot connect to 127.0.0.1", target="refused"),
    "dns-failure": Fault("Cannot connect to aisync-test.invalid", target="unresolvable"),
}


@pytest.fixture
def refused_port() -> int:
    """A port of 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that completes the TCP handshake (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def stored(url: str, provider: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row about one provider's models, as plain SQL returns them."""
    return {
        "models": query(
            url,
            "SELECT id, model_id, first_seen_at, last_seen_at, removed_at FROM models "
            "WHERE provider = :p ORDER BY id",
            p=provider,
        ),
        "versions": query(
            url,
            "SELECT v.id, v.model, v.version, v.run_id, v.content_hash, v.context_window, "
            "v.release_date FROM model_versions v JOIN models m ON m.id = v.model "
            "WHERE m.provider = :p ORDER BY v.id",
            p=provider,
        ),
        "events": query(
            url,
            "SELECT e.id, e.model, e.version, e.run_id FROM model_events e "
            "JOIN models m ON m.id = e.model WHERE m.provider = :p ORDER BY e.id",
            p=provider,
        ),
    }


def last_sync(url: str, provider: str) -> tuple[Any, ...]:
    [row] = query(
        url,
        "SELECT status, reason, error, models_found FROM provider_syncs "
        "WHERE id = (SELECT MAX(id) FROM provider_syncs WHERE provider = :p)",
        p=provider,
    )
    return row


def environment(url: str, **variables: str) -> dict[str, str]:
    """Fast retries: two of them, waits capped at a hundredth of a second."""
    return {
        "AISYNC_DATABASE_URL": url,
        "AISYNC_RETRIES": str(RETRIES),
        "AISYNC_RETRY_WAIT_CAP": "0.01",
        **variables,
    }


def assert_isolated_failure(
    result: Result, url: str, provider: str, message: str, before: dict[str, Any]
) -> None:
    """Exit 2, one line naming provider and cause, the healthy mock synced, rows untouched."""
    assert result.exit_code == 2, result.output
    assert result.stderr == f"\nErrors encountered:\n- {provider}: {message}\n"
    assert f"{provider}:\n  ❌ Synchronization failed: {message}\n" in result.stdout
    assert "mock:\n  ✓ Found 3 models\n" in result.stdout
    assert "Traceback" not in result.output
    assert last_sync(url, "mock") == ("synced", None, None, 3)
    reason = "suspect_listing" if message.startswith("Refused:") else "error"
    assert last_sync(url, provider) == ("failed", reason, message, None)
    assert stored(url, provider) == before


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_fault_is_isolated_to_its_provider(
    fault: Fault, fake_server: FakeServer, sqlite_url: str, refused_port: int, silent_port: int
) -> None:
    base_url = f"{fake_server.url}/openai"
    env = environment(
        sqlite_url, AISYNC_OPENAI_API_KEY="sk-hostile-0123", AISYNC_OPENAI_BASE_URL=base_url
    )
    providers = ["sync-models", "--provider", "openai", "--provider", "mock"]
    fake_server.route("/openai/models", Reply(200, OPENAI_LISTING))
    assert run(providers, env).exit_code == 0
    before = stored(sqlite_url, "openai")
    assert len(before["models"]) == 3
    targets = {
        "server": base_url,
        "silent": f"http://127.0.0.1:{silent_port}/v1",
        "refused": f"http://127.0.0.1:{refused_port}/v1",
        "unresolvable": "http://aisync-test.invalid/v1",
    }
    env["AISYNC_OPENAI_BASE_URL"] = targets[fault.target]
    fake_server.route("/openai/models", *fault.replies)
    fake_server.requests.clear()

    result = run([*providers, "--force", *fault.args], env)

    assert_isolated_failure(result, sqlite_url, "openai", fault.message, before)
    if fault.requests is not None:
        assert len(fake_server.requests) == fault.requests


@dataclass(frozen=True)
class Paginated:
    """A paginating provider: where it asks, and how it shapes a page with a cursor."""

    name: str
    path: str
    models: list[dict[str, Any]]
    label: str

    def page(self, entries: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
        if self.name == "anthropic":
            return {"data": entries, "has_more": cursor is not None, "last_id": cursor}
        if self.name == "gemini":
            return {"models": entries} | ({"nextPageToken": cursor} if cursor else {})
        return {"data": entries, "links": {"next": f"?offset={cursor}" if cursor else None}}


PAGINATED = [
    Paginated("anthropic", "/anthropic/v1/models", ANTHROPIC_MODELS, "Anthropic"),
    Paginated("gemini", "/gemini/models", GEMINI_MODELS, "Gemini"),
    Paginated("openrouter", "/openrouter/models", OPENROUTER_MODELS, "OpenRouter"),
]


def paginated_env(url: str, server: FakeServer, provider: Paginated) -> dict[str, str]:
    prefix = f"AISYNC_{provider.name.upper()}"
    return environment(
        url,
        **{
            f"{prefix}_API_KEY": f"hostile-{provider.name}-key-42",
            f"{prefix}_BASE_URL": f"{server.url}/{provider.name}",
        },
    )


def two_pages(provider: Paginated) -> tuple[Reply, Reply]:
    half = len(provider.models) // 2
    return (
        Reply(200, provider.page(provider.models[:half], "page-2")),
        Reply(200, provider.page(provider.models[half:], None)),
    )


def broken_pages(provider: Paginated, case: str) -> tuple[list[Reply], str, int]:
    """The replies of a listing that breaks after its first page, the error and the number
    of requests the provider must make before giving up."""
    first = Reply(200, provider.page(provider.models[:1], "page-2"))
    too_many = f"{provider.label} model list has more than {MAX_PAGES} pages"
    if case == "page-2-fails":
        return [first, Reply(503, raw=HTML_503)], "Provider error 503: Service Unavailable", 4
    if case == "page-2-not-json":
        return [first, Reply(200, raw=b'{"data": [')], JSON_ERROR, 2
    if case == "cursor-repeats":
        return [first], too_many, MAX_PAGES
    endless = [
        Reply(200, provider.page(provider.models[:1], f"page-{n + 2}"))
        for n in range(MAX_PAGES + 1)
    ]
    return endless, too_many, MAX_PAGES


def check_broken_pages(provider: Paginated, case: str, server: FakeServer, url: str) -> None:
    env = paginated_env(url, server, provider)
    providers = ["sync-models", "--provider", provider.name, "--provider", "mock"]
    server.route(provider.path, *two_pages(provider))
    assert run(providers, env).exit_code == 0
    before = stored(url, provider.name)
    assert len(before["models"]) == len(provider.models)
    replies, message, requests = broken_pages(provider, case)
    server.route(provider.path, *replies)
    server.requests.clear()

    result = run([*providers, "--force"], env)

    assert_isolated_failure(result, url, provider.name, message, before)
    assert len(server.requests) == requests


@pytest.mark.parametrize(
    "case", ["page-2-fails", "page-2-not-json", "cursor-repeats", "cursor-never-ends"]
)
@pytest.mark.parametrize("provider", PAGINATED, ids=[p.name for p in PAGINATED])
def test_a_broken_later_page_writes_nothing(
    provider: Paginated, case: str, fake_server: FakeServer, sqlite_url: str
) -> None:
    check_broken_pages(provider, case, fake_server, sqlite_url)


def test_a_failed_provider_is_untouched_on_every_backend(
    fake_server: FakeServer, database_url: str
) -> None:
    check_broken_pages(PAGINATED[0], "page-2-fails", fake_server, database_url)


def test_odd_entries_are_skipped_and_the_rest_synced(
    fake_server: FakeServer, sqlite_url: str
) -> None:
    """Entry-level oddities are not a failed sync: the providers' documented rule is to skip
    an entry without a usable id, keep the first of repeated ids (Mistral's real listing
    repeats ids) and read a field of the wrong type as absent. None may crash or store junk."""
    env = environment(
        sqlite_url,
        AISYNC_OPENAI_API_KEY="sk-hostile-0123",
        AISYNC_OPENAI_BASE_URL=f"{fake_server.url}/openai",
    )
    providers = ["sync-models", "--provider", "openai", "--provider", "mock"]
    fake_server.route("/openai/models", Reply(200, OPENAI_LISTING))
    run(providers, env)
    before = stored(sqlite_url, "openai")
    odd: list[Any] = [
        {"object": "model", "created": 1715367049, "owned_by": "system"},
        {"id": None},
        {"id": 4},
        {"id": ""},
        "gpt-4o",
        None,
        {**OPENAI_MODELS[0], "created": "yesterday"},
        {"id": "gpt-new", "object": "model", "created": "yesterday", "owned_by": ["x"]},
    ]
    fake_server.route("/openai/models", Reply(200, {"data": [*OPENAI_MODELS, *odd]}))

    result = run([*providers, "--force", "-v"], env)

    assert result.exit_code == 0, result.output
    assert "openai:\n  ✓ Found 4 models\n    1 added, 0 changed, 0 removed\n" in result.stdout
    assert "  ⚠ 1 duplicate model id(s) in the listing; kept the first\n" in result.stdout
    after = stored(sqlite_url, "openai")
    assert after["versions"] == [*before["versions"], after["versions"][-1]]
    assert after["versions"][-1][-1] is None  # "created": "yesterday" is no release date
    assert [row[1] for row in after["models"]] == [
        *(m["id"] for m in OPENAI_MODELS),
        "gpt-new",
    ]
