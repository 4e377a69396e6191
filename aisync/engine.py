"""One sync run: discover -> freshness -> fetch -> normalize -> enrich -> diff -> write -> report.

Providers are fetched concurrently through one shared HTTP client; each provider's results
are written in a transaction of its own as soon as its fetch ends, so a provider that
fails (or a crash) never leaves half a listing and never touches another provider's rows.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from aisync import __version__
from aisync.db import repository
from aisync.db.connect import describe, open_engine, sqlite_path
from aisync.db.locks import Lock, Locks, acquire, locks_for
from aisync.db.migrate import HEAD_REVISION, current_revision, ensure_schema
from aisync.diff import Diff, compute_diff
from aisync.discovery import Discovery, discover, select
from aisync.enrich import Enrichment, EnrichmentState
from aisync.errors import AisyncError, DatabaseError, ProviderError, SuspectListing, UsageError
from aisync.fetch import fetch_models
from aisync.http import build_client
from aisync.normalize import normalize
from aisync.plugins import Plugins, get_plugin_manager
from aisync.progress import PagesFetched, page_counter
from aisync.records import ModelRecord, Provider
from aisync.report import ProviderResult, SyncReport
from aisync.settings import Settings, load_settings
from aisync.stats import merge

#: A run still `running` after this long is stale even if its lock looks held.
STALE_RUN_AGE = timedelta(days=1)


class Syncer:
    """Sync model lists into a catalog database; the API the CLI and embedding apps share.

    >>> report = Syncer("sqlite:///catalog.db").sync_models(providers=["mock"])
    >>> report.exit_code
    0
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        plugins: Iterable[object] = (),
        entry_points: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """
        :param database_url: overrides the settings' database URL.
        :param settings: defaults to `load_settings()` (environment and config file).
        :param plugins: extra plugin modules or objects, registered after entry points.
        :param entry_points: load plugins from the `aisync` entry-point group.
        :param transport: an httpx transport for every provider request (tests, proxies).
        """
        base = settings or load_settings({"database_url": database_url})
        if database_url is not None:
            base = dataclasses.replace(base, database_url=database_url)
        self.settings = base
        self.plugins: Plugins = get_plugin_manager(plugins, entry_points=entry_points)
        self._transport = transport
        self._engine: Engine | None = None

    def discover(self) -> Discovery:
        return discover(self.plugins, self.settings)

    def engine(self) -> Engine:
        """The database engine, migrated to the current schema on first use."""
        if self._engine is None:
            engine = open_engine(self.settings.database_url)
            ensure_schema(engine)
            self._engine = engine
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def sync_models(
        self,
        providers: Sequence[str] | None = None,
        *,
        force: bool = False,
        dry_run: bool = False,
        timeout: float | None = None,
        allow_removals: bool = False,
        lock_timeout: float | None = None,
        progress: Callable[[ProviderResult | PagesFetched], None] | None = None,
    ) -> SyncReport:
        """Sync the selected providers (default: every available one) and report.

        :param providers: instance names to sync; unknown names or missing credentials
            end the run with exit code 1 and a one-line message.
        :param force: sync even providers whose last sync is younger than their TTL.
        :param dry_run: fetch and compare, but write nothing at all to the database.
        :param timeout: seconds before a silent provider is given up (default: settings).
        :param allow_removals: accept a listing that is empty or removes more than half of
            a provider's models; without it such a listing fails the provider, nothing changed.
        :param lock_timeout: seconds to wait for a provider another run is syncing before
            skipping it as `locked` (default: settings).
        :param progress: called with each provider's result as soon as it is known, and
            with `PagesFetched` as pages arrive (from the fetch threads).
        """
        settings = self.settings
        if timeout is not None:
            settings = dataclasses.replace(settings, timeout=timeout)
        if lock_timeout is not None:
            settings = dataclasses.replace(settings, lock_timeout=lock_timeout)
        run = _Run(
            self,
            settings,
            force=force,
            dry_run=dry_run,
            requested=providers,
            allow_removals=allow_removals,
            progress=progress,
        )
        try:
            return run.execute()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"Database error: {describe(exc)}") from exc


