"""`aisync sync-models` through click's CliRunner: options, output blocks, exit codes."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.cli import run
from tests.fakeserver import FakeServer, Reply
from tests.plugin_dist import write_plugin_dist
from tests.plugins_src import FAKEAI

LISTING = {"object": "list", "data": [{"id": "fake-1"}, {"id": "fake-2"}, {"id": "other-3"}]}


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return {"AISYNC_DATABASE_URL": sqlite_url}


@pytest.fixture
def fakeai(plugin_site: Path, fake_server: FakeServer, env: dict[str, str]) -> FakeServer:
    """The `fakeai` plugin installed through an entry point, pointed at the fake server."""
    write_plugin_dist(plugin_site, dist="aisync-fakeai", module="aisync_fakeai", source=FAKEAI)
    fake_server.route("/models", Reply(200, LISTING))
    env["AISYNC_FAKEAI_API_KEY"] = "fake-key-123"
    env["AISYNC_FAKEAI_BASE_URL"] = fake_server.url
    return fake_server


def dump(url: str) -> dict[str, list[Any]]:
    engine = create_engine(url)
    tables = ["sync_runs", "provider_syncs", "models", "model_versions", "provider_stats"]
    with engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in tables}


def test_first_sync_prints_the_seed_blocks(env: dict[str, str]) -> None:
    result = run(["sync-models", "--provider", "mock"], env)
    assert result.exit_code == 0
    assert result.stdout == (
        "Syncing models from AI providers...\n\n"
        "mock:\n"
        "  ✓ Found 3 models\n"
        "  ✓ Statistics updated\n\n"
        "Sync completed successfully!\n"
        "Total: 3 models synced across 1 provider\n"
        f"Catalog created at {env['AISYNC_DATABASE_URL'].removeprefix('sqlite:///')}: "
        "browse it with `aisync models`.\n"
    )


def test_second_run_is_skipped_as_fresh_and_force_resyncs(env: dict[str, str]) -> None:
    run(["sync-models", "--provider", "mock"], env)
    second = run(["sync-models", "--provider", "mock"], env)
    assert second.exit_code == 0
    assert "  ⏭ Skipped (cache_valid)\n    Last sync: just now\n" in second.stdout
    assert "Total: 0 models synced across 0 providers" in second.stdout
    forced = run(["sync-models", "--provider", "mock", "--force"], env)
    assert forced.exit_code == 0
    assert "✓ Found 3 models" in forced.stdout


def test_cache_ttl_zero_means_always_stale(env: dict[str, str]) -> None:
    env["AISYNC_CACHE_TTL"] = "0"
    run(["sync-models", "--provider", "mock"], env)
    assert "✓ Found 3 models" in run(["sync-models", "--provider", "mock"], env).stdout


def test_verbose_prints_statistics_and_changes(env: dict[str, str]) -> None:
    result = run(["sync-models", "--provider", "mock", "-v"], env)
    assert "    - Total: 3\n" in result.stdout
    assert "    - Function calling: 2\n" in result.stdout
    assert "    - Vision: 1\n" in result.stdout
    assert "    3 added, 0 changed, 0 removed\n" in result.stdout


def test_quiet_prints_nothing_on_success(env: dict[str, str]) -> None:
    result = run(["sync-models", "--provider", "mock", "--quiet"], env)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_json_report(env: dict[str, str]) -> None:
    result = run(["sync-models", "--provider", "mock", "--json"], env)
    report = json.loads(result.stdout)
    assert report["exit_code"] == 0
    assert report["status"] == "succeeded"
    assert report["total_models"] == 3
    [mock] = report["providers"]
    assert (mock["provider"], mock["status"], mock["added"]) == ("mock", "synced", 3)
    assert mock["stats"]["Total"] == 3


def test_mock_is_skipped_in_production_unless_named(env: dict[str, str]) -> None:
    result = run(["sync-models"], env)
    assert result.exit_code == 1
    assert result.stderr.startswith("No providers available for synchronization")
    env["AISYNC_ENV"] = "development"
    assert run(["sync-models"], env).exit_code == 0


def test_unknown_provider_is_one_line_and_exit_1(env: dict[str, str]) -> None:
    result = run(["sync-models", "--provider", "nope"], env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Unknown provider 'nope'. Available: ")
    assert "mock" in lines[0]


def test_provider_without_credentials_names_the_variable(
    env: dict[str, str], plugin_site: Path
) -> None:
    write_plugin_dist(plugin_site, dist="aisync-fakeai", module="aisync_fakeai2", source=FAKEAI)
    result = run(["sync-models", "--provider", "fakeai"], env)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Provider 'fakeai' has no credentials: set AISYNC_FAKEAI_API_KEY or FAKEAI_API_KEY"
    )


@pytest.mark.parametrize(
    "args",
    [["--timeout", "abc"], ["--timeout", "0"], ["--concurrency", "0"], ["--bogus"]],
)
def test_usage_errors_exit_64(env: dict[str, str], args: list[str]) -> None:
    assert run(["sync-models", *args], env).exit_code == 64


def test_partial_failure_exit_2_with_error_summary(env: dict[str, str], fakeai: FakeServer) -> None:
    fakeai.route("/models", Reply(401, {"error": {"message": "Incorrect API key provided"}}))
    result = run(["sync-models", "--provider", "mock", "--provider", "fakeai"], env)
    assert result.exit_code == 2
    assert "fakeai:\n  ❌ Synchronization failed: Invalid API key\n" in result.stdout
    assert "Sync completed with errors!\nTotal: 3 models synced across 1 provider\n" in (
        result.stdout
    )
    assert result.stderr == "\nErrors encountered:\n- fakeai: Invalid API key\n"
    assert result.stdout.count("Invalid API key") == 1


def test_all_failed_exit_1_and_quiet_errors_on_stderr(
    env: dict[str, str], fakeai: FakeServer
) -> None:
    fakeai.route("/models", Reply(503, {"error": {"message": "upstream overloaded"}}))
    env["AISYNC_ENV"] = "production"
    result = run(["sync-models", "--provider", "fakeai", "--quiet"], env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Failed to sync fakeai: Provider error 503: upstream overloaded\n"


def test_timeout_is_really_applied(env: dict[str, str], fakeai: FakeServer) -> None:
    fakeai.route("/models", Reply(200, LISTING, delay=3))
    result = run(["sync-models", "--provider", "fakeai", "--timeout", "0.5"], env)
    assert result.exit_code == 1
    assert "❌ Synchronization failed: Request timeout after 0.5 seconds" in result.stdout


def test_api_key_is_sent_but_never_shown_or_stored(
    env: dict[str, str], fakeai: FakeServer, sqlite_url: str
) -> None:
    result = run(["sync-models", "--provider", "fakeai", "-vv", "--json"], env)
    assert result.exit_code == 0
    assert fakeai.requests[0].headers["Authorization"] == "Bearer fake-key-123"
    assert fakeai.requests[0].headers["User-Agent"].startswith("aisync/")
    assert "fake-key-123" not in result.output
    assert "fake-key-123" not in Path(sqlite_url.removeprefix("sqlite:///")).read_bytes().decode(
        "utf-8", "replace"
    )


def test_dry_run_writes_nothing_and_exits_3_on_changes(
    env: dict[str, str], sqlite_url: str
) -> None:
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    result = run(["sync-models", "--provider", "mock", "--dry-run"], env)
    assert not database.exists()
    assert result.exit_code == 3
    assert result.stdout == (
        "DRY RUN - No changes will be made\n\n"
        "Syncing models from AI providers...\n\n"
        "mock:\n"
        "  Would sync: 3 models\n"
        "  Last synced: Never\n"
        "  Would add 3, change 0, remove 0\n"
        "    + mock-advanced\n"
        "    + mock-basic\n"
        "    + mock-model\n"
        "  Models:\n"
        "    - mock-model\n"
        "    - mock-advanced\n"
        "    - mock-basic\n\n"
        "Dry run completed!\n"
        "Total: 3 models would be synced across 1 provider\n"
    )
    run(["sync-models", "--provider", "mock"], env)
    before = dump(sqlite_url)
    again = run(["sync-models", "--provider", "mock", "--dry-run", "--force"], env)
    assert again.exit_code == 0
    assert "  Last synced: just now\n" in again.stdout
    assert dump(sqlite_url) == before


def test_dry_run_lists_first_models_and_how_many_more(env: dict[str, str]) -> None:
    env["AISYNC_MOCK_MODELS"] = ",".join(f"m{i}" for i in range(15))
    result = run(["sync-models", "--provider", "mock", "--dry-run"], env)
    assert "    - m0\n    - m1\n    - m2\n    ... and 12 more\n" in result.stdout


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "aisync", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("aisync, version ")


def test_empty_listing_is_refused_unless_allowed(env: dict[str, str], tmp_path: Path) -> None:
    run(["sync-models", "--provider", "mock"], env)
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    env["AISYNC_MOCK_MODELS"] = str(empty)
    refused = run(["sync-models", "--provider", "mock", "--force"], env)
    assert refused.exit_code == 1
    assert (
        "  ❌ Synchronization failed: Refused: the provider listed no models (it listed 3 "
        "before); nothing was changed (--allow-removals accepts it)\n"
    ) in refused.stdout
    allowed = run(["sync-models", "--provider", "mock", "--force", "--allow-removals"], env)
    assert allowed.exit_code == 0
    assert "✓ Found 0 models" in allowed.stdout


def mock_listing(env: dict[str, str], tmp_path: Path, entries: list[dict[str, Any]]) -> None:
    """Point the mock provider at a JSON file of model objects."""
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps(entries), encoding="utf-8")
    env["AISYNC_MOCK_MODELS"] = str(listing)


def test_provider_warnings_are_shown_without_verbose(env: dict[str, str], tmp_path: Path) -> None:
    """A skipped entry is data the catalog does not get: the user hears of it by default."""
    mock_listing(env, tmp_path, [{"id": "kept"}, {"id": ""}])
    result = run(["sync-models", "--provider", "mock"], env)
    assert result.exit_code == 0, result.output
    assert (
        "mock:\n  ✓ Found 1 model\n  ✓ Statistics updated\n"
        "  ⚠ 1 of 2 entries skipped: no model id (1)\n\n"
    ) in result.stdout


def test_provider_warnings_are_in_the_json_report_and_not_under_quiet(
    env: dict[str, str], tmp_path: Path
) -> None:
    """--quiet prints nothing on success (a cron mail per run for a provider that always
    repeats itself would be noise); --json carries the warnings for machines."""
    mock_listing(env, tmp_path, [{"id": "kept"}, {"id": ""}])
    quiet = run(["sync-models", "--provider", "mock", "--quiet", "--force"], env)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    report = json.loads(run(["sync-models", "--provider", "mock", "--json", "--force"], env).stdout)
    [mock] = report["providers"]
    assert mock["warnings"] == ["1 of 2 entries skipped: no model id (1)"]


def test_a_model_whose_id_holds_the_key_is_counted_in_a_warning(
    env: dict[str, str], fakeai: FakeServer, sqlite_url: str
) -> None:
    """Left out to keep the key out of the catalog, but not in silence, and the warning
    never names the key."""
    key = env["AISYNC_FAKEAI_API_KEY"]
    listing = {"data": [{"id": "fake-1"}, {"id": f"echo-{key}"}, {"id": f"{key}-again"}]}
    fakeai.route("/models", Reply(200, listing))
    result = run(["sync-models", "--provider", "fakeai"], env)
    assert result.exit_code == 0, result.output
    assert "fakeai:\n  ✓ Found 1 model\n" in result.stdout
    assert "  ⚠ 2 models left out: their ids hold the API key\n" in result.stdout
    report = json.loads(
        run(["sync-models", "--provider", "fakeai", "--json", "--force"], env).stdout
    )
    assert report["providers"][0]["warnings"] == ["2 models left out: their ids hold the API key"]
    assert key not in result.output
    stored = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes().decode("utf-8", "replace")
    assert key not in stored


@pytest.mark.parametrize("frozen_by_the_host", [False, True])
def test_a_sync_run_in_process_leaves_the_collector_as_it_found_it(
    env: dict[str, str], frozen_by_the_host: bool
) -> None:
    """The command tunes the cyclic collector while it runs (`aisync.cli.collector`); run
    in-process, it gives the host its thresholds back and freezes or unfreezes nothing
    of the host's."""
    if frozen_by_the_host:
        gc.freeze()
    try:
        thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
        assert run(["sync-models", "--provider", "mock"], env).exit_code == 0
        assert gc.get_threshold() == thresholds
        # Frozen objects that die leave the count; a freeze of the run's would add thousands,
        # an unfreeze would empty it.
        if frozen_by_the_host:
            assert 0 < gc.get_freeze_count() <= frozen
        else:
            assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
