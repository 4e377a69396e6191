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
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from aisync.deadline import DeadlineTransport, running_until
from aisync.diff import Diff, StoredModel, compute_diff
from aisync.discovery import Discovery, discover, select
from aisync.enrich import Enrichment
from aisync.errors import (
    AisyncError,
    DeadlineExceeded,
    ProviderError,
    SuspectListing,
    Terminated,
    UsageError,
)
from aisync.fetch import fetch_models, redacted, without_key
from aisync.http import build_client
from aisync.normalize import normalize
from aisync.plugins import Plugins, call_each, get_plugin_manager
from aisync.preview import dry_run_changes
from aisync.progress import PagesFetched, page_counter
from aisync.records import ModelRecord, Provider
from aisync.report import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    ProviderResult,
    SyncReport,
)
from aisync.settings import Settings, load_settings
from aisync.stats import checked, merge

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aisync.db.ledger import Ledger
    from aisync.db.locks import Lock
    from aisync.db.outbox import Outgoing


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
            from aisync.db.ledger import open_catalog

            self._engine = open_catalog(self.settings.database_url)
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
        deadline: float | None = None,
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
        :param deadline: seconds one provider's whole fetch may take before it fails as
            `Timed out after N s` (default: settings, else six timeouts).
        :param progress: called with each provider's result as soon as it is known, and
            with `PagesFetched` as pages arrive (from the fetch threads).
        """
        settings = self.settings
        if timeout is not None:
            settings = dataclasses.replace(settings, timeout=timeout)
        if lock_timeout is not None:
            settings = dataclasses.replace(settings, lock_timeout=lock_timeout)
        if deadline is not None:
            settings = dataclasses.replace(settings, provider_deadline=deadline)
        run = _Run(
            self,
            settings,
            force=force,
            dry_run=dry_run,
            requested=providers,
            allow_removals=allow_removals,
            progress=progress,
        )
        return run.execute()


class _Run:
    """The state of one `sync_models` call.

    A forced run fetches every selected provider whatever the catalog says, so it starts
    the fetches before it opens the catalog: loading the database layer, migrating and
    inserting the run's row then cost nothing while the providers answer. Each fetch takes
    its provider's lock once the run is registered, before anything is read or written.
    Other runs take the lock first and fetch only what is not fresh.

    Each provider is written as soon as its fetch ends, in the order they end; one that
    outlasts its deadline fails while its thread is left behind, its lock and its
    concurrency slot taken back, so that nothing it does can hold up the rest.
    """

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
        self.ledger: Ledger | None = None
        #: Set once the run is registered, or failed to be; `ready` says which.
        self.registered = threading.Event()
        self.ready = False
        #: Every fetch started, by provider: their locks are released however the run ends.
        self.fetches: dict[str, _FetchStarted] = {}
        self.client: httpx.Client | None = None
        self.gate = threading.BoundedSemaphore(settings.concurrency)
        #: Built with the run's client once a provider is due: an all-fresh run downloads nothing.
        self.enrichment: Enrichment | None = None

    def execute(self) -> SyncReport:
        discovery = self.syncer.discover()
        try:
            selected = select(discovery, self.requested, self.settings)
        except UsageError as exc:
            return self._finish((), discovery, message=str(exc))
        try:
            return self._execute(selected, discovery)
        except BaseException as exc:
            for fetch in self.fetches.values():
                fetch.abandon()
            self._close_stopped(exc)
            raise
        finally:
            if self.ledger is not None:
                self.ledger.release()
            if self.client is not None:
                self.client.close()

    def _execute(self, selected: list[Provider], discovery: Discovery) -> SyncReport:
        if self.force:
            for provider in selected:
                self.fetches[provider.name] = self._start_fetch(provider, locked=False)
        try:
            ledger = self.ledger = self._open_ledger()
            if not self.dry_run:
                ledger.begin(
                    started_at=self.started_at, forced=self.force, requested=self.requested
                )
            self.ready = True
        finally:
            self.registered.set()
        return self._finish(self._sync_all(selected), discovery)

    def _close_stopped(self, exc: BaseException) -> None:
        """Close the run that `exc` stopped: `failed` for an error, `aborted` for Ctrl-C
        (exit 130) or SIGTERM (exit 143), recorded within seconds whatever was interrupted."""
        if self.ledger is None:
            return
        if isinstance(exc, Exception):
            self.ledger.close_run(status="failed", exit_code=EXIT_FAILED)
            return
        _forget_frames(exc)
        code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
        self.ledger.abort(exit_code=code)

    def _open_ledger(self) -> Ledger:
        """The catalog (imported here, not at start-up); a dry run opens only one that
        exists and is at head, and creates nothing."""
        from aisync.db.ledger import Ledger, open_existing

        if self.dry_run:
            return Ledger(open_existing(self.settings.database_url), dry_run=True)
        return Ledger(self.syncer.engine(), dry_run=False)

    def _sync_all(self, selected: list[Provider]) -> list[ProviderResult]:
        assert self.ledger is not None
        last = self.ledger.last_syncs([p.name for p in selected])
        started = self.fetches
        fresh = []
        for provider in selected:
            previous = last.get(provider.name)
            if provider.name in started:
                continue
            if previous is not None and self._fresh(provider, previous):
                fresh.append(
                    ProviderResult(
                        provider.name, "skipped", reason="cache_valid", last_synced_at=previous
                    )
                )
            else:
                started[provider.name] = self._start_fetch(provider, locked=True)
        self.ledger.record(*fresh, started_at=_now())
        results = {result.provider: self._report(result) for result in fresh}
        pending = {started[p.name].future: p for p in selected if p.name in started}
        while pending:
            done, _ = wait(
                pending, timeout=self._until_deadline(pending), return_when=FIRST_COMPLETED
            )
            for future in done:
                provider = pending.pop(future)
                result = self._complete(provider, started[provider.name], last)
                results[provider.name] = self._report(result)
            for future, provider in list(pending.items()):
                # One that ended while others were written is written on the next turn.
                if not future.done() and started[provider.name].overdue(self.settings.deadline):
                    del pending[future]
                    result = self._time_out(provider, started[provider.name], last)
                    results[provider.name] = self._report(result)
        return [results[p.name] for p in selected]

    def _until_deadline(self, pending: Mapping[Future[_Fetched], Provider]) -> float:
        """Seconds until the first of the pending fetches reaches its deadline; a fetch
        still waiting for its lock or its turn has none yet, and cannot get an earlier one."""
        deadline = self.settings.deadline
        ends = [
            began + deadline
            for provider in pending.values()
            if (began := self.fetches[provider.name].began) is not None
        ]
        return max(0.0, min(ends) - time.monotonic()) if ends else deadline

    def _time_out(
        self, provider: Provider, started: _FetchStarted, last: dict[str, datetime]
    ) -> ProviderResult:
        """Fail a fetch that outlasted its deadline and take back its lock and slot; its
        thread runs on (a daemon), but nothing it returns is ever written."""
        assert self.ledger is not None
        started.abandon()
        error = DeadlineExceeded(self.settings.deadline)
        return self._failed(provider, error, started, last.get(provider.name), started.clock)

    def _report(self, result: ProviderResult) -> ProviderResult:
        if self.progress is not None:
            self.progress(result)
        return result

    def _fresh(self, provider: Provider, previous: datetime) -> bool:
        if self.force:
            return False
        ttl = timedelta(seconds=self.settings.cache_ttl_for(provider.name))
        return _now() - previous < ttl

    def _http(self) -> httpx.Client:
        """The run's one client (and the enrichment that downloads through it), built when
        the first provider is due: an all-fresh run opens no connection at all."""
        if self.client is None:
            settings = self.settings
            self.client = build_client(
                settings.timeout,
                max_retries=settings.max_retries,
                retry_wait_cap=settings.retry_wait_cap,
                transport=DeadlineTransport(self.syncer._transport or httpx.HTTPTransport()),
            )
            if self.progress is not None:
                self.client.event_hooks["response"].append(page_counter(self.progress))
            self.enrichment = Enrichment(self.syncer.plugins, settings, self.client)
        return self.client

    def _start_fetch(self, provider: Provider, *, locked: bool) -> _FetchStarted:
        """Fetch and normalize in a daemon thread (Ctrl-C must not wait for a silent
        provider), taking the provider's lock before the fetch when `locked`, else once the
        run is registered. Normalizing as the listing arrives lets a plugin that yields
        page by page hand over each page's parsed JSON as soon as it is compacted. The
        deadline runs from the moment the fetch has its concurrency slot."""
        client = self._http()
        started = _FetchStarted(self.gate, time.monotonic(), _now())
        fetched = started.fetched
        deadline = self.settings.deadline

        def work() -> None:
            started.future.set_running_or_notify_cancel()
            try:
                if locked:
                    started.keep(*self._claim(provider))
                began = started.enter_gate() if fetched.skip is None else None
                if began is not None:
                    try:
                        with running_until(began + deadline, deadline):
                            listing = fetch_models(
                                self.syncer.plugins, provider, client, self.settings
                            )
                            records, fetched.warnings = normalize(listing)
                            fetched.records = without_key(
                                records, provider.api_key, fetched.warnings
                            )
                    finally:
                        started.leave_gate()
                if not locked:
                    waiting = time.monotonic()
                    self.registered.wait()
                    fetched.waited = time.monotonic() - waiting
                    if self.ready and not started.abandoned:
                        started.keep(*self._claim(provider))
            except BaseException as exc:
                fetched.error = exc
            started.future.set_result(fetched)

        thread = threading.Thread(target=work, name=f"aisync-fetch-{provider.name}", daemon=True)
        thread.start()
        return started

    def _claim(self, provider: Provider) -> tuple[Lock | None, tuple[str, datetime | None] | None]:
        """Take the provider's lock, and look again at its freshness once it is ours.

        A run that waited for another one to finish syncing the provider would otherwise
        sync it again at once, which is exactly the duplicate work the lock prevents.
        """
        ledger = self.ledger
        if ledger is None:
            return None, None
        taken, lock = ledger.claim(provider.name, self.settings.lock_timeout)
        if not taken:
            return None, ("locked", None)
        if lock is None or self.force:
            return lock, None
        when = ledger.last_syncs([provider.name]).get(provider.name)
        if when is not None and self._fresh(provider, when):
            return lock, ("cache_valid", when)
        return lock, None

    def _complete(
        self, provider: Provider, started: _FetchStarted, last: dict[str, datetime]
    ) -> ProviderResult:
        assert self.ledger is not None
        fetched = started.future.result()
        previous = last.get(provider.name)
        clock = started.clock + fetched.waited
        try:
            if fetched.skip is not None:
                reason, when = fetched.skip
                result = ProviderResult(
                    provider.name, "skipped", reason=reason, last_synced_at=when or previous
                )
                self.ledger.record(result, started_at=started.at)
                return result
            if fetched.error is not None:
                raise fetched.error
            records, fetched.records = fetched.records, []
            return self._apply(provider, records, fetched.warnings, clock, previous)
        except AisyncError as exc:
            return self._failed(provider, exc, started, previous, clock)
        finally:
            fetched.release()

    def _failed(
        self,
        provider: Provider,
        exc: AisyncError,
        started: _FetchStarted,
        previous: datetime | None,
        clock: float,
    ) -> ProviderResult:
        assert self.ledger is not None
        result = ProviderResult(
            provider.name,
            "failed",
            reason=getattr(exc, "reason", "error"),
            error=_redact(str(exc), provider),
            last_synced_at=previous,
            duration_ms=_elapsed_ms(clock),
        )
        self.ledger.record(result, started_at=started.at)
        return result

    def _apply(
        self,
        provider: Provider,
        records: list[ModelRecord],
        warnings: list[str],
        clock: float,
        previous: datetime | None,
    ) -> ProviderResult:
        assert self.ledger is not None and self.enrichment is not None
        stored, state = self.ledger.stored_listing(provider.name)
        records = self.enrichment.apply(provider, records, state, warnings)
        figures, stats_error = self._stats(provider, records)
        diff = _diff(stored, records)
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
        if self.dry_run:
            would = dry_run_changes(self.settings, provider.name, diff)
            result = dataclasses.replace(result, would=would)
        self.ledger.write(diff, result)
        return result

    def _stats(
        self, provider: Provider, records: list[ModelRecord]
    ) -> tuple[dict[str, float], str | None]:
        """Statistics never fail a sync: each plugin is asked on its own, and one that
        fails (raises, or answers something that is not figures) costs only its figures."""
        hook = self.syncer.plugins.manager.hook.compute_stats
        answers = list(call_each(hook, {"provider": provider, "models": records}, checked))
        failed = [f"plugin {a.plugin}: {a.failure(provider.api_key)}" for a in answers if a.error]
        merged = merge(a.result for a in answers if a.result is not None)
        return merged, "; ".join(failed) or None

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
            run_id=self.ledger.run_id if self.ledger else None,
            dry_run=self.dry_run,
            forced=self.force,
            message=message,
            skipped_providers=discovery.skipped,
            warnings=tuple(self.enrichment.run_warnings() if self.enrichment else ()),
        )
        # A run refused before it started (unknown provider, no credentials) records
        # nothing: `sync_runs` has no column for its reason, and an empty failed run row
        # would only say "something failed" while the reason went to stderr.
        if self.ledger is not None:
            self.ledger.close_run(
                status=report.status,
                exit_code=report.exit_code,
                notifications=self._webhooks(report),
            )
        self._notify(report)
        return report

    def _webhooks(self, report: SyncReport) -> list[Outgoing]:
        """The webhook notifications the run owes (`aisync.notify`), queued by the ledger in
        the transaction that closes the run; delivered after it, by `sync_finished`."""
        if self.dry_run or report.run_id is None:
            return []
        from aisync.notify.body import notifications_for

        return notifications_for(report, self.settings, self.syncer.engine())

    def _notify(self, report: SyncReport) -> None:
        """Call every `sync_finished` hook; a failing one is logged, never fatal."""
        log = logging.getLogger("aisync")
        hook = self.syncer.plugins.manager.hook.sync_finished
        for answer in call_each(hook, {"report": report, "settings": self.settings}):
            if answer.error is not None:
                log.warning("sync_finished hook of %s failed: %s", answer.plugin, answer.failure())
                log.debug("sync_finished hook of %s failed", answer.plugin, exc_info=answer.error)


class _FetchStarted:
    """A fetch thread's state, shared with the run so that the run can take back the lock
    and the concurrency slot of a fetch it stops waiting for."""

    def __init__(self, gate: threading.BoundedSemaphore, clock: float, at: datetime) -> None:
        self.future: Future[_Fetched] = Future()
        #: When the fetch began, for its duration (monotonic) and its row (wall clock).
        self.clock = clock
        self.at = at
        #: When the fetch got its concurrency slot: its deadline runs from there.
        self.began: float | None = None
        self.fetched = _Fetched()
        self.abandoned = False
        self._gate = gate
        self._in_gate = False
        self._guard = threading.Lock()

    def overdue(self, deadline: float) -> bool:
        began = self.began
        return began is not None and time.monotonic() >= began + deadline

    def enter_gate(self) -> float | None:
        """Wait for a concurrency slot and say when it came; None (and no slot) once the
        run gave up on this fetch."""
        self._gate.acquire()
        with self._guard:
            if self.abandoned:
                self._gate.release()
                return None
            self._in_gate = True
            self.began = time.monotonic()
            return self.began

    def leave_gate(self) -> None:
        """Give the slot back, once: the thread and the run that abandons it both try."""
        with self._guard:
            if self._in_gate:
                self._in_gate = False
                self._gate.release()

    def keep(self, lock: Lock | None, skip: tuple[str, datetime | None] | None) -> None:
        """Hold the lock the thread took, unless the run gave up on it meanwhile."""
        with self._guard:
            if not self.abandoned:
                self.fetched.lock, self.fetched.skip = lock, skip
                return
        if lock is not None:
            lock.release()

    def abandon(self) -> None:
        """The run no longer waits for this fetch: free its slot and its lock now, and
        any lock it takes later as soon as it takes it."""
        with self._guard:
            self.abandoned = True
        self.leave_gate()
        self.fetched.release()


@dataclass
class _Fetched:
    """What a fetch thread hands back: the records or the error, and the lock it holds."""

    lock: Lock | None = None
    #: (reason, last successful sync) when the provider is not to be fetched after all.
    skip: tuple[str, datetime | None] | None = None
    #: The listing, normalized as it arrived (`fetch_models` reads it lazily).
    records: list[ModelRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None
    #: Seconds spent waiting for the run to be registered: the catalog's start-up, which a
    #: provider's duration leaves out.
    waited: float = 0.0

    def release(self) -> None:
        if self.lock is not None:
            lock, self.lock = self.lock, None
            lock.release()


def _forget_frames(exc: BaseException) -> None:
    """Clear the locals of the frames an interrupt unwound. A read it cut short keeps its
    cursor there, and on SQLite that cursor's read lock would keep the run from recording
    its abort (its own write waits for the lock the whole busy timeout, then fails).
    Clearing is enough for the cursor to go; a full garbage collection of a big listing
    would cost seconds."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        current = current.__context__


def _diff(stored: Mapping[str, StoredModel], records: list[ModelRecord]) -> Diff:
    try:
        return compute_diff(stored, records)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ProviderError(f"Plugin returned a raw payload that is not JSON: {exc}") from exc


def _redact(text: str, provider: Provider) -> str:
    """Keys never reach output, logs or the database, even when a provider echoes them;
    a key too short to be a secret is left alone (`aisync.fetch.redacted`)."""
    return redacted(text, provider.api_key)


def _elapsed_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)


def _now() -> datetime:
    return datetime.now(UTC)
