"""The fetch step of a run: each provider fetched and normalized in a thread of its own.

A fetch holds a concurrency slot while it runs and its provider's lock until the run has
written it; the run can give up on a fetch that outlasts its deadline and take both back
at once, while the thread itself runs on (a daemon) and nothing it returns is written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aisync.records import ModelRecord, Provider
from aisync.settings import Settings
from aisync.sync.plugins import Plugins
from aisync.sync.progress import FetchBegan

if TYPE_CHECKING:
    import httpx

    from aisync.db.locks import Lock
    from aisync.sync.raw import RawItems

#: (reason, last successful sync) of a provider that is not to be fetched after all.
Skip = tuple[str, datetime | None]
#: Takes a provider's lock and says whether it is to be skipped after all.
Claim = Callable[[Provider], tuple["Lock | None", Skip | None]]


class Fetches:
    """Every fetch of one run, by provider: their locks are released however the run ends.

    A forced run starts its fetches before the run is registered; such a fetch waits for
    `registered()` and takes its lock then (`locked=False`). Other fetches take the lock
    first.
    """

    def __init__(
        self,
        plugins: Plugins,
        settings: Settings,
        claim: Claim,
        announce: Callable[[FetchBegan], None] | None = None,
    ) -> None:
        self.plugins = plugins
        #: Told when a fetch gets its slot, for a live display of the fetches under way.
        self.announce = announce
        self.settings = settings
        self.claim = claim
        self.started: dict[str, FetchStarted] = {}
        self.gate = threading.BoundedSemaphore(settings.concurrency)
        #: Set once the run is registered, or failed to be; `ready` says which.
        self._registered = threading.Event()
        self._ready = False

    def registered(self, *, ready: bool) -> None:
        """The run is registered (`ready`) or failed to be: fetches waiting for it go on."""
        self._ready = ready
        self._registered.set()

    def abandon_all(self) -> None:
        for fetch in self.started.values():
            fetch.abandon()

    def until_deadline(self, pending: Mapping[Future[Fetched], Provider]) -> float:
        """Seconds until the first of the pending fetches reaches its deadline; a fetch
        still waiting for its lock or its turn has none yet, and cannot get an earlier one."""
        deadline = self.settings.deadline
        ends = [
            began + deadline
            for provider in pending.values()
            if (began := self.started[provider.name].began) is not None
        ]
        return max(0.0, min(ends) - time.monotonic()) if ends else deadline

    def start(self, provider: Provider, client: httpx.Client, *, locked: bool) -> FetchStarted:
        """Fetch and normalize in a daemon thread (Ctrl-C must not wait for a silent
        provider), taking the provider's lock before the fetch when `locked`, else once the
        run is registered. Normalizing as the listing arrives lets a plugin that yields
        page by page hand over each page's parsed JSON as soon as it is compacted. The
        deadline runs from the moment the fetch has its concurrency slot."""
        # What the thread runs (and httpx with it) is imported here, in the main thread,
        # once a provider is due: an all-fresh run loads none of it.
        from aisync.sync import deadline, fetch, normalize, raw  # noqa: F401

        started = self.started[provider.name] = FetchStarted(
            self.gate, time.monotonic(), datetime.now(UTC)
        )
        thread = threading.Thread(
            target=self._work,
            args=(provider, client, started, locked),
            name=f"aisync-fetch-{provider.name}",
            daemon=True,
        )
        thread.start()
        return started

    def _work(
        self, provider: Provider, client: httpx.Client, started: FetchStarted, locked: bool
    ) -> None:
        from aisync.sync.deadline import running_until
        from aisync.sync.fetch import RawAnswer, fetch_models, without_key
        from aisync.sync.normalize import normalize
        from aisync.sync.raw import collect, salt

        fetched = started.fetched
        deadline = self.settings.deadline
        started.future.set_running_or_notify_cancel()
        try:
            if locked:
                started.keep(*self.claim(provider))
            began = started.enter_gate() if fetched.skip is None else None
            if began is not None:
                if self.announce is not None:
                    self.announce(FetchBegan(provider.name))
                try:
                    with running_until(began + deadline, deadline):
                        listing = fetch_models(self.plugins, provider, client, self.settings)
                        if isinstance(listing, RawAnswer):
                            prefix = salt(listing.listing, provider, self.plugins)
                            fetched.raw = collect(
                                listing.listing, prefix, listing.plugin, listing.fail
                            )
                        else:
                            records, fetched.warnings = normalize(listing)
                            fetched.records = without_key(
                                records, provider.api_key, fetched.warnings
                            )
                finally:
                    started.leave_gate()
            if not locked:
                waiting = time.monotonic()
                self._registered.wait()
                fetched.waited = time.monotonic() - waiting
                if self._ready and not started.abandoned:
                    started.keep(*self.claim(provider))
        except BaseException as exc:
            fetched.error = exc
        started.future.set_result(fetched)


class FetchStarted:
    """A fetch thread's state, shared with the run so that the run can take back the lock
    and the concurrency slot of a fetch it stops waiting for."""

    def __init__(self, gate: threading.BoundedSemaphore, clock: float, at: datetime) -> None:
        self.future: Future[Fetched] = Future()
        #: When the fetch began, for its duration (monotonic) and its row (wall clock).
        self.clock = clock
        self.at = at
        #: When the fetch got its concurrency slot: its deadline runs from there.
        self.began: float | None = None
        self.fetched = Fetched()
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

    def keep(self, lock: Lock | None, skip: Skip | None) -> None:
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
class Fetched:
    """What a fetch thread hands back: the records or the error, and the lock it holds."""

    lock: Lock | None = None
    #: (reason, last successful sync) when the provider is not to be fetched after all.
    skip: Skip | None = None
    #: The listing, normalized as it arrived (`fetch_models` reads it lazily).
    records: list[ModelRecord] = field(default_factory=list)
    #: A raw-first listing, digested as it arrived: mapped in the write step.
    raw: RawItems | None = None
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None
    #: Seconds spent waiting for the run to be registered: the catalog's start-up, which a
    #: provider's duration leaves out.
    waited: float = 0.0

    def release(self) -> None:
        if self.lock is not None:
            lock, self.lock = self.lock, None
            lock.release()
