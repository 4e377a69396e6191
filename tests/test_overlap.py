"""Overlapping runs and crashes, with real processes against every backend.

Two cron jobs that start at the same moment must not both write a provider; a run killed
with SIGKILL must leave no half-written provider and be marked `aborted` by the next run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from aisync.db.connect import open_engine, sqlite_path
from aisync.db.locks import acquire, locks_for
from tests.fakeserver import FakeServer, Reply

#: The shape of OpenAI's GET /v1/models (see ../shared/providers/openai).
LISTING = {
    "object": "list",
    "data": [
        {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
        {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
    ],
}


@pytest.fixture
def environ(database_url: str, fake_server: FakeServer) -> dict[str, str]:
    """A child process's environment: the catalog and an OpenAI served by the fake server."""
    return {
        **os.environ,
        "AISYNC_DATABASE_URL": database_url,
        "AISYNC_OPENAI_API_KEY": "sk-test-overlap",
        "AISYNC_OPENAI_BASE_URL": fake_server.url,
        "AISYNC_RETRIES": "0",
    }


def start(environ: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aisync", "sync-models", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def rows(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)))
    finally:
        engine.dispose()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def test_two_runs_at_once_write_a_provider_once(
    environ: dict[str, str], fake_server: FakeServer, database_url: str
) -> None:
    fake_server.route("/models", Reply(200, LISTING, delay=2.0))
    first = start(environ, "--provider", "openai", "--lock-timeout", "0.2")
    second = start(environ, "--provider", "openai", "--lock-timeout", "0.2")
    outcomes = sorted([finish(first), finish(second)], key=lambda o: "Skipped" in o[1])

    (code_a, out_a, err_a), (code_b, out_b, err_b) = outcomes
    assert (code_a, code_b) == (0, 0), err_a + err_b
    assert "✓ Found 2 models" in out_a
    assert "⏭ Skipped (locked)" in out_b
    assert len(fake_server.requests) == 1
    assert rows(database_url, "SELECT status, reason FROM provider_syncs ORDER BY status") == [
        ("skipped", "locked"),
        ("synced", None),
    ]
    assert rows(database_url, "SELECT COUNT(*), COUNT(DISTINCT model) FROM model_versions") == [
        (2, 2)
    ]


def test_a_run_that_waited_for_the_lock_finds_the_provider_fresh(
    environ: dict[str, str], fake_server: FakeServer, database_url: str
) -> None:
    fake_server.route("/models", Reply(200, LISTING, delay=1.0))
    first = start(environ, "--provider", "openai", "--lock-timeout", "30")
    wait_for(lambda: len(fake_server.requests) == 1, "the first run's request")
    second = start(environ, "--provider", "openai", "--lock-timeout", "30")

    assert finish(first)[0] == 0
    code, stdout, stderr = finish(second)
    assert code == 0, stderr
    assert "⏭ Skipped (cache_valid)" in stdout
    assert len(fake_server.requests) == 1


def test_forced_runs_take_turns_and_add_no_duplicate_versions(
    environ: dict[str, str], fake_server: FakeServer, database_url: str
) -> None:
    fake_server.route("/models", Reply(200, LISTING, delay=0.5))
    runs = [start(environ, "--force", "--lock-timeout", "30") for _ in range(3)]
    assert [finish(run)[0] for run in runs] == [0, 0, 0]

    assert len(fake_server.requests) == 3
    synced = rows(
        database_url,
        "SELECT models_added FROM provider_syncs WHERE status = 'synced' ORDER BY started_at",
    )
    assert sorted(added for (added,) in synced) == [0, 0, 2]
    assert rows(database_url, "SELECT COUNT(*) FROM model_versions") == [(2,)]


def test_sigkill_during_a_fetch_leaves_the_run_to_be_marked_aborted(
    environ: dict[str, str], fake_server: FakeServer, database_url: str
) -> None:
    fake_server.route("/models", Reply(200, LISTING, delay=30), Reply(200, LISTING))
    doomed = start(environ, "--provider", "openai", "--lock-timeout", "0")
    wait_for(lambda: len(fake_server.requests) == 1, "the doomed run's request")
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)
    assert rows(database_url, "SELECT status FROM sync_runs") == [("running",)]

    code, stdout, stderr = finish(start(environ, "--provider", "openai", "--lock-timeout", "0"))

    assert code == 0, stderr
    assert "✓ Found 2 models" in stdout
    assert rows(database_url, "SELECT id, status FROM sync_runs ORDER BY id") == [
        (1, "aborted"),
        (2, "succeeded"),
    ]


@pytest.fixture
def big_mock_listing(tmp_path: Path, environ: dict[str, str]) -> int:
    """A mock listing big enough that writing it takes a while to kill in the middle."""
    count = 20_000
    models = [
        {"id": f"model-{n:05d}", "context_window": 1000 + n, "capabilities": ["chat"]}
        for n in range(count)
    ]
    path = tmp_path / "models.json"
    path.write_text(json.dumps(models), encoding="utf-8")
    environ["AISYNC_MOCK_MODELS"] = str(path)
    return count


