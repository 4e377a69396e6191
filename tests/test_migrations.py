"""Alembic owns the schema: upgrade, downgrade, and no drift from the models."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text

from aisync.catalog.catalog import Catalog
from aisync.cli import cli
from aisync.db.connect import open_engine
from aisync.db.migrate import (
    HEAD_REVISION,
    alembic_config,
    downgrade,
    ensure_schema,
    stored_revision,
)
from aisync.db.models import Base
from aisync.sync.engine import Syncer

TABLES = {
    "sync_runs",
    "provider_syncs",
    "models",
    "model_versions",
    "model_events",
    "provider_stats",
    "notifications",
}


def test_head_constant_matches_the_migrations() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_upgrade_downgrade_and_no_drift(database_url: str) -> None:
    engine = open_engine(database_url)
    ensure_schema(engine)
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= TABLES
    assert {"current_models", "model_changes"} <= set(inspector.get_view_names())
    assert drift(engine) == []
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def drift(engine: Engine) -> list[Any]:
    """What `alembic check` would report: the models against the migrated schema, types and
    server defaults included."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def test_drift_check_sees_a_missing_index(database_url: str) -> None:
    """The comparison is live: a schema that lost an index is reported."""
    engine = open_engine(database_url)
    ensure_schema(engine)
    on_table = " ON model_events" if engine.dialect.name == "mysql" else ""
    with engine.begin() as connection:
        connection.execute(text(f"DROP INDEX ix_model_events_changed_at{on_table}"))
    assert [change[0] for change in drift(engine)] == ["add_index"]
    engine.dispose()


def test_db_commands(sqlite_url: str) -> None:
    env = {"AISYNC_DATABASE_URL": sqlite_url}
    runner = CliRunner()
    assert (
        "Revision: none (empty database)" in runner.invoke(cli, ["db", "current"], env=env).stdout
    )
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    assert f"Revision: {HEAD_REVISION}" in runner.invoke(cli, ["db", "current"], env=env).stdout
    assert runner.invoke(cli, ["db", "downgrade", "base"], env=env).exit_code == 0


def test_a_newer_schema_is_a_clear_error(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    ensure_schema(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    result = CliRunner().invoke(
        cli, ["sync-models", "--provider", "mock"], env={"AISYNC_DATABASE_URL": sqlite_url}
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "The database schema is at revision 9999, newer than this aisync knows "
        f"({HEAD_REVISION}): upgrade aisync to use it"
    )


NEWER = (
    ["sync-models", "--provider", "mock"],
    ["models"],
    ["providers"],
    ["runs"],
    ["changes"],
    ["db", "upgrade"],
    ["db", "downgrade", "0001"],
    ["db", "current"],
)


def test_a_newer_schema_never_advises_db_upgrade(sqlite_url: str) -> None:
    """`db upgrade` cannot help with a schema from a newer aisync: no path says to run it."""
    engine = open_engine(sqlite_url)
    ensure_schema(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    for arguments in NEWER:
        result = CliRunner().invoke(cli, arguments, env={"AISYNC_DATABASE_URL": sqlite_url})
        output = result.stdout + result.stderr
        assert "db upgrade" not in output, arguments
        assert "9999" in output, arguments
        assert "Traceback" not in output, arguments
        if arguments != ["db", "current"]:
            assert result.exit_code == 1, arguments
            assert len(result.stderr.strip().splitlines()) == 1, arguments
            assert "newer than this aisync" in result.stderr, arguments
    assert stored_revision(open_engine(sqlite_url)) == "9999"


FOREIGN = (["sync-models", "--provider", "mock"], ["db", "upgrade"], ["db", "current"], ["models"])


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    database = tmp_path / "other.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        connection.execute("INSERT INTO notes (body) VALUES ('keep me')")
    connection.close()
    url = f"sqlite:///{database}"
    for arguments in FOREIGN:
        result = CliRunner().invoke(cli, arguments, env={"AISYNC_DATABASE_URL": url})
        assert result.exit_code == 1, arguments
        assert result.stderr.strip() == (
            f"{database} is not an aisync catalog: it holds other tables (notes)"
        ), arguments
    assert inspect(open_engine(url)).get_table_names() == ["notes"]
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT body FROM notes").fetchall() == [("keep me",)]
    connection.close()


def test_an_empty_file_becomes_a_catalog(tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    database.touch()
    url = f"sqlite:///{database}"
    result = CliRunner().invoke(
        cli, ["sync-models", "--provider", "mock"], env={"AISYNC_DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    assert stored_revision(open_engine(url)) == HEAD_REVISION


@pytest.mark.parametrize("revision", ["", " ", "nonsense", "0009", "+1", "0001:0002", "heads"])
def test_an_odd_revision_is_a_usage_error(sqlite_url: str, revision: str) -> None:
    env = {"AISYNC_DATABASE_URL": sqlite_url}
    assert CliRunner().invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["db", "downgrade", revision], env=env)
    assert result.exit_code == 64, result.output
    assert result.stderr.strip() == (
        f"Unknown revision {revision!r}: choose one of base, 0001, 0002, 0003, 0004 or -1"
    )
    assert stored_revision(open_engine(sqlite_url)) == HEAD_REVISION


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_catalog_works_for_the_python_api(url: str) -> None:
    """One in-memory database per URL for the whole process: a `Catalog` reads what a
    `Syncer` wrote."""
    syncer = Syncer(url)
    assert syncer.sync_models(providers=["mock"]).exit_code == 0
    assert syncer.sync_models(providers=["mock"], force=True).exit_code == 0
    syncer.close()
    with Catalog(url) as catalog:
        assert len(catalog.models()) == 3
        assert len(catalog.runs()) == 2


def test_db_upgrade_repairs_a_half_created_schema(sqlite_url: str) -> None:
    """What aisync before transactional migrations left when killed during first use: an
    empty `alembic_version` and some of 0001's tables."""
    engine = open_engine(sqlite_url)
    ensure_schema(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
        for view in ("current_models", "model_changes"):
            connection.exec_driver_sql(f"DROP VIEW {view}")
        for table in ("model_overrides", "provider_syncs", "provider_stats"):
            connection.exec_driver_sql(f"DROP TABLE {table}")
    engine.dispose()
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"AISYNC_DATABASE_URL": sqlite_url})
    assert result.exit_code == 0, result.output
    assert drift(engine) == []
    assert stored_revision(engine) == HEAD_REVISION


def test_db_upgrade_repairs_a_half_done_0002(sqlite_url: str) -> None:
    """What aisync before transactional migrations left when killed during 0001 -> 0002:
    revision 0001, `current_models` gone, some of the new columns added."""
    engine = open_engine(sqlite_url)
    assert (
        CliRunner()
        .invoke(cli, ["sync-models", "--provider", "mock"], env={"AISYNC_DATABASE_URL": sqlite_url})
        .exit_code
        == 0
    )
    downgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP VIEW current_models")
        connection.exec_driver_sql("ALTER TABLE model_versions ADD COLUMN max_input_tokens INTEGER")
    engine.dispose()
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"AISYNC_DATABASE_URL": sqlite_url})
    assert result.exit_code == 0, result.output
    assert drift(engine) == []
    with Catalog(sqlite_url) as catalog:
        assert len(catalog.models()) == 3
