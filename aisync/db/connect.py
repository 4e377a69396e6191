"""Open the catalog database: engine options per backend, and URLs safe to show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from aisync.errors import DatabaseError

#: The extra that installs each server backend's driver.
_EXTRAS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
_SUPPORTED = "SQLite, PostgreSQL (postgresql+psycopg://) and MariaDB/MySQL (mysql+pymysql://)"


def masked_url(url: str) -> str:
    """The URL with its password replaced by `***`, for messages and output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") == "true":
        return Path(parsed.database.removeprefix("file:"))
    return Path(parsed.database)


def open_engine(url: str, *, create: bool = True) -> Engine:
    """Create the engine; for a SQLite file, create its directory first when `create`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"Invalid database URL: {masked_url(url)}") from None
    path = sqlite_path(url)
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
