"""What an enrichment source plugin is handed: `SourceContext`, part of the plugin contract.

It lives apart from the enrichment step so that a plugin author reads the contract alone,
and so that the contract imports nothing of the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Downloads(Protocol):
    """Where a context gets a source's JSON: the core's per-user cache of downloads."""

    def fetch_json(self, name: str, url: str) -> Any | None: ...


class SourceContext:
    """What the core hands a source plugin: its settings, its download and a per-run memo.

    One context exists per source and run, shared by every provider of the run, so a
    plugin that builds its index with `memo` builds it once, not once per provider.
    """

    def __init__(self, name: str, settings: Mapping[str, Any], downloads: Downloads) -> None:
        self.name = name
        #: The source's `[enrich.<name>]` table, with `url` from `AISYNC_<NAME>_URL`.
        self.settings = settings
        self._downloads = downloads
        self._memo: dict[str, Any] = {}
        self._lock = threading.Lock()
        #: Set once a download came back with no data: the source is unavailable this run.
        self.unavailable = False

    @property
    def url(self) -> str | None:
        """The URL the user configured for this source, if any."""
        url = self.settings.get("url")
        return url if isinstance(url, str) and url else None

    def fetch_json(self, default_url: str) -> Any | None:
        """The source's JSON, from the configured URL or `default_url`; None for no data.

        Downloaded at most once per run, revalidated against the user's cached copy, and
        falling back to that copy when the source is down (the core reports it).
        """
        data = self._downloads.fetch_json(self.name, self.url or default_url)
        if data is None:
            self.unavailable = True
        return data

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """`build()`'s result, computed once per run for `key` (e.g. the look-up index)."""
        with self._lock:
            if key not in self._memo:
                self._memo[key] = build()
            return self._memo[key]  # type: ignore[no-any-return]
