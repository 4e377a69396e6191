"""SIGKILL during a migration on SQLite: every later run works and no data is lost.

Real `aisync` processes on a real file. Each one reports every SQL statement before it runs
it (a SQLAlchemy event hook: aisync's own code is untouched) and waits for a go-ahead, so
the test can kill it at chosen points spread over the whole migration: after the Nth
statement was let through, plus a varied few milliseconds. The next run must find a usable
catalog: each migration either happened or rolled back whole.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event

from aisync.catalog.catalog import Catalog
from aisync.cli import cli
from aisync.db.connect import open_engine
from aisync.db.migrate import HEAD_REVISION, downgrade, ensure_schema, stored_revision

TABLES = ("sync_runs", "provider_syncs", "models", "model_versions", "model_events")
#: Extra models in the populated catalog, so that its migration has data to keep.
EXTRA_MODELS = 3000
MARK = "@@sql "

#: Runs aisync with a hook that announces each statement on stderr and waits for stdin;
#: one statement at a time, since a run executes statements from more than one thread (a
#: fetch checks its provider's freshness while the write step reads the stored listing).
CHILD = f"""
import sys
import threading
from sqlalchemy import Engine, event

one_at_a_time = threading.Lock()

def announce(connection, cursor, statement, *args):
    with one_at_a_time:
        sys.stderr.write({MARK!r} + " ".join(statement.split())[:60] + "\\n")
        sys.stderr.flush()
        sys.stdin.readline()

event.listen(Engine, "before_cursor_execute", announce)
from aisync.cli import main
sys.argv = ["aisync", *sys.argv[1:]]
main()
"""


def run(arguments: list[str], database: Path, kill_after: int) -> None:
    """Run `aisync ARGUMENTS`; SIGKILL it once `kill_after` statements were let through,
    a varied millisecond or three into the last one."""
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, *arguments],
        env={**os.environ, "AISYNC_DATABASE_URL": f"sqlite:///{database}"},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stderr is not None
    seen = 0
    for line in process.stderr:
        if not line.startswith(MARK):
            continue
        seen += 1
        process.stdin.write("\n")
        process.stdin.flush()
        if seen == kill_after:
            time.sleep((seen % 4) * 0.001)
            process.send_signal(signal.SIGKILL)
            break
    process.wait()


def kill_points(arguments: list[str], database: Path, kills: int) -> list[int]:
    """`kills` statement counts spread over a whole run of `arguments` against a copy.

    The run is counted in-process (the statements are the same, the start-up is quicker).
    """
    calibration = database.with_name("calibration-" + database.name)
    if database.exists():
        shutil.copy(database, calibration)
    statements: list[str] = []
    count = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(Engine, "before_cursor_execute", count)
    try:
        result = CliRunner().invoke(cli, arguments, env=env(f"sqlite:///{calibration}"))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert result.exit_code == 0, result.output
    total = len(statements)
    return sorted({1 + (total - 1) * n // (kills - 1) for n in range(kills)})


def test_a_first_use_killed_anywhere_leaves_a_usable_catalog(tmp_path: Path) -> None:
    arguments = ["sync-models", "--provider", "mock"]
    for point in kill_points(arguments, tmp_path / "first.db", 7):
        database = tmp_path / f"first{point}.db"
        run(arguments, database, kill_after=point)
        url = f"sqlite:///{database}"
        result = CliRunner().invoke(cli, arguments, env=env(url))
        assert result.exit_code == 0, (point, result.output)
        assert stored_revision(open_engine(url)) == HEAD_REVISION
        with Catalog(url) as catalog:
            assert len(catalog.models()) == 3


@pytest.fixture
def populated_0001(tmp_path: Path) -> Path:
    """A catalog at revision 0001 holding a synced provider and thousands of models."""
    database = tmp_path / "template.db"
    url = f"sqlite:///{database}"
    result = CliRunner().invoke(cli, ["sync-models", "--provider", "mock"], env=env(url))
    assert result.exit_code == 0
    engine = open_engine(url)
    downgrade(engine, "0001")
    engine.dispose()
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO models (provider, model_id, first_seen_at, last_seen_at) "
            "VALUES ('bulk', ?, '2026-01-01', '2026-01-01')",
            [(f"model-{n}",) for n in range(EXTRA_MODELS)],
        )
        connection.execute(
            "INSERT INTO model_versions (model, version, run_id, content_hash, capabilities, "
            "raw, created_at) SELECT id, 1, 1, 'x', '[]', '{\"pad\": \"" + "p" * 200 + "\"}', "
            "'2026-01-01' FROM models WHERE provider = 'bulk'"
        )
    connection.close()
    return database


@pytest.mark.parametrize(
    ("arguments", "kills"),
    [(["db", "upgrade"], 6), (["sync-models", "--provider", "mock"], 4)],
    ids=["db", "sync"],
)
def test_an_upgrade_killed_anywhere_is_finished_by_the_next_run(
    tmp_path: Path, populated_0001: Path, arguments: list[str], kills: int
) -> None:
    """`db upgrade`, or sync-models upgrading an older catalog itself, killed anywhere:
    `db upgrade` finishes the job and every model and version is still there."""
    before = counts(populated_0001)
    for point in kill_points(arguments, populated_0001, kills):
        database = tmp_path / f"upgrade{point}.db"
        shutil.copy(populated_0001, database)
        run(arguments, database, kill_after=point)
        url = f"sqlite:///{database}"
        result = CliRunner().invoke(cli, ["db", "upgrade"], env=env(url))
        assert result.exit_code == 0, (point, result.output)
        assert stored_revision(open_engine(url)) == HEAD_REVISION
        after = counts(database)
        for table in ("models", "model_versions", "current_models"):
            assert after[table] == before[table], (point, table)
        with Catalog(url) as catalog:
            assert len(catalog.models()) == 3 + EXTRA_MODELS
        ensure_schema(open_engine(url))


def counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        found = {
            table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (*TABLES, "current_models")
        }
    connection.close()
    return found


def env(url: str) -> dict[str, str]:
    return {"AISYNC_DATABASE_URL": url}
