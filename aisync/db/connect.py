"""Open the catalog database: engine options per backend, and URLs safe to show."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

from aisync.errors import DatabaseError

#: The extra that installs each server backend's driver.
_EXTRAS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
_SUPPORTED = "SQLite, PostgreSQL (postgresql+psycopg://) and MariaDB/MySQL (mysql+pymysql://)"
#: The in-memory catalogs of this process, one per URL, kept until the process ends.
_MEMORY_ENGINES: dict[str, Engine] = {}
_MEMORY_GUARD = threading.Lock()


#: Schemes people write, and the driver aisync installs for each (SQLAlchemy would pick
#: psycopg2 or mysqlclient, which aisync's extras do not install; `postgres://` it refuses).
_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def parse_url(url: str) -> URL:
    """`url` as SQLAlchemy's URL; a plain path (`/var/lib/aisync/catalog.db`,
    `./catalog.db`) is a SQLite file and a driverless scheme gets aisync's driver."""
    if "://" not in url and not url.startswith("sqlite:"):
        return URL.create("sqlite", database=str(Path(url).expanduser()))
    parsed = make_url(url)
    return parsed.set(drivername=_DRIVERS.get(parsed.drivername, parsed.drivername))


def masked_url(url: str) -> str:
    """The URL with its password replaced by `***`, for messages and output."""
    try:
        return parse_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") == "true":
        return Path(parsed.database.removeprefix("file:"))
    return Path(parsed.database)


def open_engine(url: str, *, create: bool = True) -> Engine:
    """Create the engine; for a SQLite file, create its directory first when `create`."""
    try:
        parsed = parse_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"Invalid database URL: {masked_url(url)} (write sqlite:///PATH, "
            "postgresql://USER@HOST/DB or mysql://USER@HOST/DB)"
        ) from None
    path = sqlite_path(url)
    if path is None and parsed.get_backend_name() == "sqlite":
        return _memory_engine(parsed)
    if path is not None and create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"Cannot create the database directory {path.parent}: {exc.strerror}"
            ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "mysql":
        kwargs["pool_recycle"] = 3600
    try:
        engine = create_engine(parsed, **kwargs)
    except ImportError as exc:
        extra = _EXTRAS.get(parsed.get_backend_name())
        hint = f"install aisync[{extra}]" if extra else "aisync supports " + _SUPPORTED
        raise DatabaseError(
            f"The driver for {parsed.drivername} is not installed ({exc.name}): {hint}"
        ) from None
    except ArgumentError:
        raise DatabaseError(f"Unsupported database URL: {masked_url(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _memory_engine(parsed: URL) -> Engine:
    """The process's one engine for an in-memory SQLite URL.

    Each new connection to `:memory:` is a new, empty database, so the engine holds exactly
    one, hands it to one user at a time (fetch threads read while the run writes) and never
    closes it: a `Syncer` and a `Catalog` opened on `sqlite://` share one catalog.
    """
    key = parsed.render_as_string(hide_password=False)
    with _MEMORY_GUARD:
        if key not in _MEMORY_ENGINES:
            connection = sqlite3.connect(":memory:", check_same_thread=False)
            engine = create_engine(
                parsed, poolclass=_KeptPool, creator=lambda: connection, pool_size=1, max_overflow=0
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            _MEMORY_ENGINES[key] = engine
        return _MEMORY_ENGINES[key]


class _KeptPool(QueuePool):
    """A pool whose database must outlive `Engine.dispose()`: disposing keeps it as it is."""

    def dispose(self) -> None:
        return None

    def recreate(self) -> QueuePool:
        return self


def transactional_ddl(connection: Connection) -> None:
    """Make every transaction on this SQLite connection a real one, DDL included.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so CREATE, DROP and ALTER
    statements commit one by one: a migration killed midway would stay half done. Emitting
    `BEGIN IMMEDIATE` when SQLAlchemy begins puts them all in one transaction that a kill
    rolls back (SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL"
    recipe). pysqlite commits and rolls back whatever transaction is open, so nothing else
    changes. Only migrations use it: the rest of the app keeps pysqlite's own handling.
    """
    if connection.dialect.name == "sqlite" and not event.contains(
        connection, "begin", _begin_immediate
    ):
        event.listen(connection, "begin", _begin_immediate)


def _begin_immediate(connection: Connection) -> None:
    """Take the write lock at once: a migration reads the schema, then changes it."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def describe(exc: SQLAlchemyError) -> str:
    """The driver's own one-line reason, without SQLAlchemy's SQL and parameter dump."""
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split())[:300]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on; wait for a concurrent writer instead of failing at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
