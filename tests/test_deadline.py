"""A provider's total deadline: a trickling server or a plugin that never returns fails its
provider alone (`Timed out after N s`), and every other provider is written as soon as it
is done, in the order the fetches end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aisync import hookimpl
from aisync.records import ModelRecord, ProviderInfo
from aisync.settings import load_settings
from aisync.sync.engine import Syncer
from tests.cli import query, run
from tests.fakeserver import FakeServer, Reply
from tests.plugin_dist import write_plugin_dist

SYNC = ["sync-models"]
LISTING = b'{"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]}'

#: A plugin whose fetch never returns: it waits for an event nobody sets.
HANGS = """
import threading

from aisync import hookimpl
from aisync.records import ProviderInfo

NEVER = threading.Event()


@hookimpl
def discover_providers(settings):
    return [ProviderInfo(name="hangs", display_name="Hangs", requires_api_key=False)]


@hookimpl
def fetch_models(provider, client, settings):
    if provider.type != "hangs":
        return None
    NEVER.wait()
    return []
"""


@pytest.fixture
def trickle_url() -> Iterator[str]:
    """A server that answers 200 at once, then sends its body one byte every 0.2 s (14 s in
    all): each read is quick, so only a deadline on the whole fetch stops it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(LISTING)}\r\n"
            connection.sendall((head + "Content-Type: application/json\r\n\r\n").encode())
            for byte in LISTING:
                if stop.wait(0.2):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    listener.close()


def test_a_trickling_server_is_cut_at_the_deadline(trickle_url: str, sqlite_url: str) -> None:
    env = {
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_OPENAI_API_KEY": "sk-trickle-0123",
        "AISYNC_OPENAI_BASE_URL": trickle_url,
    }
    started = time.monotonic()
    providers = ["--provider", "openai", "--provider", "mock"]
    result = run([*SYNC, *providers, "--timeout", "1", "--deadline", "1.5"], env)
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert result.stderr == "\nErrors encountered:\n- openai: Timed out after 1.5 s\n"
    assert "mock:\n  ✓ Found 3 models\n" in result.stdout
    assert elapsed < 10
    rows = "SELECT provider, status, error, duration_ms FROM provider_syncs ORDER BY id"
    [mock, openai] = query(sqlite_url, rows)
    assert mock[:3] == ("mock", "synced", None)
    assert openai[:3] == ("openai", "failed", "Timed out after 1.5 s")
    assert 1500 <= openai[3] < 3000
    assert query(sqlite_url, "SELECT status, exit_code FROM sync_runs") == [("partial", 2)]


def test_the_deadline_defaults_to_six_timeouts_and_is_configurable() -> None:
    assert load_settings({"database_url": "sqlite://"}, environ={}).deadline == 180
    timeout = load_settings({"database_url": "sqlite://", "timeout": 5}, environ={})
    assert timeout.deadline == 30
    env = {"AISYNC_PROVIDER_DEADLINE": "2m", "AISYNC_TIMEOUT": "5"}
    assert load_settings({"database_url": "sqlite://"}, environ=env).deadline == 120


def test_a_fetch_that_never_returns_neither_hangs_the_run_nor_blocks_exit(
    plugin_site: Path, sqlite_url: str
) -> None:
    write_plugin_dist(plugin_site, dist="aisync-hangs", module="aisync_hangs", source=HANGS)
    env = {
        **os.environ,
        "PYTHONPATH": str(plugin_site),
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_PROVIDER_DEADLINE": "1",
        "PYTHONFAULTHANDLER": "1",
    }
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "aisync", *SYNC, "--provider", "hangs", "--provider", "mock"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert process.returncode == 2, process.stderr
    assert time.monotonic() - started < 10
    assert process.stderr == "\nErrors encountered:\n- hangs: Timed out after 1 s\n"
    assert query(sqlite_url, "SELECT provider, status FROM provider_syncs ORDER BY id") == [
        ("mock", "synced"),
        ("hangs", "failed"),
    ]


class Slow:
    """`hung` never answers (until the test ends); `slow` answers after a second."""

    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    def discover_providers(self, settings: object) -> list[ProviderInfo]:
        return [
            ProviderInfo(name=name, display_name=name, requires_api_key=False)
            for name in ("hung", "slow")
        ]

    @hookimpl
    def fetch_models(self, provider: Any, client: object, settings: object) -> Any:
        if provider.type == "hung":
            self.release.wait()
            return [ModelRecord("late")]
        if provider.type == "slow":
            time.sleep(1)
            return [ModelRecord("slow-1")]
        return None


def test_providers_are_written_as_they_finish_and_a_hung_one_frees_its_lock(
    database_url: str,
) -> None:
    plugin = Slow()
    settings = load_settings({"database_url": database_url, "provider_deadline": 2}, environ={})
    syncer = Syncer(settings=settings, plugins=[plugin])
    try:
        report = syncer.sync_models(["hung", "slow", "mock"], lock_timeout=0)
        outcome = [(r.provider, r.status, r.error) for r in report.results]
        assert outcome == [
            ("hung", "failed", "Timed out after 2 s"),
            ("slow", "synced", None),
            ("mock", "synced", None),
        ]
        rows = query(database_url, "SELECT provider FROM provider_syncs ORDER BY id")
        assert rows == [("mock",), ("slow",), ("hung",)]
        # The hung fetch thread still runs, but its provider is no longer locked.
        again = syncer.sync_models(["hung"], lock_timeout=0)
        assert [(r.status, r.error) for r in again.results] == [("failed", "Timed out after 2 s")]
    finally:
        plugin.release.set()
        syncer.close()


def test_a_long_fetch_within_its_deadline_still_syncs(
    fake_server: FakeServer, sqlite_url: str
) -> None:
    """The deadline counts the whole fetch, so a slow answer inside it is not cut."""
    fake_server.route("/v1/models", Reply(200, {"data": [{"id": "gpt-4o"}]}, delay=1))
    env = {
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_OPENAI_API_KEY": "sk-slow-0123",
        "AISYNC_OPENAI_BASE_URL": f"{fake_server.url}/v1",
    }
    result = run(["sync-models", "--provider", "openai", "--timeout", "3", "--deadline", "5"], env)
    assert result.exit_code == 0, result.output
    assert "openai:\n  ✓ Found 1 model" in result.stdout
