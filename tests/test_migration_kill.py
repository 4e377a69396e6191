"""SIGKILL during a migration on SQLite: every later run works and no data is lost.

Real processes, a real file: each one is killed a varied time after its database's rollback
journal appears (that is, inside a write transaction), or at a fixed time after start. The
next run must find a usable catalog: the migration either happened or rolled back whole.
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

from aisync.catalog import Catalog
from aisync.cli import cli
from aisync.db.connect import open_engine
from aisync.db.migrate import HEAD_REVISION, downgrade, ensure_schema, stored_revision

#: Seconds after the journal appears (None: after the start) at which each run is killed.
DELAYS = (0.0, 0.003, 0.01, 0.03, 0.1, None)
TABLES = ("sync_runs", "provider_syncs", "models", "model_versions", "model_events")
#: Extra models in the populated catalog, so that rebuilding `model_versions` takes a while.
EXTRA_MODELS = 3000


def killed(arguments: list[str], database: Path, delay: float | None) -> None:
    """Run `aisync ARGUMENTS` and SIGKILL it `delay` seconds into its first transaction."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aisync", *arguments],
        env={**os.environ, "AISYNC_DATABASE_URL": f"sqlite:///{database}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = database.with_name(database.name + "-journal")
    deadline = time.monotonic() + (1.0 if delay is None else 10.0)
    while process.poll() is None and time.monotonic() < deadline:
        if delay is not None and journal.exists():
            time.sleep(delay)
            break
        time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_a_first_use_killed_anywhere_leaves_a_usable_catalog(tmp_path: Path) -> None:
    for number, delay in enumerate(DELAYS):
        database = tmp_path / f"first{number}.db"
        killed(["sync-models", "--provider", "mock"], database, delay)
        url = f"sqlite:///{database}"
        result = CliRunner().invoke(cli, ["sync-models", "--provider", "mock"], env=env(url))
        assert result.exit_code == 0, (delay, result.output)
        assert stored_revision(open_engine(url)) == HEAD_REVISION
        with Catalog(url) as catalog:
            assert len(catalog.models()) == 3


@pytest.fixture
def populated_0001(tmp_path: Path) -> Path:
    """A catalog at revision 0001 holding a synced provider and thousands of models."""
    database = tmp_path / "template.db"
    url = f"sqlite:///{database}"
    assert (
        CliRunner().invoke(cli, ["sync-models", "--provider", "mock"], env=env(url)).exit_code == 0
    )
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


def test_an_upgrade_killed_anywhere_is_finished_by_db_upgrade(
    tmp_path: Path, populated_0001: Path
) -> None:
    before = counts(populated_0001)
    for number, delay in enumerate(DELAYS):
        database = tmp_path / f"upgrade{number}.db"
        shutil.copy(populated_0001, database)
        killed(["db", "upgrade"], database, delay)
        url = f"sqlite:///{database}"
        result = CliRunner().invoke(cli, ["db", "upgrade"], env=env(url))
        assert result.exit_code == 0, (delay, result.output)
        assert stored_revision(open_engine(url)) == HEAD_REVISION
        assert counts(database) == before, delay
        with Catalog(url) as catalog:
            assert len(catalog.models()) == 3 + EXTRA_MODELS


def test_a_sync_killed_during_its_upgrade_leaves_a_usable_catalog(
    tmp_path: Path, populated_0001: Path
) -> None:
    """sync-models upgrades an older catalog itself; killed there, the next run does it."""
    before = counts(populated_0001)
    for number, delay in enumerate(DELAYS[:2]):
        database = tmp_path / f"sync{number}.db"
        shutil.copy(populated_0001, database)
        killed(["sync-models", "--provider", "mock"], database, delay)
        url = f"sqlite:///{database}"
        ensure_schema(open_engine(url))
        after = counts(database)
        assert {table: after[table] for table in ("models", "model_versions")} == {
            table: before[table] for table in ("models", "model_versions")
        }, delay


def counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        found = {
            table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in TABLES
        }
        found["current_models"] = connection.execute(
            "SELECT COUNT(*) FROM current_models"
        ).fetchone()[0]
    connection.close()
    return found


def env(url: str) -> dict[str, str]:
    return {"AISYNC_DATABASE_URL": url}
