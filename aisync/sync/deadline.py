"""A provider's total deadline, enforced inside its HTTP requests.

`--timeout` bounds each read, so a server that trickles a byte a second never trips it. The
engine stops waiting for a fetch at its deadline whatever it is doing; this transport also
cuts the fetch's own requests there, so the thread gives up its connection and its slot
instead of reading on. Each fetch thread sets its deadline with `running_until`; requests
made by other threads (enrichment downloads) are left alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from aisync.errors import DeadlineExceeded

_current = threading.local()


@contextmanager
def running_until(at: float, seconds: float) -> Iterator[None]:
    """Within the block, this thread's requests end at `at` (monotonic) with
    `DeadlineExceeded(seconds)`."""
    _current.deadline = (at, seconds)
    try:
        yield
    finally:
        _current.deadline = None


def _deadline() -> tuple[float, float] | None:
    deadline: tuple[float, float] | None = getattr(_current, "deadline", None)
    return deadline


class DeadlineTransport(httpx.BaseTransport):
    """Refuse requests past the deadline, shorten every timeout to what is left of it,
    and stop a response body as soon as a chunk arrives after it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = _deadline()
        if deadline is None:
            return self._inner.handle_request(request)
        at, seconds = deadline
        left = at - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded(seconds)
        timeouts = request.extensions.get("timeout", {})
        request.extensions["timeout"] = {
            name: left if value is None else min(value, left) for name, value in timeouts.items()
        }
        try:
            response = self._inner.handle_request(request)
        except httpx.TimeoutException:
            if time.monotonic() >= at:
                raise DeadlineExceeded(seconds) from None
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _DeadlineStream(response.stream, at, seconds)
        return response

    def close(self) -> None:
        self._inner.close()


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, at: float, seconds: float) -> None:
        self._stream = stream
        self._at = at
        self._seconds = seconds

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._stream:
                if time.monotonic() >= self._at:
                    raise DeadlineExceeded(self._seconds)
                yield chunk
        except httpx.TimeoutException:
            if time.monotonic() >= self._at:
                raise DeadlineExceeded(self._seconds) from None
            raise

    def close(self) -> None:
        self._stream.close()
