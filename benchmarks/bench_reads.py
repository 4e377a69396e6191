"""Reading a big catalog: export and `models` of 1,000,000 models must stream.

The catalog (`reads_catalog.py`: 1,000,000 models, one version each) is built once and
cached. Floor: the same `SELECT` that `aisync export` runs (the current models with their
latest version, sorted), executed through the same driver on a raw DB-API cursor (a
server-side one on PostgreSQL) and every row fetched, measured in this process in the same
run. Goals, whole process (`aisync export --format json|csv --output FILE`, and
`aisync models` with its stdout a file, the piped plain-text listing): time <= 3x the
floor and peak RSS <= 300 MB, on SQLite and on PostgreSQL (`AISYNC_TEST_POSTGRES_URL`;
skipped with a note when unset).

The catalog has no sync history (no `provider_syncs` rows), so it does not show what a
model's derived `last_seen_at` costs: the reads join each provider's last successful sync
once, where a subquery per row (the view `current_models`) rescans the provider's history
for every model, 100 times slower for 100,000 models with 2,000 syncs per provider.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import harness
from reads_catalog import MODELS, postgres_catalog, sqlite_catalog
from sqlalchemy import create_engine

from aisync.catalog.queries import catalog_models_query

RSS_LIMIT_MB = 300.0
RATIO = 3.0
FETCH = 2_000


def floor_select(url: str) -> float:
    """The bare query: the export's statement on the driver's own cursor, every row read."""
    engine = create_engine(url)
    sql = str(catalog_models_query().compile(engine, compile_kwargs={"literal_binds": True}))
    raw = engine.raw_connection()
    try:
        server_side = engine.dialect.name == "postgresql"
        cursor = raw.cursor(name="floor") if server_side else raw.cursor()
        started = time.perf_counter()
        cursor.execute(sql)
        count = 0
        while rows := cursor.fetchmany(FETCH):
            count += len(rows)
        seconds = time.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
        engine.dispose()
    if count != MODELS:
        sys.exit(f"the floor query read {count} rows, expected {MODELS}")
    return seconds


def run_to_file(command: list[str], env: dict[str, str], target: Path) -> harness.Run:
    """A whole-process run whose stdout is a file (not a terminal, not a pipe this process
    must hold in memory); the peak RSS is the child's own."""
    started = time.perf_counter()
    with target.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.PIPE)
        stderr = process.stderr.read().decode() if process.stderr else ""
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    return harness.checked(harness.Run(seconds, code, usage.ru_maxrss / 1024, "", stderr))


def commands(url: str, out: Path) -> dict[str, tuple[list[str], Callable[[Path], int]]]:
    """Name -> (the command, how many models its output holds)."""
    export = ("export", "--database-url", url, "--output", str(out))
    return {
        "export --format json": (
            harness.aisync_command(*export, "--format", "json"),
            _items,
        ),
        "export --format csv": (
            harness.aisync_command(*export, "--format", "csv"),
            lambda path: _lines(path) - 1,
        ),
        "models (piped)": (
            harness.aisync_command("models", "--database-url", url),
            lambda path: _lines(path) - 1,
        ),
    }


def _lines(path: Path) -> int:
    found = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            found += chunk.count(b"\n")
    return found


def _items(path: Path) -> int:
    """The objects of an indented JSON array of exported models: one `model_id` line each."""
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.startswith(b'    "model_id": '))


def measure(label: str, url: str, home: Path) -> list[harness.Goal]:
    env = harness.clean_environ(home)
    floor = harness.median_of(lambda: floor_select(url))
    goals = []
    for name, (command, count) in commands(url, home / "out").items():
        runs = []
        for _ in range(harness.RUNS):
            target = home / "stdout"
            runs.append(run_to_file(command, env, target))
            written = count(home / "out" if "export" in name else target)
            if written != MODELS:
                sys.exit(f"{label} {name}: wrote {written} models, expected {MODELS}")
        seconds = statistics.median(run.seconds for run in runs)
        rss = max(run.peak_rss_mb for run in runs)
        goals.append(harness.Goal(f"{label}: {name}", seconds, floor=floor, at_most_ratio=RATIO))
        goals.append(
            harness.Goal(f"{label}: {name}, peak RSS (worst)", rss, at_most=RSS_LIMIT_MB, unit="MB")
        )
    return goals


def main() -> int:
    harness.header("reads", f"export and models of {MODELS:,} models, whole process")
    backends: dict[str, Callable[[], str]] = {"SQLite": sqlite_catalog}
    postgres = os.environ.get("AISYNC_TEST_POSTGRES_URL")
    if postgres:
        backends["PostgreSQL"] = lambda: postgres_catalog(postgres)
    else:
        print("  (PostgreSQL skipped: AISYNC_TEST_POSTGRES_URL is not set)")
    goals = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, catalog in backends.items():
            goals.extend(measure(label, catalog(), Path(tmp)))
    return harness.report(goals)


if __name__ == "__main__":
    sys.exit(main())
