"""The catalog commands at their edges: no catalog, an empty one, bad arguments, output modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aisync.catalog.catalog import Catalog
from aisync.cli import cli
from aisync.errors import DatabaseError
from tests.catalog_data import fill

LISTINGS = [
    ["providers"],
    ["models"],
    ["runs"],
    ["changes"],
    ["stats"],
    ["stats", "--history"],
]


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("args", [*LISTINGS[1:], ["models", "show", "mock/x"], ["export"]])
def test_missing_catalog_is_one_line_and_never_created(tmp_path: Path, args: list[str]) -> None:
    """(`providers` lists the provider types instead: tests/test_onboarding.py.)"""
    database = tmp_path / "nowhere" / "catalog.db"
    result = invoke({"AISYNC_DATABASE_URL": f"sqlite:///{database}"}, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"No catalog at {database}; run `aisync sync-models` first\n"
    assert not database.parent.exists()


def test_server_database_without_schema_is_no_catalog(database_url: str) -> None:
    with pytest.raises(DatabaseError, match="^No catalog at .*; run `aisync sync-models` first"):
        Catalog(database_url).models()


@pytest.mark.parametrize("args", LISTINGS)
def test_empty_catalog_prints_nothing_and_json_empty_lists(
    database_url: str, args: list[str]
) -> None:
    env = {"AISYNC_DATABASE_URL": database_url}
    assert invoke(env, "db", "upgrade").exit_code == 0
    as_json = invoke(env, *args, "--json")
    assert as_json.exit_code == 0
    if args == ["providers"]:
        listed = json.loads(as_json.stdout)
        assert {p["models_listed"] for p in listed} == {0}
        assert {p["last_synced_at"] for p in listed} == {None}
        return
    assert json.loads(as_json.stdout) == []
    plain = invoke(env, *args)
    assert (plain.exit_code, plain.stdout) == (0, "")
    assert plain.stderr.startswith("No ")


def test_empty_catalog_export_is_an_empty_list(sqlite_url: str) -> None:
    env = {"AISYNC_DATABASE_URL": sqlite_url}
    invoke(env, "db", "upgrade")
    assert invoke(env, "export").stdout == "[]\n"
    assert invoke(env, "export", "--format", "csv").stdout.startswith("provider,model_id,")


@pytest.mark.parametrize(
    "args",
    [
        ["models", "--capability", "telepathy"],
        ["models", "--sort", "price"],
        ["models", "show", "no-slash"],
        ["models", "show", "/x"],
        ["models", "bogus"],
        ["runs", "--limit", "0"],
        ["runs", "--status", "great"],
        ["runs", "show", "abc"],
        ["changes", "--since", "yesterday"],
        ["changes", "--since", "7x"],
        ["changes", "--run", "x"],
        ["export", "--format", "xml"],
        ["stats", "--bogus"],
    ],
)
def test_bad_arguments_exit_64(sqlite_url: str, args: list[str]) -> None:
    result = invoke({"AISYNC_DATABASE_URL": sqlite_url}, *args)
    assert result.exit_code == 64
    assert "Traceback" not in result.output


def test_unknown_model_and_run_are_one_line_exit_1(tmp_path: Path) -> None:
    env = fill(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path)
    missing = invoke(env, "models", "show", "mock/nope")
    assert (missing.exit_code, missing.stderr) == (
        1,
        "No model 'nope' from provider 'mock' in the catalog\n",
    )
    assert invoke(env, "runs", "show", "99").stderr == "No sync run 99 in the catalog\n"


def test_piped_output_is_plain_and_a_terminal_gets_a_table(tmp_path: Path) -> None:
    env = fill(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path)
    piped = invoke(env, "models").stdout
    assert "\x1b[" not in piped
    assert "─" not in piped
    assert piped.splitlines()[0].split() == [
        "PROVIDER", "MODEL", "CONTEXT", "MAX", "OUTPUT", "INPUT", "$/M", "OUTPUT", "$/M",
        "CAPABILITIES",
    ]  # fmt: skip
    terminal = invoke({**env, "FORCE_COLOR": "1", "COLUMNS": "200"}, "models").stdout
    assert "─" in terminal
    assert "alpha" in terminal


def test_times_are_shown_in_local_time_with_their_age(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from datetime import timedelta

    env = fill(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path)
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        run = Catalog(env["AISYNC_DATABASE_URL"]).run(1)
        shown = invoke(env, "runs", "show", "1").stdout
    finally:
        monkeypatch.undo()
        time.tzset()
    local = run.started_at.replace(tzinfo=None) + timedelta(hours=5, minutes=30)
    assert f"Started:   {local:%Y-%m-%d %H:%M} (10 days ago)\n" in shown
