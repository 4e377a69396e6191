"""A webhook receiver on 127.0.0.1: real HTTP, scripted answers, every POST recorded.

Answers are played in order (the last one repeats): a status code, or `HANG` to hold the
request until the test calls `release()` (a receiver that never answers).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = -1


@dataclass
class Delivery:
    headers: Any  # an email.message.Message: case-insensitive, as a receiver sees them
    body: bytes
    path: str


def free_port() -> int:
    """A port nothing listens on (yet): a receiver that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    def __init__(self, *answers: int, port: int = 0) -> None:
        self.answers = list(answers) or [200]
        #: Every POST, answered or not, in arrival order.
        self.requests: list[Delivery] = []
        self._outcomes: list[bool] = []
        self.arrived = threading.Event()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    @property
    def delivered(self) -> list[Delivery]:
        """The POSTs answered 2xx, in order."""
        return [d for d, ok in zip(self.requests, self._outcomes, strict=True) if ok]

    def release(self) -> None:
        self._released.set()

    def _answer(self) -> int:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver._answer()
                receiver.requests.append(Delivery(self.headers, body, self.path))
                receiver._outcomes.append(200 <= status < 300)
                receiver.arrived.set()
                if status == HANG:
                    receiver._released.wait(30)
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release()
            self._server.shutdown()
            self._server.server_close()
