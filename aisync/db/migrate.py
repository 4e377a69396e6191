"""Keep the database schema at the code's revision.

The revision check reads `alembic_version` with plain SQL, so a run against an up-to-date
database never imports Alembic; only an actual upgrade or downgrade does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from aisync.db.connect import describe, sqlite_path, transactional_ddl
from aisync.errors import DatabaseError, UsageError

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest migration in `migrations/versions`; a test checks it against Alembic's head.
HEAD_REVISION = "0004"
_KNOWN_REVISIONS = ("0001", "0002", "0003", "0004")
#: What `db downgrade` accepts besides the revisions themselves.
_DOWNGRADE_TARGETS = ("base", *_KNOWN_REVISIONS, "-1")
#: Every table the migrations create, children first so that they drop in this order.
_TABLES = (
    "notifications",
    "model_overrides",
    "provider_syncs",
    "provider_stats",
    "model_versions",
    "model_events",
    "sync_runs",
    "models",
)
_VIEWS = ("current_models", "model_changes")
#: Alembic's own table, and its scratch copy while it rebuilds a SQLite table.
_ALEMBIC_TABLES = ("alembic_version", "_alembic_tmp_model_versions")
#: How long a process waits for another one that is migrating the same database.
MIGRATION_LOCK_TIMEOUT = 120.0


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def newer_schema(revision: str) -> DatabaseError:
    """A newer aisync's schema: only a newer aisync can use it, `db upgrade` cannot help."""
    return DatabaseError(
        f"The database schema is at revision {revision}, newer than this aisync knows "
        f"({HEAD_REVISION}): upgrade aisync to use it"
    )


def refuse_unusable(connection: Connection, revision: str | None) -> None:
    """Refuse a newer schema, and a SQLite file that is another application's database.

    A file named by mistake must come out as it went in: no aisync table, no
    `alembic_version`. An empty file is fine; on a server, a database shared with other
    applications' tables is a normal setup.
    """
    if revision is not None and revision not in _KNOWN_REVISIONS:
        raise newer_schema(revision)
    path = sqlite_path(connection.engine.url.render_as_string(hide_password=False))
    if revision is None and path is not None:
        inspector = inspect(connection)
        own = {*_TABLES, *_VIEWS, *_ALEMBIC_TABLES}
        others = sorted({*inspector.get_table_names(), *inspector.get_view_names()} - own)
        if others:
            raise DatabaseError(
                f"{path} is not an aisync catalog: it holds other tables ({', '.join(others)})"
            )


def stored_revision(engine: Engine) -> str | None:
    """The database's revision; a database that cannot be reached is a `DatabaseError`."""
    with connect(engine) as connection:
        try:
            return current_revision(connection)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"Cannot read the database: {describe(exc)}") from None


def connect(engine: Engine) -> Connection:
    """A connection, or a `DatabaseError` saying why the database cannot be reached."""
    try:
        return engine.connect()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Cannot open the database: {describe(exc)}") from None


def ensure_schema(engine: Engine) -> None:
    """Migrate an empty or older database to head; refuse one newer than this code."""
    revision = stored_revision(engine)
    if revision == HEAD_REVISION:
        return
    if revision is not None and revision not in _KNOWN_REVISIONS:
        raise newer_schema(revision)
    upgrade(engine, "head")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate down to `revision`; anything but a known target is a `UsageError`, not one of
    Alembic's tracebacks."""
    if revision not in _DOWNGRADE_TARGETS:
        targets = ", ".join(_DOWNGRADE_TARGETS[:-1])
        raise UsageError(f"Unknown revision {revision!r}: choose one of {targets} or -1")
    _run(engine, "downgrade", revision)


def _run(engine: Engine, direction: str, revision: str) -> None:
    """Migrate under a lock: two first runs at once must not both create the schema.

    Alembic reads the revision again once the lock is held, so the process that waited
    finds the work done and does nothing. Each migration runs in one transaction with its
    revision stamp (on SQLite too, see `transactional_ddl`): a run killed midway leaves the
    previous revision intact, and the next run migrates from there.
    """
    from alembic import command
    from alembic.util.exc import CommandError

    from aisync.db.locks import acquire, locks_for

    locks = locks_for(engine)
    try:
        with connect(engine) as connection:
            lock = acquire(locks, "schema", MIGRATION_LOCK_TIMEOUT)
            if lock is None:
                raise DatabaseError("Another aisync process is migrating the database; try again")
            try:
                transactional_ddl(connection)
                with connection.begin():
                    _prepare(connection)
                config = alembic_config()
                config.attributes["connection"] = connection
                getattr(command, direction)(config, revision)
            finally:
                lock.release()
    except CommandError as exc:
        raise DatabaseError(f"Migration failed: {exc}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Migration failed: {describe(exc)}") from None
    finally:
        locks.dispose()


def _prepare(connection: Connection) -> None:
    """Refuse what must not be migrated, and clear what an interrupted first use left.

    aisync before transactional migrations committed each statement of a migration on its
    own, so one killed during first use left an empty `alembic_version` and some of the
    schema; `table models already exists` then stopped every later run. Those tables can
    hold nothing (the first sync never got to write), so they are dropped and the schema is
    created again. Anything in them means they are not such leftovers, and stay.
    """
    revision = current_revision(connection)
    refuse_unusable(connection, revision)
    inspector = inspect(connection)
    if revision is not None or not inspector.has_table("alembic_version"):
        return
    views = [name for name in _VIEWS if name in inspector.get_view_names()]
    tables = [name for name in (_ALEMBIC_TABLES[1], *_TABLES) if inspector.has_table(name)]
    filled = [name for name in tables if connection.execute(text(f"SELECT 1 FROM {name}")).first()]
    if filled:
        raise DatabaseError(
            f"The database has aisync tables with data ({', '.join(filled)}) but no schema "
            "revision; restore it from a backup"
        )
    for name in views:
        connection.execute(text(f"DROP VIEW {name}"))
    for name in tables:
        connection.execute(text(f"DROP TABLE {name}"))


def alembic_config() -> Config:
    """An Alembic config pointing at the installed migrations, not at alembic.ini."""
    from alembic.config import Config

    import aisync_migrations  # type: ignore[import-not-found]  # installed from migrations/

    config = Config()
    config.set_main_option("script_location", str(Path(aisync_migrations.__file__).parent))
    return config
