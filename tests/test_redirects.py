"""Redirects never carry a key to another origin: real servers on two ports record what
they receive; a mock transport stands in for the https hops a local server cannot serve."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aisync.http import build_client, json_body
from tests.fakeserver import FakeServer, Recorded, Reply

SECRET = "sk-redirect-secret-0123456789"
#: Every header a provider (or a plugin) authenticates with, plus two harmless ones.
SENT_HEADERS = {
    "Authorization": f"Bearer {SECRET}",
    "x-api-key": SECRET,
    "x-goog-api-key": SECRET,
    "api-key": SECRET,
    "Cookie": f"session={SECRET}",
    "Proxy-Authorization": f"Basic {SECRET}",
    "X-Plugin-Auth-Token": SECRET,
    "anthropic-version": "2023-06-01",
}
OK = Reply(200, {"data": []})


@pytest.fixture
def other_server() -> Iterator[FakeServer]:
    """A second server on another port of 127.0.0.1: another origin."""
    with FakeServer().running() as server:
        yield server


def leaked(recorded: Recorded) -> list[str]:
    """The places in one received request where the secret shows."""
    places = [name for name, value in recorded.headers.items() if SECRET in value]
    return places + (["query"] if SECRET in recorded.path else [])


def get(url: str) -> httpx.Response:
    with build_client(5.0, max_retries=0) as client:
        return client.get(url, headers=SENT_HEADERS, params={"key": SECRET})


def test_redirect_to_another_port_strips_every_credential(
    fake_server: FakeServer, other_server: FakeServer
) -> None:
    target = f"{other_server.url}/models?key={SECRET}&api_key={SECRET}&page=2"
    fake_server.route(
        "/models",
        Reply(302, {}, headers={"Location": target, "Set-Cookie": f"jar={SECRET}; Path=/"}),
    )
    other_server.route("/models", OK)
    assert json_body(get(fake_server.url + "/models")) == {"data": []}
    assert leaked(fake_server.requests[0])  # the first hop did carry the key
    [received] = other_server.requests
    assert leaked(received) == []
    assert received.path == "/models?page=2"
    assert received.headers["anthropic-version"] == "2023-06-01"


def test_redirect_to_another_host_name_strips_the_key(fake_server: FakeServer) -> None:
    """`localhost` and `127.0.0.1` reach the same server but are different origins."""
    port = fake_server.url.rsplit(":", 1)[1]
    fake_server.route(
        "/models", Reply(301, {}, headers={"Location": f"http://localhost:{port}/moved"})
    )
    fake_server.route("/moved", OK)
    get(fake_server.url + "/models")
    _, moved = fake_server.requests
    assert moved.headers["Host"] == f"localhost:{port}"
    assert leaked(moved) == []


def test_key_does_not_come_back_when_redirected_home(
    fake_server: FakeServer, other_server: FakeServer
) -> None:
    fake_server.route("/models", Reply(302, {}, headers={"Location": other_server.url + "/a"}))
    other_server.route("/a", Reply(302, {}, headers={"Location": fake_server.url + "/home"}))
    fake_server.route("/home", OK)
    get(fake_server.url + "/models")
    assert [r.path for r in fake_server.requests] == [f"/models?key={SECRET}", "/home"]
    assert leaked(fake_server.requests[1]) == []
    assert leaked(other_server.requests[0]) == []


@pytest.mark.parametrize(
    "location", ["/v2/models", "{base}/v2/models"], ids=["relative", "absolute"]
)
def test_same_origin_redirect_keeps_the_key(fake_server: FakeServer, location: str) -> None:
    fake_server.route(
        "/models", Reply(307, {}, headers={"Location": location.format(base=fake_server.url)})
    )
    fake_server.route("/v2/models", OK)
    with build_client(5.0, max_retries=0) as client:
        client.get(fake_server.url + "/models", headers={"x-api-key": SECRET})
    assert fake_server.requests[1].path == "/v2/models"
    assert fake_server.requests[1].headers["x-api-key"] == SECRET


def sent_through_mock(start: str, location: str) -> list[httpx.Request]:
    """The requests a client sends when `start` redirects to `location`, https included."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1:
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, json={"data": []})

    with build_client(5.0, max_retries=0, transport=httpx.MockTransport(answer)) as client:
        client.get(start, headers=SENT_HEADERS, params={"key": SECRET})
    return sent


@pytest.mark.parametrize(
    ("start", "location"),
    [
        ("https://api.example.com:8443/models", "http://api.example.com:8443/models"),
        ("https://api.example.com/models", "http://api.example.com/models"),
        ("http://api.example.com/models", "https://api.example.com/models"),
        ("https://api.example.com/models", "https://api.example.com:8443/models"),
        ("https://api.example.com/models", "https://cdn.example.com/models"),
    ],
    ids=["https-to-http", "https-to-http-default-ports", "http-upgrade", "port", "host"],
)
def test_any_change_of_origin_strips_every_credential(start: str, location: str) -> None:
    first, redirected = sent_through_mock(start, location + f"?key={SECRET}")
    assert SECRET in str(first.url) and first.headers["x-api-key"] == SECRET
    assert str(redirected.url) == location
    carried = [name for name, value in redirected.headers.items() if SECRET in value]
    assert carried == []
    assert redirected.headers["anthropic-version"] == "2023-06-01"


def test_https_same_origin_with_explicit_default_port_keeps_the_key() -> None:
    _, redirected = sent_through_mock(
        "https://api.example.com/models", "https://api.example.com:443/v2/models"
    )
    assert redirected.headers["x-goog-api-key"] == SECRET
