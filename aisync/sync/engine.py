"""`Syncer`, the sync API: one run is discover -> freshness -> fetch -> normalize -> enrich
-> diff -> write -> report, each step in a module of this package.

Providers are fetched concurrently through one shared HTTP client; each provider's results
are written in a transaction of its own as soon as its fetch ends, so a provider that
fails (or a crash) never leaves half a listing and never touches another provider's rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aisync.errors import UsageError
from aisync.records import Provider
from aisync.report import ProviderResult, SyncReport
from aisync.settings import Settings, load_settings
from aisync.sync.discovery import Discovery, discover, select
from aisync.sync.fetching import Fetches
from aisync.sync.freshness import Freshness
from aisync.sync.plugins import Plugins, get_plugin_manager
from aisync.sync.progress import ProgressEvent, guarded, page_counter, retry_reporter
from aisync.sync.reporting import close_run, close_stopped, notify, owed_notifications

if TYPE_CHECKING:
    # The HTTP client, enrichment and write steps are imported once a provider is due:
    # an all-fresh run (the cron path) loads no httpx.
    import httpx
    from sqlalchemy import Engine

    from aisync.db.ledger import Ledger
    from aisync.sync.enrich import Enrichment


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
        progress: Callable[[ProgressEvent], None] | None = None,
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
        :param progress: called with each provider's result as soon as it is known, and,
            from the fetch threads, with `FetchBegan` as a fetch starts, `PagesFetched` as
            pages arrive and `Retrying` before a retry waits (aisync.sync.progress).
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
    """The state of one `sync_models` call, running the steps in order.

    A forced run fetches every selected provider whatever the catalog says, so it starts
    the fetches before it opens the catalog: loading the database layer, migrating and
    inserting the run's row then cost nothing while the providers answer. Each fetch takes
    its provider's lock once the run is registered, before anything is read or written.
    Other runs take the lock first and fetch only what is not fresh (freshness.py).

    Each provider is written as soon as its fetch ends, in the order they end (writing.py);
    one that outlasts its deadline fails while its thread is left behind, its lock and its
    concurrency slot taken back, so that nothing it does can hold up the rest (fetching.py).
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
        progress: Callable[[ProgressEvent], None] | None,
    ) -> None:
        self.allow_removals = allow_removals
        self.syncer = syncer
        self.progress = guarded(progress) if progress is not None else None
        self.settings = settings
        self.force = force
        self.dry_run = dry_run
        self.requested = list(requested) if requested else None
        self.started_at = _now()
        self.ledger: Ledger | None = None
        self.freshness = Freshness(settings, force=force)
        self.fetches = Fetches(
            syncer.plugins, settings, lambda p: self.freshness.claim(self.ledger, p), self.progress
        )
        self.client: httpx.Client | None = None
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
            self.fetches.abandon_all()
            close_stopped(self.ledger, exc)
            raise
        finally:
            if self.ledger is not None:
                self.ledger.release()
            if self.client is not None:
                self.client.close()

    def _execute(self, selected: list[Provider], discovery: Discovery) -> SyncReport:
        if self.force:
            for provider in selected:
                self.fetches.start(provider, self._http(), locked=False)
        ready = False
        try:
            ledger = self.ledger = self._open_ledger()
            if not self.dry_run:
                ledger.begin(
                    started_at=self.started_at, forced=self.force, requested=self.requested
                )
            ready = True
        finally:
            self.fetches.registered(ready=ready)
        return self._finish(self._sync_all(selected, ledger), discovery)

    def _open_ledger(self) -> Ledger:
        """The catalog (imported here, not at start-up); a dry run opens only one that
        exists and is at head, and creates nothing."""
        from aisync.db.ledger import Ledger, open_existing

        if self.dry_run:
            return Ledger(open_existing(self.settings.database_url), dry_run=True)
        return Ledger(self.syncer.engine(), dry_run=False)

    def _sync_all(self, selected: list[Provider], ledger: Ledger) -> list[ProviderResult]:
        last = ledger.last_syncs([p.name for p in selected])
        started = self.fetches.started
        fresh = []
        for provider in selected:
            previous = last.get(provider.name)
            if provider.name in started:
                continue
            if previous is not None and self.freshness.fresh(provider, previous):
                fresh.append(
                    ProviderResult(
                        provider.name, "skipped", reason="cache_valid", last_synced_at=previous
                    )
                )
            else:
                self.fetches.start(provider, self._http(), locked=True)
        ledger.record(*fresh, started_at=_now())
        results = {result.provider: self._report(result) for result in fresh}
        if not started:
            return [results[p.name] for p in selected]
        from aisync.sync.writing import Writer

        writer = Writer(
            ledger,
            self.syncer.plugins,
            self.settings,
            self.enrichment,
            dry_run=self.dry_run,
            allow_removals=self.allow_removals,
        )
        pending = {started[p.name].future: p for p in selected if p.name in started}
        unread = list(pending.items())
        while pending:
            if unread and not any(future.done() for future in pending):
                # Idle until a fetch ends: read a fetching provider's stored listing meanwhile.
                future, provider = unread.pop(0)
                if not future.done():
                    writer.preload(provider)
                continue
            done, _ = wait(
                pending, timeout=self.fetches.until_deadline(pending), return_when=FIRST_COMPLETED
            )
            for future in done:
                provider = pending.pop(future)
                result = writer.complete(provider, started[provider.name], last.get(provider.name))
                results[provider.name] = self._report(result)
            for future, provider in list(pending.items()):
                # One that ended while others were written is written on the next turn.
                if not future.done() and started[provider.name].overdue(self.settings.deadline):
                    del pending[future]
                    result = writer.time_out(
                        provider, started[provider.name], last.get(provider.name)
                    )
                    results[provider.name] = self._report(result)
        return [results[p.name] for p in selected]

    def _report(self, result: ProviderResult) -> ProviderResult:
        if self.progress is not None:
            self.progress(result)
        return result

    def _http(self) -> httpx.Client:
        """The run's one client (and the enrichment that downloads through it), built when
        the first provider is due: an all-fresh run opens no connection at all."""
        if self.client is None:
            import httpx

            # The write step too, before any fetch thread starts rather than once one runs:
            # a Ctrl-C landing while it was imported, a fetch under way, ended the process
            # by the signal (exit -2) instead of 130 (tests/test_signals.py, 3 runs in 16
            # on a loaded machine).
            import aisync.sync.writing  # noqa: F401
            from aisync.http import build_client
            from aisync.sync.deadline import DeadlineTransport
            from aisync.sync.enrich import Enrichment

            settings = self.settings
            self.client = build_client(
                settings.timeout,
                max_retries=settings.max_retries,
                retry_wait_cap=settings.retry_wait_cap,
                transport=DeadlineTransport(self.syncer._transport or httpx.HTTPTransport()),
                on_retry=retry_reporter(self.progress) if self.progress is not None else None,
            )
            if self.progress is not None:
                self.client.event_hooks["response"].append(page_counter(self.progress))
            self.enrichment = Enrichment(self.syncer.plugins, settings, self.client)
        return self.client

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
        owed = []
        if self.ledger is not None and not self.dry_run and report.run_id is not None:
            owed = owed_notifications(report, self.settings, self.syncer.engine())
        close_run(self.ledger, report, owed)
        notify(self.syncer.plugins, report, self.settings)
        return report


def _now() -> datetime:
    return datetime.now(UTC)
