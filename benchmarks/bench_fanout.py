"""Fan-out: ten providers that each take 1.0 s to answer must cost about 1.0 s, not 10.

The providers are ten OpenAI-compatible instances (`[providers.fanN] type = "openai"`) whose
base URLs point at the fake server, so the real code path runs: config, discovery, the shared
client, the openai plugin, the database. Floor: one bare httpx request to the same server
(the slowest provider). Goal: `aisync sync-models --force`, whole process, <= 1.5x the floor.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import harness
import httpx

from tests.fakeserver import FakeServer, Reply

PROVIDERS = 10
DELAY = 1.0
LISTING = {
    "object": "list",
    "data": [
        {"id": f"gpt-4o-bench-{n}", "object": "model", "created": 1715367049, "owned_by": "system"}
        for n in range(20)
    ],
}


def write_config(path: Path, server_url: str) -> None:
    tables = [
        f'[providers.fan{n}]\ntype = "openai"\nbase_url = "{server_url}/fan{n}/v1"\n'
        f'api_key = "bench-key"\n'
        for n in range(PROVIDERS)
    ]
    path.write_text("\n".join(tables), encoding="utf-8")


def bare_request(url: str) -> float:
    started = time.perf_counter()
    with httpx.Client() as client:
        client.get(url).json()
    return time.perf_counter() - started


def main() -> int:
    harness.header("fan-out", f"{PROVIDERS} providers each answering after {DELAY} s")
    with tempfile.TemporaryDirectory() as tmp, FakeServer().running() as server:
        home = Path(tmp)
        for n in range(PROVIDERS):
            server.route(f"/fan{n}/v1/models", Reply(body=LISTING, delay=DELAY))
        config = home / "aisync.toml"
        write_config(config, server.url)
        env = harness.clean_environ(home, AISYNC_ENRICH="none")
        command = harness.aisync_command(
            "sync-models",
            "--force",
            "--quiet",
            "--config",
            str(config),
            "--database-url",
            f"sqlite:///{home / 'catalog.db'}",
        )
        harness.checked(harness.run_process(command, env))
        floor = harness.median_of(lambda: bare_request(f"{server.url}/fan0/v1/models"))
        wall = harness.median_of(lambda: harness.checked(harness.run_process(command, env)).seconds)
    return harness.report(
        [harness.Goal("sync-models --force, whole process", wall, floor=floor, at_most_ratio=1.5)]
    )


if __name__ == "__main__":
    sys.exit(main())