class _Run:
    """The state of one `sync_models` call."""

    def __init__(
        self,
        syncer: Syncer,
        settings: Settings,
        *,
        force: bool,
        dry_run: bool,
        requested: Sequence[str] | None,
        allow_removals: bool,
        progress: Callable[[ProviderResult | PagesFetched], None] | None,
    ) -> None:
        self.allow_removals = allow_removals
        self.syncer = syncer
        self.progress = progress
        self.settings = settings
        self.force = force
        self.dry_run = dry_run
        self.requested = list(requested) if requested else None
        self.started_at = _now()
        self.run_id: int | None = None
        self.locks: Locks | None = None
        self.run_lock: Lock | None = None
        #: Built with the run's client once a provider is due: an all-fresh run downloads nothing.
        self.enrichment: Enrichment | None = None

    def execute(self) -> SyncReport:
        discovery = self.syncer.discover()
        try:
            selected = select(discovery, self.requested, self.settings)
        except UsageError as exc:
            return self._finish((), discovery, message=str(exc))
        engine = self._engine()
        last = self._last_syncs(engine, selected)
        try:
            if engine is not None and not self.dry_run:
                self.locks = locks_for(engine)
                self.run_id = self._start(engine)
                self._reap_stale_runs(engine)
            try:
                results = self._sync_all(engine, selected, last)
            except Exception:
                self._close_run(engine, status="failed", exit_code=1)
                raise
            except BaseException:
                self._close_run(engine, status="aborted", exit_code=130)
                raise
            return self._finish(results, discovery)
        finally:
            self._release_locks()

    def _engine(self) -> Engine | None:
        """The database, or None in a dry run against a database that does not exist yet."""
        if not self.dry_run:
            return self.syncer.engine()
        path = sqlite_path(self.settings.database_url)
        if path is not None and not path.exists():
            return None
        engine = open_engine(self.settings.database_url, create=False)
        try:
            with engine.connect() as connection:
                if current_revision(connection) != HEAD_REVISION:
                    return None
        except SQLAlchemyError as exc:
            raise DatabaseError(f"Cannot open the database: {describe(exc)}") from None
        return engine

    def _last_syncs(self, engine: Engine | None, selected: list[Provider]) -> dict[str, datetime]:
        if engine is None:
            return {}
        with engine.connect() as connection:
            return repository.last_successful_syncs(connection, [p.name for p in selected])

    def _start(self, engine: Engine) -> int:
        """Insert the run and take its liveness lock before the row becomes visible.

        Other runs treat a `running` row whose lock is free as crashed; taking the lock inside
        the inserting transaction means no run ever sees this one without its lock.
        """
        with engine.begin() as connection:
            run_id = repository.start_run(
                connection,
                started_at=self.started_at,
                forced=self.force,
                requested=self.requested,
                version=__version__,
            )
            if self.locks is not None:
                self.run_lock = self.locks.try_acquire(f"run:{run_id}", single_use=True)
        return run_id

    def _reap_stale_runs(self, engine: Engine) -> None:
        """Mark runs that died without closing (SIGKILL, power loss) as aborted."""
        assert self.locks is not None and self.run_id is not None
        with engine.connect() as connection:
            candidates = repository.running_runs(connection, besides=self.run_id)
        now = _now()
        for run_id, started_at in candidates:
            lock = self.locks.try_acquire(f"run:{run_id}", single_use=True)
            if lock is None and now - started_at < STALE_RUN_AGE:
                continue
            try:
                with engine.begin() as connection:
                    repository.mark_aborted(connection, run_id, finished_at=now)
            finally:
                if lock is not None:
                    lock.release()

    def _release_locks(self) -> None:
        if self.run_lock is not None:
            self.run_lock.release()
            self.run_lock = None
        if self.locks is not None:
            self.locks.dispose()

    def _sync_all(
        self, engine: Engine | None, selected: list[Provider], last: dict[str, datetime]
    ) -> list[ProviderResult]:
        results: dict[str, ProviderResult] = {}
        due = []
        for provider in selected:
            previous = last.get(provider.name)
            if previous is not None and self._fresh(provider, previous):
                results[provider.name] = self._report(self._skip(engine, provider, previous))
            else:
                due.append(provider)
        if due:
            results.update(self._fetch_and_write(engine, due, last))
        return [results[p.name] for p in selected]

    def _report(self, result: ProviderResult) -> ProviderResult:
        if self.progress is not None:
            self.progress(result)
        return result

    def _fresh(self, provider: Provider, previous: datetime) -> bool:
        if self.force:
            return False
        ttl = timedelta(seconds=self.settings.cache_ttl_for(provider.name))
        return _now() - previous < ttl

    def _skip(
        self, engine: Engine | None, provider: Provider, previous: datetime
    ) -> ProviderResult:
        result = ProviderResult(
            provider.name, "skipped", reason="cache_valid", last_synced_at=previous
        )
        now = _now()
        self._record(engine, result, started_at=now, finished_at=now)
        return result

    def _fetch_and_write(
        self, engine: Engine | None, due: list[Provider], last: dict[str, datetime]
    ) -> dict[str, ProviderResult]:
        """Fetch concurrently; write each provider in turn as its fetch completes."""
        settings = self.settings
        results: dict[str, ProviderResult] = {}
        with build_client(
            settings.timeout,
            max_retries=settings.max_retries,
            retry_wait_cap=settings.retry_wait_cap,
            transport=self.syncer._transport,
        ) as client:
            self.enrichment = Enrichment(self.syncer.plugins, settings, client)
            if self.progress is not None:
                client.event_hooks["response"].append(page_counter(self.progress))
            gate = threading.BoundedSemaphore(settings.concurrency)
            started = {p.name: self._start_fetch(engine, gate, p, client) for p in due}
            try:
                for provider in due:
                    future, clock, started_at = started[provider.name]
                    results[provider.name] = self._report(
                        self._complete(
                            engine, provider, future, clock, started_at, last.get(provider.name)
                        )
                    )
            except BaseException:
                for future, _, _ in started.values():
                    future.add_done_callback(_release_fetch_lock)
                raise
        return results

    def _start_fetch(
        self,
        engine: Engine | None,
        gate: threading.BoundedSemaphore,
        provider: Provider,
        client: httpx.Client,
    ) -> tuple[Future[_Fetched], float, datetime]:
        """Lock and fetch in a daemon thread: Ctrl-C must not wait for a silent provider."""
        future: Future[_Fetched] = Future()

        def work() -> None:
            future.set_running_or_notify_cancel()
            fetched = _Fetched()
            try:
                fetched.lock, fetched.skip = self._claim(engine, provider)
                if fetched.skip is None:
                    with gate:
                        fetched.records = fetch_models(
                            self.syncer.plugins, provider, client, self.settings
                        )
            except BaseException as exc:
                fetched.error = exc
            future.set_result(fetched)

        thread = threading.Thread(target=work, name=f"aisync-fetch-{provider.name}", daemon=True)
        clock, started_at = time.monotonic(), _now()
        thread.start()
        return future, clock, started_at

    def _claim(
        self, engine: Engine | None, provider: Provider
    ) -> tuple[Lock | None, tuple[str, datetime | None] | None]:
        """Take the provider's lock, and look again at its freshness once it is ours.

        A run that waited for another one to finish syncing the provider would otherwise
        sync it again at once, which is exactly the duplicate work the lock prevents.
        """
        if self.locks is None or engine is None:
            return None, None
        lock = acquire(self.locks, f"provider:{provider.name}", self.settings.lock_timeout)
        if lock is None:
            return None, ("locked", None)
        with engine.connect() as connection:
            previous = repository.last_successful_syncs(connection, [provider.name])
        when = previous.get(provider.name)
        if when is not None and self._fresh(provider, when):
            return lock, ("cache_valid", when)
        return lock, None

    def _complete(
        self,
        engine: Engine | None,
        provider: Provider,
        future: Future[_Fetched],
        clock: float,
        started_at: datetime,
        previous: datetime | None,
    ) -> ProviderResult:
        fetched = future.result()
        try:
            if fetched.skip is not None:
                reason, when = fetched.skip
                result = ProviderResult(
                    provider.name, "skipped", reason=reason, last_synced_at=when or previous
                )
                self._record(engine, result, started_at=started_at, finished_at=_now())
                return result
            if fetched.error is not None:
                raise fetched.error
            records, warnings = normalize(fetched.records)
            fetched.records = ()  # the plugin's own list: a big catalog must not be held twice
            return self._apply(engine, provider, records, warnings, clock, previous)
        except AisyncError as exc:
            result = ProviderResult(
                provider.name,
                "failed",
                reason=getattr(exc, "reason", "error"),
                error=_redact(str(exc), provider),
                last_synced_at=previous,
                duration_ms=_elapsed_ms(clock),
            )
            self._record(engine, result, started_at=started_at, finished_at=_now())
            return result
        finally:
            fetched.release()

    def _apply(
        self,
        engine: Engine | None,
        provider: Provider,
        records: list[ModelRecord],
        warnings: list[str],
        clock: float,
        previous: datetime | None,
    ) -> ProviderResult:
        records = self._enrich(engine, provider, records, warnings)
        figures, stats_error = self._stats(provider, records)
        diff = self._diff(engine, provider, records)
        suspicion = diff.mass_removal()
        if suspicion and not self.allow_removals:
            raise SuspectListing(
                f"Refused: {suspicion}; nothing was changed (--allow-removals accepts it)"
            )
        result = ProviderResult(
            provider.name,
            "synced",
            models_found=len(records),
            added=diff.added_count,
            changed=len(diff.changed),
            removed=len(diff.removed),
            stats=figures,
            stats_error=stats_error,
            last_synced_at=previous,
            model_ids=tuple(r.model_id for r in records),
            warnings=tuple(_redact(w, provider) for w in warnings),
            duration_ms=_elapsed_ms(clock),
        )
        if engine is not None and not self.dry_run and self.run_id is not None:
            self._write(engine, provider, diff, result)
        return result

    def _enrich(
        self,
        engine: Engine | None,
        provider: Provider,
        records: list[ModelRecord],
        warnings: list[str],
    ) -> list[ModelRecord]:
        """Fill what the API left empty; the catalog gives previous values and overrides."""
        state = EnrichmentState()
        if engine is not None:
            with engine.connect() as connection:
                state = repository.enrichment_state(connection, provider.name)
        assert self.enrichment is not None
        return self.enrichment.apply(provider, records, state, warnings)

    def _diff(self, engine: Engine | None, provider: Provider, records: list[ModelRecord]) -> Diff:
        stored = {}
        if engine is not None:
            with engine.connect() as connection:
                stored = repository.stored_models(connection, provider.name)
        try:
            return compute_diff(stored, records)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ProviderError(f"Plugin returned a raw payload that is not JSON: {exc}") from exc

    def _stats(
        self, provider: Provider, records: list[ModelRecord]
    ) -> tuple[dict[str, float], str | None]:
        """Statistics never fail a sync: a broken stats plugin costs only its figures."""
        try:
            hook = self.syncer.plugins.manager.hook.compute_stats
            return merge(hook(provider=provider, models=records)), None
        except Exception as exc:
            return {}, f"{type(exc).__name__}: {exc}"

    def _write(
        self, engine: Engine, provider: Provider, diff: Diff, result: ProviderResult
    ) -> None:
        assert self.run_id is not None
        now = _now()
        outcome = _outcome(result, started_at=now - timedelta(milliseconds=result.duration_ms))
        try:
            with engine.begin() as connection:
                repository.write_listing(
                    connection, provider=provider.name, run_id=self.run_id, now=now, diff=diff
                )
                repository.record_stats(connection, self.run_id, provider.name, result.stats)
                repository.record_provider_sync(connection, self.run_id, outcome)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"Cannot write the catalog: {describe(exc)}") from exc

    def _record(
        self,
        engine: Engine | None,
        result: ProviderResult,
        *,
        started_at: datetime,
        finished_at: datetime,
    ) -> None:
        if engine is None or self.dry_run or self.run_id is None:
            return
        outcome = _outcome(result, started_at=started_at, finished_at=finished_at)
        with engine.begin() as connection:
            repository.record_provider_sync(connection, self.run_id, outcome)

    def _close_run(self, engine: Engine | None, *, status: str, exit_code: int) -> None:
        if engine is None or self.run_id is None:
            return
        with engine.begin() as connection:
            repository.finish_run(
                connection, self.run_id, status=status, exit_code=exit_code, finished_at=_now()
            )

    def _finish(
        self,
        results: Iterable[ProviderResult],
        discovery: Discovery,
        *,
        message: str | None = None,
    ) -> SyncReport:
        report = SyncReport(
            started_at=self.started_at,
            finished_at=_now(),
            results=tuple(results),
            run_id=self.run_id,
            dry_run=self.dry_run,
            forced=self.force,
            message=message,
            skipped_providers=discovery.skipped,
            warnings=tuple(self.enrichment.run_warnings() if self.enrichment else ()),
        )
        if message is not None and not self.dry_run:
            engine = self.syncer.engine()
            self.run_id = self._start(engine)
            report = dataclasses.replace(report, run_id=self.run_id)
            self._close_run(engine, status=report.status, exit_code=report.exit_code)
        else:
            self._close_run(
                self.syncer.engine() if self.run_id else None,
                status=report.status,
                exit_code=report.exit_code,
            )
        self._notify(report)
        return report

    def _notify(self, report: SyncReport) -> None:
        """Call every `sync_finished` hook; a failing one is logged, never fatal."""
        log = logging.getLogger("aisync")
        for impl in self.syncer.plugins.manager.hook.sync_finished.get_hookimpls():
            try:
                impl.function(report=report, settings=self.settings)
            except Exception as exc:
                log.warning(
                    "sync_finished hook of %s failed: %s: %s",
                    impl.plugin_name,
                    type(exc).__name__,
                    exc,
                )
                log.debug("sync_finished hook of %s failed", impl.plugin_name, exc_info=True)


