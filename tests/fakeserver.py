"""A fake provider server on 127.0.0.1: real HTTP, answers scripted per path.

Each route is a list of `Reply`s played in order (the last one repeats), so a test can
script "429 then 200" or "never answer". A dynamic route is a function of the request's
path and query instead (pages of a catalog too big to script). Requests are recorded for
assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None
    #: Send the body without Content-Length, in pieces, ended by closing the connection:
    #: a server that never says how big its answer will be.
    stream: bool = False

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


class FakeServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.dynamic: dict[str, Callable[[str], Reply]] = {}
        self.requests: list[Recorded] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def route_dynamic(self, path: str, answer: Callable[[str], Reply]) -> None:
        """Answer `path` with `answer(full path with query)`, called for every request."""
        self.dynamic[path] = answer

    def _next(self, path: str) -> Reply:
        answer = self.dynamic.get(path.split("?")[0])
        if answer is not None:
            return answer(path)
        replies = self.routes.get(path.split("?")[0])
        if not replies:
            return Reply(404, {"error": {"message": f"no route {path}"}})
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(Recorded("GET", self.path, dict(self.headers)))
                reply = server._next(self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.payload()
                headers = {"Content-Type": "application/json", **reply.headers}
                if not reply.stream:
                    headers["Content-Length"] = str(len(payload))
                try:
                    self.send_response(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    for start in range(0, len(payload), 1 << 16):
                        self.wfile.write(payload[start : start + (1 << 16)])
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
