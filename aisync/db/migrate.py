"""Keep the database schema at the code's revision.

The revision check reads `alembic_version` with plain SQL, so a run against an up-to-date
database never imports Alembic; only an actual upgrade or downgrade does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from aisync.db.connect import describe
from aisync.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest migration in `migrations/versions`; a test checks it against Alembic's head.
HEAD_REVISION = "0002"
_KNOWN_REVISIONS = ("0001", "0002")
#: How long a process waits for another one that is migrating the same database.
MIGRATION_LOCK_TIMEOUT = 120.0


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


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
        raise DatabaseError(
            f"The database schema is at revision {revision}, newer than this aisync knows "
            f"({HEAD_REVISION}): upgrade aisync to use it"
        )
    upgrade(engine, "head")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)


def _run(engine: Engine, direction: str, revision: str) -> None:
    """Migrate under a lock: two first runs at once must not both create the schema.

    Alembic reads the revision again once the lock is held, so the process that waited
    finds the work done and does nothing.
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
                with connection.begin():
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


def alembic_config() -> Config:
    """An Alembic config pointing at the installed migrations, not at alembic.ini."""
    from alembic.config import Config

    import aisync_migrations  # type: ignore[import-not-found]  # installed from migrations/

    config = Config()
    config.set_main_option("script_location", str(Path(aisync_migrations.__file__).parent))
    return config
