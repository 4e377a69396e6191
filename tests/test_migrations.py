"""Alembic owns the schema: upgrade, downgrade, and no drift from the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text

from aisync.cli import cli
from aisync.db.connect import open_engine
from aisync.db.migrate import HEAD_REVISION, alembic_config, downgrade, ensure_schema
from aisync.db.models import Base

TABLES = {
    "sync_runs",
    "provider_syncs",
    "models",
    "model_versions",
    "model_events",
    "provider_stats",
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
