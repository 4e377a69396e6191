"""Big catalog: 100,000 models in 1,000-model pages must cost about what fetching them costs.

One provider instance (`type = "anthropic"`, the real plugin, cursor pagination) lists the
synthetic catalog of `catalog.py`. Floor: a bare loop in this process that fetches the same
pages with httpx and parses the JSON with orjson, as aisync does, measured right before
each sync and taken as the median of a backend's measures. Goals (issue 14), whole
process, on SQLite and on PostgreSQL (`AISYNC_TEST_POSTGRES_URL`; skipped with a note when
unset): the first sync <= 5x the floor; an unchanged re-sync (`--force`) <= 2x and writing
no `model_versions` row; a re-sync where 1% of the models changed <= 2.5x and writing
exactly those rows; peak RSS < 300 MB. An all-fresh run (nothing fetched) shows what the
start-up alone costs of each figure, and must stay under 500 ms. Each run starts from an
empty database migrated beforehand (`aisync db upgrade`, untimed).
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import harness
import httpx
import orjson
from catalog import CHANGE_EVERY, MODELS, catalog_server
from sqlalchemy import create_engine, text

RSS_LIMIT_MB = 300.0


def floor_fetch(base_url: str) -> float:
    """The network and JSON cost alone: every page, fetched and parsed with the parser
    aisync uses (orjson, `aisync.http.json_body`), nothing else."""
    started = time.perf_counter()
    params: dict[str, str | int] = {"limit": 1000}
    with httpx.Client() as client:
        while True:
            body = orjson.loads(client.get(f"{base_url}/v1/models", params=params).content)
            if not body["has_more"]:
                break
            params = {"limit": 1000, "after_id": body["last_id"]}
    return time.perf_counter() - started


def write_config(path: Path, base_url: str) -> None:
    path.write_text(
        f'[providers.big]\ntype = "anthropic"\nbase_url = "{base_url}"\napi_key = "bench-key"\n',
        encoding="utf-8",
    )


def version_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM model_versions")).scalar())
    finally:
        engine.dispose()


def backends(home: Path) -> dict[str, Callable[[int], str]]:
    """Backend name -> a function giving an empty database URL for each round."""
    found: dict[str, Callable[[int], str]] = {
        "SQLite": lambda n: f"sqlite:///{home / f'catalog-{n}.db'}"
    }
    postgres = os.environ.get("AISYNC_TEST_POSTGRES_URL")
    if postgres:
        from tests.databases import empty_server_database

        found["PostgreSQL"] = lambda n: empty_server_database(postgres)
    else:
        print("  (PostgreSQL skipped: AISYNC_TEST_POSTGRES_URL is not set)")
    return found


def one_round(
    url: str, configs: dict[str, Path], env: dict[str, str], floor: Callable[[], float]
) -> dict[str, float]:
    """First sync, unchanged re-sync, 1% changed re-sync of an empty, migrated database,
    each just after a measure of the floor: on a shared machine the floor moves by half
    within minutes, so it is measured beside what it is compared with."""

    def sync(variant: str, *extra: str) -> harness.Run:
        command = harness.aisync_command(
            "sync-models", "--quiet", "--config", str(configs[variant]), "--database-url", url
        )
        return harness.checked(harness.run_process([*command, *extra], env))

    upgrade = harness.aisync_command("db", "upgrade", "--database-url", url)
    harness.checked(harness.run_process(upgrade, env))
    floors = [floor()]
    first = sync("base")
    # Every provider fresh: the start-up every run pays, part of each figure below.
    startup = sync("base")
    before = version_rows(url)
    floors.append(floor())
    unchanged = sync("base", "--force")
    after_unchanged = version_rows(url)
    floors.append(floor())
    changed = sync("changed", "--force")
    return {
        "floor": statistics.median(floors),
        "first": first.seconds,
        "startup": startup.seconds,
        "unchanged": unchanged.seconds,
        "changed": changed.seconds,
        "unchanged_rows": after_unchanged - before,
        "changed_rows": version_rows(url) - after_unchanged,
        "rss": max(run.peak_rss_mb for run in (first, unchanged, changed)),
    }


def measure(
    label: str, fresh_url: Callable[[int], str], home: Path, server_url: str
) -> list[harness.Goal]:
    env = harness.clean_environ(home, AISYNC_ENRICH="none")
    configs = {}
    for variant in ("base", "changed"):
        configs[variant] = home / f"{variant}.toml"
        write_config(configs[variant], f"{server_url}/{variant}")
    floor_now = functools.partial(floor_fetch, f"{server_url}/base")
    rounds = [one_round(fresh_url(n), configs, env, floor_now) for n in range(harness.RUNS)]

    def median(key: str) -> float:
        return statistics.median(figures[key] for figures in rounds)

    def worst(key: str) -> float:
        return max(figures[key] for figures in rounds)

    floor = median("floor")
    return [
        harness.Goal(f"{label}: all fresh (start-up alone)", median("startup"), at_most=0.5),
        harness.Goal(f"{label}: first sync", median("first"), floor=floor, at_most_ratio=5),
        harness.Goal(
            f"{label}: unchanged re-sync", median("unchanged"), floor=floor, at_most_ratio=2
        ),
        harness.Goal(
            f"{label}: unchanged re-sync, new versions",
            worst("unchanged_rows"),
            exactly=0,
            unit="rows",
        ),
        harness.Goal(
            f"{label}: 1% changed re-sync", median("changed"), floor=floor, at_most_ratio=2.5
        ),
        harness.Goal(
            f"{label}: 1% changed re-sync, new versions",
            worst("changed_rows"),
            exactly=MODELS // CHANGE_EVERY,
            unit="rows",
        ),
        harness.Goal(
            f"{label}: peak RSS (worst run)", worst("rss"), at_most=RSS_LIMIT_MB, unit="MB"
        ),
    ]


def main() -> int:
    harness.header("big catalog", f"{MODELS:,} models in pages of 1,000, cursor pagination")
    with tempfile.TemporaryDirectory() as tmp, catalog_server() as server_url:
        home = Path(tmp)
        floor_fetch(f"{server_url}/base")  # the server's first pages, warmed up untimed
        goals = []
        for label, fresh_url in backends(home).items():
            goals.extend(measure(label, fresh_url, home, server_url))
    return harness.report(goals)


if __name__ == "__main__":
    sys.exit(main())