@contextmanager
def write_probe(database_url: str) -> Iterator[Callable[[], bool]]:
    """Tells whether another process is inside a write transaction, per backend."""
    path = sqlite_path(database_url)
    if path is not None:
        yield path.with_name(path.name + "-journal").exists
        return
    engine = create_engine(database_url)
    query = {
        "postgresql": "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
        "mysql": "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE()"
        " AND info LIKE 'INSERT INTO model_versions%%'",
    }[engine.dialect.name]

    def in_transaction() -> bool:
        with engine.connect() as connection:
            return bool(connection.scalar(text(query)))

    try:
        yield in_transaction
    finally:
        engine.dispose()


def run_count(database_url: str) -> int:
    """Committed runs, or 0 while the schema is still being created."""
    try:
        return int(rows(database_url, "SELECT COUNT(*) FROM sync_runs")[0][0])
    except SQLAlchemyError:
        return 0


def test_sigkill_during_the_write_leaves_no_half_written_provider(
    environ: dict[str, str], database_url: str, big_mock_listing: int
) -> None:
    doomed = start(environ, "--provider", "mock")
    wait_for(lambda: run_count(database_url) == 1, "the doomed run's row")
    with write_probe(database_url) as in_transaction:
        wait_for(in_transaction, "the doomed run's write transaction")
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)

    assert rows(database_url, "SELECT COUNT(*) FROM models") == [(0,)]
    assert rows(database_url, "SELECT COUNT(*) FROM model_versions") == [(0,)]
    assert rows(database_url, "SELECT COUNT(*) FROM provider_syncs") == [(0,)]

    code, _, stderr = finish(start(environ, "--provider", "mock"))
    assert code == 0, stderr
    assert rows(database_url, "SELECT COUNT(*), COUNT(DISTINCT model) FROM model_versions") == [
        (big_mock_listing, big_mock_listing)
    ]
    assert rows(database_url, "SELECT status FROM sync_runs ORDER BY id") == [
        ("aborted",),
        ("succeeded",),
    ]


HOLDER = """
import sys, time
from aisync.db.connect import open_engine
from aisync.db.locks import locks_for
lock = locks_for(open_engine(sys.argv[1])).try_acquire("provider:openai")
print("held" if lock else "busy", flush=True)
time.sleep(60)
"""


def test_a_lock_dies_with_its_process(database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    locks = locks_for(open_engine(database_url))
    try:
        assert acquire(locks, "provider:openai", timeout=0.2) is None
        other = acquire(locks, "provider:other", timeout=0)
        assert other is not None
        other.release()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        lock = acquire(locks, "provider:openai", timeout=10)
        assert lock is not None
        lock.release()
    finally:
        holder.kill()
        locks.dispose()


def test_a_forced_run_fetches_at_once_and_writes_only_under_the_lock(
    environ: dict[str, str], fake_server: FakeServer, database_url: str
) -> None:
    """A forced run fetches before it opens the catalog (the database layer loads while
    providers answer); it still writes only once it holds the provider's lock."""
    fake_server.route("/models", Reply(200, LISTING))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        args = ("--force", "--provider", "openai")
        code, stdout, stderr = finish(start(environ, *args, "--lock-timeout", "0.3"))
        assert code == 0, stderr
        assert "⏭ Skipped (locked)" in stdout
        assert len(fake_server.requests) == 1
        assert rows(database_url, "SELECT status, reason FROM provider_syncs") == [
            ("skipped", "locked")
        ]
        assert rows(database_url, "SELECT COUNT(*) FROM model_versions") == [(0,)]

        waiting = start(environ, *args, "--lock-timeout", "30")
        wait_for(lambda: len(fake_server.requests) == 2, "the waiting run's request")
        holder.kill()
        code, stdout, stderr = finish(waiting)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert code == 0, stderr
    assert "✓ Found 2 models" in stdout
    assert rows(database_url, "SELECT COUNT(*) FROM model_versions") == [(2,)]


def test_a_forced_run_that_cannot_register_leaves_no_provider_locked(sqlite_url: str) -> None:
    """Its fetches started before the run's row failed to be written; none of them may go
    on to take (and, in a long-lived app, keep) the provider's lock."""
    from aisync.errors import DatabaseError
    from aisync.sync.engine import Syncer

    syncer = Syncer(sqlite_url)
    assert syncer.sync_models(["mock"]).exit_code == 0
    with syncer.engine().begin() as connection:
        connection.execute(text("ALTER TABLE sync_runs RENAME TO sync_runs_away"))
    with pytest.raises(DatabaseError, match="sync_runs"):
        syncer.sync_models(["mock"], force=True)
    for thread in threading.enumerate():
        if thread.name.startswith("aisync-fetch-"):
            thread.join(timeout=30)
    syncer.close()
    locks = locks_for(open_engine(sqlite_url))
    lock = acquire(locks, "provider:mock", timeout=0)
    assert lock is not None, "the provider was left locked"
    lock.release()
    locks.dispose()
