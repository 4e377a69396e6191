"""Ctrl-C (SIGINT) and SIGTERM (cron, systemd, Kubernetes) stop a run quickly, on every
backend: exit 130 or 143 within a couple of seconds, the run recorded as `aborted`."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.cli import ctrl_c_enabled
from tests.fakeserver import FakeServer, Reply
from tests.plugin_dist import write_plugin_dist
from tests.plugins_src import FAKEAI

LISTING = {"data": [{"id": "fake-1"}, {"id": "fake-2"}, {"id": "other"}]}
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def start_sync(plugin_site: Path, server: FakeServer, url: str) -> subprocess.Popen[str]:
    """`aisync sync-models` in a child process, syncing `fakeai` from the fake server."""
    write_plugin_dist(plugin_site, dist="aisync-fakeai", module="aisync_fakeai_sig", source=FAKEAI)
    env = {
        **os.environ,
        "PYTHONPATH": str(plugin_site),
        "AISYNC_DATABASE_URL": url,
        "AISYNC_FAKEAI_API_KEY": "k",
        "AISYNC_FAKEAI_BASE_URL": server.url,
        # A run that hangs is aborted below and prints where each of its threads stood.
        "PYTHONFAULTHANDLER": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "aisync", "sync-models", "--provider", "fakeai"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_enabled,
    )


def wait_for_request(server: FakeServer) -> None:
    deadline = time.monotonic() + 20
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.requests, "the sync never reached the provider"


def stop(process: subprocess.Popen[str], signum: int) -> tuple[float, str]:
    """Send `signum`; the seconds until the process exits, and its stderr."""
    started = time.monotonic()
    process.send_signal(signum)
    return wait_exit(process, started)


def wait_exit(process: subprocess.Popen[str], since: float) -> tuple[float, str]:
    try:
        _, stderr = process.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        raise AssertionError("no exit after the signal:\n" + process.communicate()[1]) from None
    return time.monotonic() - since, stderr


def runs(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, exit_code FROM sync_runs")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("signum", EXIT_CODES, ids=["SIGINT", "SIGTERM"])
def test_a_signal_aborts_the_run_quickly(
    signum: signal.Signals, plugin_site: Path, fake_server: FakeServer, database_url: str
) -> None:
    fake_server.route("/models", Reply(200, LISTING, delay=20))
    process = start_sync(plugin_site, fake_server, database_url)
    wait_for_request(fake_server)

    elapsed, stderr = stop(process, signum)

    assert process.returncode == EXIT_CODES[signum], stderr
    assert elapsed < 3, stderr
    assert "Traceback" not in stderr
    assert runs(database_url) == [("aborted", EXIT_CODES[signum])]


def test_ctrl_c_during_a_sqlite_read_still_records_the_abort(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Ctrl-C lands while the run reads a big stored listing (seen from outside as the
    read lock SQLite holds on the file): the read it cut short must not lock the run out of
    recording its abort for the 30 s busy timeout."""
    models = tmp_path / "models.json"
    models.write_text(json.dumps([{"id": f"m-{n}", "name": f"M {n}"} for n in range(20000)]))
    env = {**os.environ, "AISYNC_DATABASE_URL": sqlite_url, "AISYNC_MOCK_MODELS": str(models)}
    command = [sys.executable, "-m", "aisync", "sync-models", "--provider", "mock"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    path = sqlite_url.removeprefix("sqlite:///")
    process = subprocess.Popen(
        [*command, "--force"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_enabled,
    )
    wait_for_a_long_read(path, process)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)

    elapsed, stderr = wait_exit(process, started)

    assert process.returncode == 130, stderr
    assert elapsed < 3, stderr
    assert runs(sqlite_url) == [("succeeded", 0), ("aborted", 130)]


def wait_for_a_long_read(path: str, process: subprocess.Popen[str]) -> None:
    """Return once another process has held a read lock on the SQLite file for 50 ms: the
    run's reads of a few rows take a millisecond, that of the stored listing far longer.
    F_GETLK only asks who holds the lock; it never takes one."""
    shared_first, shared_size = 0x40000000 + 2, 510
    probe = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, shared_first, shared_size, 0)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        since = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            held = struct.unpack("hhqqi4x", fcntl.fcntl(descriptor, fcntl.F_GETLK, probe))[0]
            now = time.monotonic()
            if held == fcntl.F_UNLCK:
                since = None
            elif since is None:
                since = now
            elif now - since >= 0.05:
                return
            time.sleep(0.002)
    finally:
        os.close(descriptor)
    raise AssertionError("the run never read its stored listing")
