"""Enrichment source downloads: once per run, revalidated against a copy in the user cache.

A source is one big JSON file (models.dev's `api.json`, LiteLLM's price list) that changes
a few times a day at most and is shared by every provider of a run. So it is downloaded at
most once per run and only when a provider actually syncs; a copy younger than the TTL is
used without asking; an older one is revalidated with `If-None-Match` / `If-Modified-Since`
so an unchanged file costs a 304. A source that is down or sends garbage falls back to the
cached copy with one warning line, and with no copy the run goes on without its data: an
enrichment source must never fail a provider's sync.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from aisync.errors import AisyncError
from aisync.http import provider_error


def default_cache_directory() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("aisync") / "sources"


@dataclass(frozen=True)
class _Copy:
    """A cached download: where its body is and what the server said about it."""

    body: Path
    etag: str | None
    last_modified: str | None
    fetched_at: float


class SourceCache:
    """The downloads of one run, memoized per URL; safe to call from several threads."""

    def __init__(self, client: httpx.Client, directory: Path, ttl: float) -> None:
        """
        :param client: the run's HTTP client (timeout, User-Agent, retries).
        :param directory: where copies are kept between runs.
        :param ttl: seconds a copy is used before it is revalidated.
        """
        self._client = client
        self._directory = directory
        self._ttl = ttl
        self._results: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._warnings: list[str] = []

    def fetch_json(self, name: str, url: str) -> Any | None:
        """The parsed JSON at `url` for source `name`, or None when there is no data."""
        with self._guard:
            lock = self._locks.setdefault(url, threading.Lock())
        with lock:
            if url not in self._results:
                self._results[url] = self._load(name, url)
            return self._results[url]

    def take_warnings(self) -> list[str]:
        """The warnings raised since the last call: each is reported once per run."""
        with self._guard:
            taken, self._warnings = self._warnings, []
        return taken

    def _load(self, name: str, url: str) -> Any | None:
        copy = self._read_copy(name, url)
        if copy is not None and time.time() - copy.fetched_at < self._ttl:
            data = _parse(copy.body)
            if data is not None:
                return data
        try:
            response = self._client.get(url, headers=_conditional_headers(copy))
            if response.status_code == 304 and copy is not None:
                data = _parse(copy.body)
                if data is not None:
                    self._write_meta(copy.body, url, copy.etag, copy.last_modified)
                    return data
                raise AisyncError("the cached copy is unreadable")
            data = _json(response)
        except AisyncError as exc:
            return self._fall_back(name, url, copy, str(exc))
        except httpx.HTTPError as exc:
            reason = str(provider_error(exc, self._client.timeout.read or 0))
            return self._fall_back(name, url, copy, reason)
        self._store(name, url, response)
        return data

    def _fall_back(self, name: str, url: str, copy: _Copy | None, reason: str) -> Any | None:
        data = _parse(copy.body) if copy is not None else None
        if copy is None or data is None:
            self._warn(f"Enrichment source {name} is unavailable ({reason}); no copy is cached")
            return None
        when = datetime.fromtimestamp(copy.fetched_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        self._warn(
            f"Enrichment source {name} is unavailable ({reason}); using its copy from {when}"
        )
        return data

    def _warn(self, message: str) -> None:
        with self._guard:
            self._warnings.append(message)

    def _paths(self, name: str, url: str) -> tuple[Path, Path]:
        slug = re.sub(r"[^0-9A-Za-z.-]", "_", name)
        stem = f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"
        return self._directory / f"{stem}.json", self._directory / f"{stem}.meta.json"

    def _read_copy(self, name: str, url: str) -> _Copy | None:
        body, meta_path = self._paths(name, url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            fetched_at = float(meta["fetched_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not body.is_file():
            return None
        return _Copy(body, meta.get("etag"), meta.get("last_modified"), fetched_at)

    def _store(self, name: str, url: str, response: httpx.Response) -> None:
        """Keep the body for the next runs; a cache that cannot be written only costs that."""
        body, _ = self._paths(name, url)
        try:
            body.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(body, response.content)
            self._write_meta(
                body, url, response.headers.get("etag"), response.headers.get("last-modified")
            )
        except OSError:
            return

    def _write_meta(
        self, body: Path, url: str, etag: str | None, last_modified: str | None
    ) -> None:
        meta = {"url": url, "etag": etag, "last_modified": last_modified, "fetched_at": time.time()}
        try:
            _write_atomically(
                body.with_name(body.name.removesuffix(".json") + ".meta.json"),
                json.dumps(meta).encode("utf-8"),
            )
        except OSError:
            return


def _conditional_headers(copy: _Copy | None) -> dict[str, str]:
    if copy is None:
        return {}
    headers = {}
    if copy.etag:
        headers["If-None-Match"] = copy.etag
    if copy.last_modified:
        headers["If-Modified-Since"] = copy.last_modified
    return headers


def _json(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise AisyncError(f"HTTP {response.status_code}")
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise AisyncError("the response is not valid JSON") from None


def _parse(path: Path) -> Any | None:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename, so a concurrent run never reads half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)
