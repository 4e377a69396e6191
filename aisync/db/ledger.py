"""A sync run's dealings with the catalog: its row, its locks, what it reads and writes.

The engine reaches the database only through a `Ledger`, and imports this module only when
it needs the database: a forced run starts its fetches first and loads SQLAlchemy while the
providers answer. Every SQLAlchemy error leaves here as a `DatabaseError` with the
driver's own reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from aisync import __version__
from aisync.db import repository
from aisync.db.bulk import cycle_collection_paused
from aisync.db.connect import describe, open_engine, sqlite_path
from aisync.db.locks import Lock, Locks, acquire, locks_for
from aisync.db.migrate import HEAD_REVISION, current_revision, ensure_schema
from aisync.db.outbox import Outgoing, insert_outgoing
from aisync.db.values import Diff, EnrichmentState, StoredModel
from aisync.errors import DatabaseError
from aisync.report import ProviderResult

#: A run still `running` after this long is stale even if its lock looks held.
STALE_RUN_AGE = timedelta(days=1)
#: The longest an interrupted run waits for the database to record its abort.
ABORT_WAIT_SECONDS = 2
#: What a driver raises for a value it cannot send (pysqlite: an integer beyond 64 bits),
#: besides its DB-API errors. The normalize step bounds every value first
#: (`aisync/bounds.py`); this keeps a value it missed to its own provider.
_DRIVER_VALUE_ERRORS: tuple[type[Exception], ...] = (OverflowError,)


def open_catalog(url: str) -> Engine:
    """The catalog's engine, migrated to the current schema."""
    engine = open_engine(url)
    with guarded("Database error"):
        ensure_schema(engine)
    return engine


