"""The `sync_finished` hook: called once per run with the report; its failures never count."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aisync import hookimpl
from aisync.report import SyncReport
from aisync.settings import Settings
from aisync.sync.engine import Syncer


class Recorder:
    def __init__(self) -> None:
        self.reports: list[SyncReport] = []

    @hookimpl
    def sync_finished(self, report: SyncReport, settings: Settings) -> None:
        self.reports.append(report)


class Broken:
    @hookimpl
    def sync_finished(self, report: SyncReport, settings: Settings) -> None:
        raise RuntimeError("the webhook is down")


def test_called_once_with_the_report_of_each_run(sqlite_url: str) -> None:
    recorder = Recorder()
    syncer = Syncer(sqlite_url, plugins=[recorder])
    first = syncer.sync_models(["mock"])
    dry = syncer.sync_models(["mock"], dry_run=True, force=True)
    nothing = syncer.sync_models(["nope"])
    syncer.close()
    assert recorder.reports == [first, dry, nothing]
    assert first.results[0].added == 3
    assert dry.dry_run
    assert nothing.message is not None and nothing.exit_code == 1


def test_a_failing_hook_is_logged_and_changes_nothing(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    syncer = Syncer(sqlite_url, plugins=[Broken(), recorder])
    with caplog.at_level(logging.DEBUG, logger="aisync"):
        report = syncer.sync_models(["mock"])
    syncer.close()
    assert report.exit_code == 0
    assert recorder.reports == [report], "the other plugins still get the report"
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "aisync"
    assert warning.getMessage().endswith("failed: RuntimeError: the webhook is down")
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)


def test_cli_exit_code_is_untouched_by_a_failing_hook(plugin_site: Path, sqlite_url: str) -> None:
    """In a real process: the sync succeeds and the failure is one line on stderr."""
    import os
    import subprocess
    import sys

    from tests.plugin_dist import write_plugin_dist

    source = (
        "from aisync import hookimpl\n\n@hookimpl\ndef sync_finished(report, settings):\n"
        "    raise RuntimeError('boom')\n"
    )
    write_plugin_dist(plugin_site, dist="aisync-notify", module="aisync_notify", source=source)
    env = {**os.environ, "PYTHONPATH": str(plugin_site), "AISYNC_DATABASE_URL": sqlite_url}
    result = subprocess.run(
        [sys.executable, "-m", "aisync", "sync-models", "--provider", "mock"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "Sync completed successfully!" in result.stdout
    assert result.stderr == "sync_finished hook of aisync_notify failed: RuntimeError: boom\n"
