"""Live fetch progress: pages received per provider, for a display while a sync runs.

Plugins are not asked to report anything: a response hook on the run's shared HTTP client
counts the responses each fetch thread receives. Fetch threads are named
`aisync-fetch-<provider>`, so the thread that handles a response says whose page it is.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

FETCH_THREAD_PREFIX = "aisync-fetch-"


@dataclass(frozen=True)
class PagesFetched:
    """`provider` has received `pages` HTTP responses so far in this run."""

    provider: str
    pages: int


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
