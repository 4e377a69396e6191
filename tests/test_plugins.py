"""Plugins found through real entry points: providers, statistics, and broken plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from aisync import hookimpl
from aisync.cli import cli
from aisync.records import ModelRecord, Provider, ProviderInfo
from aisync.settings import load_settings
from aisync.sync.engine import Syncer
from aisync.sync.plugins import get_plugin_manager
from tests.cli import ctrl_c_enabled
from tests.fakeserver import FakeServer, Reply
from tests.plugin_dist import write_plugin_dist
from tests.plugins_src import BROKEN_DISCOVERY, BROKEN_IMPORT, FAKEAI

LISTING = {"data": [{"id": "fake-1"}, {"id": "fake-2"}, {"id": "other"}]}


def test_builtin_providers_come_from_entry_points() -> None:
    plugins = get_plugin_manager()
    assert plugins.distributions["mock"][0] == "aisync"
    assert plugins.manager.get_plugin("mock") is not None


def test_external_plugin_adds_a_provider_and_a_statistic(
    plugin_site: Path, fake_server: FakeServer, sqlite_url: str
) -> None:
    write_plugin_dist(plugin_site, dist="aisync-fakeai", module="aisync_fakeai", source=FAKEAI)
    fake_server.route("/models", Reply(200, LISTING))
    settings = load_settings(
        {"database_url": sqlite_url},
        environ={"FAKEAI_API_KEY": "k-123", "AISYNC_FAKEAI_BASE_URL": fake_server.url},
    )
    syncer = Syncer(settings=settings)
    assert syncer.plugins.distributions["aisync_fakeai"] == ("aisync-fakeai", "1.0.0")
    report = syncer.sync_models()
    [result] = report.results
    assert (result.provider, result.status, result.models_found) == ("fakeai", "synced", 3)
    assert result.stats == {"Total": 3.0, "Fake family": 2.0, "Chat": 3.0}
    syncer.close()


def test_broken_plugins_are_skipped_and_explained_with_verbose(
    plugin_site: Path, sqlite_url: str
) -> None:
    write_plugin_dist(plugin_site, dist="bad-one", module="aisync_bad_one", source=BROKEN_IMPORT)
    write_plugin_dist(plugin_site, dist="bad-two", module="aisync_bad_two", source=BROKEN_DISCOVERY)
    env = {"AISYNC_DATABASE_URL": sqlite_url}
    result = CliRunner().invoke(cli, ["sync-models", "--provider", "mock", "-v"], env=env)
    assert result.exit_code == 0
    assert "✓ Found 3 models" in result.stdout
    assert (
        "Skipping aisync_bad_one: ImportError: this plugin needs a missing dependency"
        in result.stderr
    )
    assert (
        "Skipping aisync_bad_two: RuntimeError: cannot reach the plugin's registry" in result.stderr
    )
    quiet = CliRunner().invoke(cli, ["sync-models", "--provider", "mock", "--force"], env=env)
    assert "Skipping" not in quiet.stderr


def test_plugin_passed_directly_by_an_embedding_app(sqlite_url: str) -> None:
    class ExtraStats:
        @hookimpl
        def compute_stats(self, provider: Provider, models: list[ModelRecord]) -> dict[str, int]:
            return {"Basic": sum(m.model_id.endswith("basic") for m in models)}

    syncer = Syncer(sqlite_url, plugins=[ExtraStats()])
    report = syncer.sync_models(["mock"])
    assert report.results[0].stats["Basic"] == 1
    figures = list(report.results[0].stats)
    assert figures[0] == "Total" and figures[-1] == "Basic"  # after the counts
    syncer.close()


def test_a_raw_payload_that_is_not_json_fails_only_its_provider(sqlite_url: str) -> None:
    """A set, or an object that contains itself, cannot be hashed or stored as JSON."""
    looping: dict[str, object] = {"id": "loop"}
    looping["self"] = looping

    class Odd:
        @hookimpl
        def discover_providers(self, settings: object) -> list[ProviderInfo]:
            return [
                ProviderInfo(name=name, display_name=name, requires_api_key=False)
                for name in ("sets", "loops")
            ]

        @hookimpl
        def fetch_models(self, provider: Provider) -> list[ModelRecord] | None:
            if provider.type == "sets":
                return [ModelRecord("odd", raw={"tags": {"a", "b"}})]
            if provider.type == "loops":
                return [ModelRecord("loop", raw=looping)]
            return None

    syncer = Syncer(sqlite_url, plugins=[Odd()])
    report = syncer.sync_models(["sets", "loops", "mock"])
    syncer.close()
    outcome = {r.provider: (r.status, r.error) for r in report.results}
    for name in ("sets", "loops"):
        status, error = outcome[name]
        assert status == "failed"
        assert error is not None and error.startswith(
            "Plugin returned a raw payload that is not JSON"
        )
    assert outcome["mock"][0] == "synced"
    assert report.exit_code == 2


def test_entry_point_plugin_works_in_a_real_subprocess(
    plugin_site: Path, fake_server: FakeServer, sqlite_url: str
) -> None:
    write_plugin_dist(plugin_site, dist="aisync-fakeai", module="aisync_fakeai3", source=FAKEAI)
    fake_server.route("/models", Reply(200, LISTING))
    env = {
        **os.environ,
        "PYTHONPATH": str(plugin_site),
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_FAKEAI_API_KEY": "k",
        "AISYNC_FAKEAI_BASE_URL": fake_server.url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "aisync", "sync-models", "-v"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fakeai:\n  ✓ Found 3 models\n" in result.stdout
    assert "    - Fake family: 2\n" in result.stdout


def test_ctrl_c_records_the_run_as_aborted_and_exits_130(
    plugin_site: Path, fake_server: FakeServer, sqlite_url: str
) -> None:
    import signal
    import time

    write_plugin_dist(plugin_site, dist="aisync-fakeai", module="aisync_fakeai4", source=FAKEAI)
    fake_server.route("/models", Reply(200, LISTING, delay=20))
    env = {
        **os.environ,
        "PYTHONPATH": str(plugin_site),
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_FAKEAI_API_KEY": "k",
        "AISYNC_FAKEAI_BASE_URL": fake_server.url,
        # A run that hangs is aborted below and prints where each of its threads stood.
        "PYTHONFAULTHANDLER": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "aisync", "sync-models", "--provider", "fakeai"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_enabled,
    )
    deadline = time.monotonic() + 15
    while not fake_server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_server.requests, "the sync never reached the provider"
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        raise AssertionError("no exit after Ctrl-C:\n" + process.communicate()[1]) from None
    assert process.returncode == 130, stderr
    assert time.monotonic() - started < 5
    assert "Traceback" not in stderr
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT status, exit_code FROM sync_runs")).all()
    engine.dispose()
    assert [tuple(r) for r in runs] == [("aborted", 130)]


def test_a_plugin_may_yield_its_listing_page_by_page(sqlite_url: str) -> None:
    """A listing read lazily syncs like a list; one that breaks off midway fails its
    provider with a mapped message and leaves what was stored untouched."""
    pages = {"first": [ModelRecord(f"m-{n}", raw={"n": n}) for n in range(3)]}
    broken = {"on": False}

    class Paged:
        @hookimpl
        def discover_providers(self, settings: object) -> list[ProviderInfo]:
            return [ProviderInfo(name="paged", display_name="Paged", requires_api_key=False)]

        @hookimpl
        def fetch_models(self, provider: Provider) -> Iterator[ModelRecord] | None:
            return self._listing() if provider.type == "paged" else None

        def _listing(self) -> Iterator[ModelRecord]:
            yield from pages["first"]
            if broken["on"]:
                raise ConnectionResetError("peer went away")
            yield ModelRecord("m-last", raw={"n": "last"})

    syncer = Syncer(sqlite_url, plugins=[Paged()])
    first = syncer.sync_models(["paged"])
    assert [r.model_ids for r in first.results] == [("m-0", "m-1", "m-2", "m-last")]
    assert first.exit_code == 0

    broken["on"] = True
    second = syncer.sync_models(["paged"], force=True)
    (result,) = second.results
    assert (result.status, result.error) == (
        "failed",
        "Plugin Paged failed: ConnectionResetError: peer went away",
    )
    syncer.close()
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT m.model_id, m.removed_at, v.raw FROM models m"
                " JOIN model_versions v ON v.model = m.id ORDER BY m.model_id"
            )
        ).all()
    engine.dispose()
    assert [(model_id, removed) for model_id, removed, _ in stored] == [
        ("m-0", None),
        ("m-1", None),
        ("m-2", None),
        ("m-last", None),
    ]
    assert json.loads(stored[-1][2]) == {"n": "last"}
