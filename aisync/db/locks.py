"""Named locks shared by every process that writes one catalog, released when a holder dies.

Overlapping cron runs on several machines must never write the same provider twice, and a
run killed with SIGKILL must not leave a lock behind. So every lock lives as long as its
holder's session, never as a row someone has to clean up:

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`), per database.
- MariaDB/MySQL: a user-level lock (`GET_LOCK`), named after the database and the lock.
- SQLite: an exclusive `flock` on a file in `<database>.locks/` beside the database file; an
  in-memory database is private to its process, so an in-process lock is enough.

Waiting is bounded: `acquire` polls until its timeout and returns None if the lock stays held.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from aisync.db.connect import sqlite_path
from aisync.errors import DatabaseError

_POLL_SECONDS = 0.05


class Lock(Protocol):
    def release(self) -> None: ...


class Locks(Protocol):
    """Where a run takes its locks: one implementation per kind of database."""

    def try_acquire(self, name: str, *, single_use: bool = False) -> Lock | None:
        """Take `name` now or return None; `single_use` names are never taken twice."""

    def dispose(self) -> None: ...


def locks_for(engine: Engine) -> Locks:
    """The lock implementation that matches the catalog's database."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return _SessionLocks(engine, _pg_try_lock)
    if dialect in ("mysql", "mariadb"):
        return _SessionLocks(engine, _mysql_try_lock)
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:
        return _ProcessLocks()
    return _FileLocks(path.with_name(path.name + ".locks"))


def acquire(locks: Locks, name: str, timeout: float) -> Lock | None:
    """Take `name`, waiting at most `timeout` seconds; None if another holder keeps it."""
    deadline = time.monotonic() + timeout
    while True:
        lock = locks.try_acquire(name)
        if lock is not None or time.monotonic() >= deadline:
            return lock
        time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


class _SessionLock:
    def __init__(self, connection: Connection, unlock: Callable[[Connection], object]) -> None:
        self._connection = connection
        self._unlock = unlock

    def release(self) -> None:
        try:
            self._unlock(self._connection)
        finally:
            self._connection.close()


class _SessionLocks:
    """Server-side locks, each held by a connection of its own outside every transaction.

    `try_lock` takes the lock on the connection and returns how to release it, or None.
    """

    def __init__(
        self,
        engine: Engine,
        try_lock: Callable[[Connection, str], Callable[[Connection], object] | None],
    ) -> None:
        self._engine = create_engine(engine.url, poolclass=NullPool)
        self._try_lock = try_lock

    def try_acquire(self, name: str, *, single_use: bool = False) -> Lock | None:
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            unlock = self._try_lock(connection, name)
        except BaseException:
            connection.close()
            raise
        if unlock is None:
            connection.close()
            return None
        return _SessionLock(connection, unlock)

    def dispose(self) -> None:
        self._engine.dispose()


def _pg_try_lock(connection: Connection, name: str) -> Callable[[Connection], object] | None:
    key = int.from_bytes(_digest(name)[:8], "big", signed=True)
    if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}):
        return None
    return lambda c: c.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def _mysql_try_lock(connection: Connection, name: str) -> Callable[[Connection], object] | None:
    """User-level locks are server-wide, so the name carries the database's too (<= 64)."""
    database = connection.scalar(text("SELECT DATABASE()")) or ""
    lock_name = "aisync:" + _digest(f"{database}:{name}").hex()[:40]
    if connection.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": lock_name}) != 1:
        return None
    return lambda c: c.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": lock_name})


class _FileLock:
    def __init__(self, descriptor: int, path: Path | None) -> None:
        self._descriptor = descriptor
        self._path = path

    def release(self) -> None:
        """A single-use file goes with its lock, so a long history leaves no files behind."""
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        os.close(self._descriptor)


class _FileLocks:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def try_acquire(self, name: str, *, single_use: bool = False) -> Lock | None:
        path = self._directory / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".lock")
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DatabaseError(f"Cannot create the lock file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return _FileLock(descriptor, path if single_use else None)

    def dispose(self) -> None:
        return None


class _ThreadLock:
    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def release(self) -> None:
        self._lock.release()


class _ProcessLocks:
    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def try_acquire(self, name: str, *, single_use: bool = False) -> Lock | None:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        return _ThreadLock(lock) if lock.acquire(blocking=False) else None

    def dispose(self) -> None:
        return None


def _digest(name: str) -> bytes:
    return hashlib.sha256(f"aisync:{name}".encode()).digest()