def open_existing(url: str) -> Engine | None:
    """The catalog as it is, or None where it does not exist yet or is not at head: a dry
    run creates nothing, not even the SQLite file."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = open_engine(url, create=False)
    with guarded("Cannot open the database"), engine.connect() as connection:
        at_head = current_revision(connection) == HEAD_REVISION
    return engine if at_head else None


@contextmanager
def guarded(what: str, also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """SQLAlchemy's errors (and `also`) as one line: `what: the driver's reason`, without
    the statement or its parameters."""
    caught: tuple[type[Exception], ...] = (SQLAlchemyError, *also)
    try:
        yield
    except caught as exc:
        raise DatabaseError(f"{what}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """The driver's reason; PostgreSQL's primary message alone, since the whole text of a
    failed COPY quotes the row it refused."""
    original = getattr(exc, "orig", None) or exc
    primary = getattr(getattr(original, "diag", None), "message_primary", None)
    if isinstance(primary, str) and primary:
        return " ".join(primary.split())[:300]
    return describe(exc) if isinstance(exc, SQLAlchemyError) else " ".join(str(exc).split())[:300]


class Ledger:
    """One run's record in the catalog; with no engine (a dry run before the first sync),
    every read finds nothing and nothing is written."""

    def __init__(self, engine: Engine | None, *, dry_run: bool) -> None:
        self._engine = engine
        self._writes = engine is not None and not dry_run
        self._locks: Locks | None = None
        self._run_lock: Lock | None = None
        self._closed = False
        self.run_id: int | None = None

    def begin(self, *, started_at: datetime, forced: bool, requested: Sequence[str] | None) -> int:
        """Insert the run and take its liveness lock before the row becomes visible, then
        mark runs that died without closing (SIGKILL, power loss) as aborted.

        Other runs treat a `running` row whose lock is free as crashed; taking the lock
        inside the inserting transaction means no run ever sees this one without its lock.
        """
        assert self._engine is not None and self._writes
        with guarded("Database error"):
            self._locks = locks_for(self._engine)
            with self._engine.begin() as connection:
                self.run_id = repository.start_run(
                    connection,
                    started_at=started_at,
                    forced=forced,
                    requested=requested,
                    version=__version__,
                )
                self._run_lock = self._locks.try_acquire(f"run:{self.run_id}", single_use=True)
            self._reap_stale_runs()
        return self.run_id

    def _reap_stale_runs(self) -> None:
        assert self._engine is not None and self._locks is not None
        with self._engine.connect() as connection:
            candidates = repository.running_runs(connection, besides=self.run_id or 0)
        now = _now()
        for run_id, started_at in candidates:
            lock = self._locks.try_acquire(f"run:{run_id}", single_use=True)
            if lock is None and now - started_at < STALE_RUN_AGE:
                continue
            try:
                with self._engine.begin() as connection:
                    repository.mark_aborted(connection, run_id, finished_at=now)
            finally:
                if lock is not None:
                    lock.release()

    def claim(self, provider: str, timeout: float) -> tuple[bool, Lock | None]:
        """Take the provider's lock, waiting at most `timeout` seconds: (False, None) when
        another run keeps it; (True, None) when this run takes no locks (dry runs)."""
        if self._locks is None:
            return True, None
        with guarded("Database error"):
            lock = acquire(self._locks, f"provider:{provider}", timeout)
        return lock is not None, lock

    def last_syncs(self, providers: Sequence[str]) -> dict[str, datetime]:
        """When each provider last synced successfully (absent: never)."""
        if self._engine is None:
            return {}
        with guarded("Database error"), self._engine.connect() as connection:
            return repository.last_successful_syncs(connection, providers)

    def stored_listing(self, provider: str) -> tuple[dict[str, StoredModel], EnrichmentState]:
        """The provider's models as the catalog has them, and what enrichment carries forward."""
        if self._engine is None:
            return {}, EnrichmentState()
        with guarded("Database error"), self._engine.connect() as connection:
            return repository.stored_listing(connection, provider)

    def listing_stamp(self, provider: str) -> int | None:
        """What changes whenever the provider's stored listing does (`repository.listing_stamp`)."""
        if self._engine is None:
            return None
        with guarded("Database error"), self._engine.connect() as connection:
            return repository.listing_stamp(connection, provider)

    def overrides(self, provider: str) -> dict[str, dict[str, Any]]:
        """The user's overrides of the provider's models: model id -> field -> value."""
        if self._engine is None:
            return {}
        with guarded("Database error"), self._engine.connect() as connection:
            return repository.provider_overrides(connection, provider)

    def last_stats(self, provider: str) -> dict[str, float] | None:
        """The statistics of the provider's last successful sync; None when it has none."""
        if self._engine is None:
            return None
        with guarded("Database error"), self._engine.connect() as connection:
            return repository.last_stats(connection, provider)

    def current_versions(self, model_pks: Sequence[int]) -> list[dict[str, Any]]:
        """The current version of each of these models, as `ModelRecord` field -> value."""
        if self._engine is None or not model_pks:
            return []
        with guarded("Database error"), self._engine.connect() as connection:
            return repository.current_versions(connection, model_pks)

    def write(self, diff: Diff, result: ProviderResult) -> None:
        """The provider's new versions, events, statistics and outcome, in one transaction.

        A value the database refuses (out of range, a constraint, a trigger) rolls the
        transaction back and fails this provider alone, as one `Database error` line.
        """
        if not self._writes or self.run_id is None:
            return
        now = _now()
        outcome = _outcome(result, started_at=now - timedelta(milliseconds=result.duration_ms))
        assert self._engine is not None
        # The bulk writes (PostgreSQL's COPY) use the driver directly: its errors too.
        dbapi_error: type[Exception] = self._engine.dialect.loaded_dbapi.Error
        driver_errors = (dbapi_error, *_DRIVER_VALUE_ERRORS)
        with (
            guarded("Database error", driver_errors),
            self._engine.begin() as connection,
            cycle_collection_paused(),  # a first sync makes a row per model and table
        ):
            repository.write_listing(
                connection,
                provider=result.provider,
                run_id=self.run_id,
                now=now,
                diff=diff,
                last_listed=result.last_synced_at,
            )
            repository.record_stats(connection, self.run_id, result.provider, result.stats)
            repository.record_provider_sync(connection, self.run_id, outcome)

    def record(self, *results: ProviderResult, started_at: datetime) -> None:
        """The outcomes of providers that wrote no listing (skipped or failed), in one
        transaction: an all-fresh cron run commits once, not once per provider."""
        if not self._writes or self.run_id is None or not results:
            return
        assert self._engine is not None
        with guarded("Database error"), self._engine.begin() as connection:
            for result in results:
                outcome = _outcome(result, started_at=started_at)
                repository.record_provider_sync(connection, self.run_id, outcome)

    def close_run(
        self, *, status: str, exit_code: int, notifications: Sequence[Outgoing] = ()
    ) -> None:
        """Make the run's outcome final, queueing its webhook `notifications` in the same
        transaction: once this commits, a crash before delivery loses none of them."""
        if not self._writes or self.run_id is None or self._closed:
            return
        assert self._engine is not None
        now = _now()
        with guarded("Database error"), self._engine.begin() as connection:
            repository.finish_run(
                connection, self.run_id, status=status, exit_code=exit_code, finished_at=now
            )
            insert_outgoing(connection, self.run_id, notifications, now)
        self._closed = True

    def abort(self, *, exit_code: int) -> None:
        """Record an interrupted run as `aborted`, waiting at most `ABORT_WAIT_SECONDS` for
        the database: Ctrl-C must end the process within seconds. If the database cannot
        take it that fast, the row stays `running` and the next run marks it aborted (this
        run's lock is gone by then)."""
        if not self._writes or self.run_id is None or self._closed:
            return
        assert self._engine is not None
        try:
            with self._engine.connect() as connection:
                try:
                    with connection.begin():
                        _bound_waits(connection, ABORT_WAIT_SECONDS)
                        repository.finish_run(
                            connection,
                            self.run_id,
                            status="aborted",
                            exit_code=exit_code,
                            finished_at=_now(),
                        )
                finally:
                    # Its shortened waits must not outlive this call in the pool.
                    connection.invalidate()
        except SQLAlchemyError as exc:
            logging.getLogger("aisync").warning(
                "The interrupted run stays 'running' until the next run: %s", describe(exc)
            )
        self._closed = True

    def release(self) -> None:
        """Give back the run's own lock and close the lock connections."""
        if self._run_lock is not None:
            self._run_lock.release()
            self._run_lock = None
        if self._locks is not None:
            self._locks.dispose()


def _bound_waits(connection: Connection, seconds: int) -> None:
    """Make this transaction give up on a lock after `seconds` rather than the default."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout={seconds * 1000}")
    elif dialect == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{seconds}s'")
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{seconds}s'")
    elif dialect in ("mysql", "mariadb"):
        connection.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {seconds}")


def _outcome(result: ProviderResult, *, started_at: datetime) -> repository.ProviderOutcome:
    reason, error = result.reason, result.error
    if result.status == "synced" and result.stats_error:
        reason, error = repository.STATS_FAILED, f"Statistics failed: {result.stats_error}"
    return repository.ProviderOutcome(
        provider=result.provider,
        status=result.status,
        reason=reason,
        error=error,
        models_found=result.models_found,
        added=result.added,
        changed=result.changed,
        removed=result.removed,
        started_at=started_at,
        finished_at=_now(),
        duration_ms=result.duration_ms,
    )


def _now() -> datetime:
    return datetime.now(UTC)