@dataclass
class _Fetched:
    """What a fetch thread hands back: the records or the error, and the lock it holds."""

    lock: Lock | None = None
    #: (reason, last successful sync) when the provider is not to be fetched after all.
    skip: tuple[str, datetime | None] | None = None
    records: Sequence[ModelRecord] = ()
    error: BaseException | None = None

    def release(self) -> None:
        if self.lock is not None:
            lock, self.lock = self.lock, None
            lock.release()


def _release_fetch_lock(future: Future[_Fetched]) -> None:
    future.result().release()


def _outcome(
    result: ProviderResult, *, started_at: datetime, finished_at: datetime | None = None
) -> repository.ProviderOutcome:
    return repository.ProviderOutcome(
        provider=result.provider,
        status=result.status,
        reason=result.reason,
        error=result.error,
        models_found=result.models_found,
        added=result.added,
        changed=result.changed,
        removed=result.removed,
        started_at=started_at,
        finished_at=finished_at or _now(),
        duration_ms=result.duration_ms,
    )


def _redact(text: str, provider: Provider) -> str:
    """Keys never reach output, logs or the database, even when a provider echoes them."""
    if provider.api_key and len(provider.api_key) >= 4:
        return text.replace(provider.api_key, "***")
    return text


def _elapsed_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)


def _now() -> datetime:
    return datetime.now(UTC)
