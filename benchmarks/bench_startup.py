"""Start-up: `--help` and a run that finds every provider fresh must be nearly free.

Floor: the bare interpreter (`python -c pass`), measured in the same run. Goals (absolute,
whole process): `aisync --help` and `aisync sync-models --help` under 150 ms, and
`aisync sync-models` with every provider fresh (all `cache_valid`) under 500 ms, printing
its report and as cron runs it (`--quiet`, which prints nothing and so loads no rich). The
fresh run uses ten configured OpenAI-compatible instances synced once beforehand, so it
reads real freshness rows and writes the run's skip rows; it fetches nothing, and so
loads no httpx either (tests/test_startup_imports.py).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import harness
from bench_fanout import LISTING, PROVIDERS, write_config

from tests.fakeserver import FakeServer, Reply


def timed(command: list[str], env: dict[str, str]) -> float:
    return harness.checked(harness.run_process(command, env)).seconds


def main() -> int:
    harness.header("start-up", "--help and an all-fresh sync-models, whole process")
    with tempfile.TemporaryDirectory() as tmp, FakeServer().running() as server:
        home = Path(tmp)
        for n in range(PROVIDERS):
            server.route(f"/fan{n}/v1/models", Reply(body=LISTING))
        config = home / "aisync.toml"
        write_config(config, server.url)
        env = harness.clean_environ(home)
        options = ("--config", str(config), "--database-url", f"sqlite:///{home / 'catalog.db'}")
        sync = harness.aisync_command("sync-models", *options)
        harness.checked(harness.run_process(sync, env))
        fresh = harness.checked(harness.run_process(sync, env))
        if fresh.stdout.count("cache_valid") != PROVIDERS:
            sys.exit(f"expected {PROVIDERS} fresh providers:\n{fresh.stdout}")
        floor = harness.median_of(lambda: timed([sys.executable, "-c", "pass"], env))
        goals = [
            harness.Goal(
                "aisync --help",
                harness.median_of(lambda: timed(harness.aisync_command("--help"), env)),
                floor=floor,
                at_most=0.150,
            ),
            harness.Goal(
                "aisync sync-models --help",
                harness.median_of(
                    lambda: timed(harness.aisync_command("sync-models", "--help"), env)
                ),
                floor=floor,
                at_most=0.150,
            ),
            harness.Goal(
                f"sync-models, {PROVIDERS} providers all fresh",
                harness.median_of(lambda: timed(sync, env)),
                floor=floor,
                at_most=0.500,
            ),
            harness.Goal(
                f"sync-models --quiet, {PROVIDERS} providers all fresh (cron)",
                harness.median_of(lambda: timed([*sync, "--quiet"], env)),
                floor=floor,
                at_most=0.500,
            ),
        ]
    return harness.report(goals)


if __name__ == "__main__":
    sys.exit(main())
