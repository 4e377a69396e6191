"""Database URLs as people write them: a plain path is a SQLite file, `postgres://` and
`mysql://` use the drivers aisync installs; a usage error leaves no empty failed run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from aisync.cli import cli
from aisync.db.connect import masked_url, sqlite_path
from tests.databases import SERVER_URL_VARIABLES, SERVER_URLS, empty_server_database

SYNC = ["sync-models", "--provider", "mock"]


def run(args: list[str], url: str) -> Result:
    return CliRunner().invoke(cli, args, env={"AISYNC_DATABASE_URL": url}, catch_exceptions=False)


def model_count(path: Path) -> int:
    with sqlite3.connect(path) as catalog:
        return int(catalog.execute("SELECT COUNT(*) FROM models").fetchone()[0])


def test_an_absolute_path_is_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "catalog.db"
    assert run(SYNC, str(path)).exit_code == 0
    assert model_count(path) == 3
    result = run(["models", "--provider", "mock"], str(path))
    assert result.exit_code == 0 and "mock-basic" in result.stdout


def test_a_relative_path_is_a_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(SYNC, "./catalog.db").exit_code == 0
    assert model_count(tmp_path / "catalog.db") == 3
    assert sqlite_path("catalog.db") == Path("catalog.db")
    assert masked_url("./catalog.db") == "sqlite:///catalog.db"


@pytest.mark.parametrize(
    ("backend", "written"),
    [("postgresql", "postgres://"), ("postgresql", "postgresql://"), ("mysql", "mysql://")],
)
def test_plain_server_schemes_use_the_installed_drivers(backend: str, written: str) -> None:
    url = SERVER_URLS.get(backend)
    if not url:
        pytest.skip(f"{SERVER_URL_VARIABLES[backend]} is not set")
    empty_server_database(url)
    plain = written + url.split("://", 1)[1]
    result = run(SYNC, plain)
    assert result.exit_code == 0, result.output
    with create_engine(url).connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM models")).scalar() == 3


@pytest.mark.parametrize(
    "args", [["sync-models", "--provider", "nope"], ["sync-models", "--provider", "openai"]]
)
def test_a_usage_error_records_no_run(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "catalog.db"
    assert run(SYNC, str(path)).exit_code == 0
    refused = run(args, f"sqlite:///{path}")
    assert refused.exit_code == 1
    with sqlite3.connect(path) as catalog:
        runs = catalog.execute("SELECT status FROM sync_runs").fetchall()
    assert runs == [("succeeded",)]


def test_a_usage_error_on_a_fresh_home_creates_no_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    assert run(["sync-models", "--provider", "nope"], f"sqlite:///{path}").exit_code == 1
    assert not path.exists()
