"""Live fetch progress: fetches under way, pages received and retries, per provider, for a
display while a sync runs.

Plugins are not asked to report anything: a response hook on the run's shared HTTP client
counts the responses each fetch thread receives, and the client's retry transport says when
it waits to retry. Fetch threads are named `aisync-fetch-<provider>`, so the thread that
handles a request says whose it is.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aisync.report import ProviderResult

if TYPE_CHECKING:
    import httpx

FETCH_THREAD_PREFIX = "aisync-fetch-"


@dataclass(frozen=True)
class FetchBegan:
    """`provider`'s fetch has its concurrency slot and is under way: its clock starts."""

    provider: str


@dataclass(frozen=True)
class Retrying:
    """A request of `provider` failed with `reason` (`429`, `503`) and is sent again after
    `wait_s` seconds. Says nothing of the request itself: no URL, no header, no key."""

    provider: str
    reason: str
    wait_s: float


@dataclass(frozen=True)
class PagesFetched:
    """`provider` has received `pages` HTTP responses so far in this run."""

    provider: str
    pages: int


#: What a run's `progress` callback is called with.
ProgressEvent = ProviderResult | FetchBegan | PagesFetched | Retrying


def guarded(report: Callable[[ProgressEvent], None]) -> Callable[[ProgressEvent], None]:
    """The embedder's callback, made harmless: it is a display, so whatever it raises
    (from a fetch thread or the run's own) is logged at debug level and costs nothing else,
    least of all a provider whose fetch happened to report a page."""

    def report_safely(event: ProgressEvent) -> None:
        try:
            report(event)
        except Exception:
            logging.getLogger("aisync").debug("progress callback failed", exc_info=True)

    return report_safely


def page_counter(report: Callable[[PagesFetched], None]) -> Callable[[httpx.Response], None]:
    """A response hook calling `report` once per response received by a fetch thread."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def hook(response: httpx.Response) -> None:
        name = threading.current_thread().name
        if not name.startswith(FETCH_THREAD_PREFIX):
            return
        provider = name.removeprefix(FETCH_THREAD_PREFIX)
        with lock:
            counts[provider] += 1
            pages = counts[provider]
        report(PagesFetched(provider, pages))

    return hook


def retry_reporter(
    report: Callable[[Retrying], None],
) -> Callable[[httpx.Request, str, float], None]:
    """A retry callback for the run's HTTP client, naming the provider whose fetch thread
    waits; a request from elsewhere (an enrichment source) is named by its host."""

    def on_retry(request: httpx.Request, reason: str, wait_s: float) -> None:
        report(Retrying(_provider_of_thread() or request.url.host, reason, wait_s))

    return on_retry


def _provider_of_thread() -> str | None:
    name = threading.current_thread().name
    return name.removeprefix(FETCH_THREAD_PREFIX) if name.startswith(FETCH_THREAD_PREFIX) else None
