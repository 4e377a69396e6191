"""The shared HTTP layer against a real server: retries, Retry-After, error messages."""

from __future__ import annotations

import httpx
import pytest

from aisync.errors import InvalidApiKey, PermissionDenied, ProviderError, RateLimited
from aisync.http import build_client, json_body, provider_error
from tests.fakeserver import FakeServer, Reply


def get(server: FakeServer, **options: float) -> httpx.Response:
    with build_client(5.0, **options) as client:  # type: ignore[arg-type]
        return client.get(server.url + "/models")


def test_429_with_retry_after_is_retried_then_succeeds(fake_server: FakeServer) -> None:
    fake_server.route(
        "/models",
        Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0"}),
        Reply(200, {"data": []}),
    )
    assert json_body(get(fake_server)) == {"data": []}
    assert len(fake_server.requests) == 2


def test_retry_after_beyond_the_cap_fails_at_once(fake_server: FakeServer) -> None:
    fake_server.route("/models", Reply(429, {}, headers={"Retry-After": "60"}))
    with pytest.raises(RateLimited, match="^Rate limit exceeded, retry after 60 seconds$"):
        get(fake_server)
    assert len(fake_server.requests) == 1


def test_5xx_is_retried_a_bounded_number_of_times(fake_server: FakeServer) -> None:
    fake_server.route("/models", Reply(503, raw=b"<html><body>Service Unavailable</body></html>"))
    with pytest.raises(ProviderError, match="^Provider error 503: Service Unavailable$"):
        get(fake_server, max_retries=2, retry_wait_cap=10.0)
    assert len(fake_server.requests) == 3


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (Reply(401, {"error": {"message": "Incorrect API key"}}), InvalidApiKey, "Invalid API key"),
        (Reply(403, {}), PermissionDenied, "Permission denied"),
        (
            Reply(400, {"error": {"message": "API key not valid.", "status": "INVALID_ARGUMENT"}}),
            InvalidApiKey,
            "Invalid API key",
        ),
        (Reply(404, {"detail": "Not Found"}), ProviderError, "Provider error 404: Not Found"),
        (Reply(429, {}), RateLimited, "Rate limit exceeded"),
    ],
)
def test_error_statuses_map_to_human_messages(
    fake_server: FakeServer, reply: Reply, error: type[Exception], message: str
) -> None:
    fake_server.route("/models", reply)
    with pytest.raises(error) as raised:
        get(fake_server, max_retries=0)
    assert str(raised.value) == message


def test_body_that_is_not_json(fake_server: FakeServer) -> None:
    fake_server.route("/models", Reply(200, raw=b'{"data": [trunc'))
    with pytest.raises(ProviderError, match="^Response is not valid JSON"):
        json_body(get(fake_server))


def test_connection_refused_names_the_host() -> None:
    with build_client(2.0) as client, pytest.raises(httpx.ConnectError) as raised:
        client.get("http://127.0.0.1:9/models")
    assert str(provider_error(raised.value, 2.0)) == "Cannot connect to 127.0.0.1"


def test_timeout_message_quotes_the_timeout(fake_server: FakeServer) -> None:
    fake_server.route("/models", Reply(200, {}, delay=2))
    with build_client(0.3) as client, pytest.raises(httpx.TimeoutException) as raised:
        client.get(fake_server.url + "/models")
    assert str(provider_error(raised.value, 0.3)) == "Request timeout after 0.3 seconds"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_response_over_the_size_bound_fails(fake_server: FakeServer, declared: bool) -> None:
    body = b'{"data": [' + b'{"id": "x"},' * 20_000 + b'{"id": "y"}]}'
    headers = {} if declared else {"Transfer-Encoding": "chunked"}
    fake_server.route("/models", Reply(200, raw=body, headers=headers))
    with (
        build_client(5.0, max_response_bytes=100_000) as client,
        pytest.raises(ProviderError, match=r"^Response larger than 0\.0953674 MB$"),
    ):
        client.get(fake_server.url + "/models")


def test_response_under_the_bound_is_read(fake_server: FakeServer) -> None:
    fake_server.route("/models", Reply(200, {"data": [{"id": "x"}]}))
    with build_client(5.0, max_response_bytes=100_000) as client:
        assert json_body(client.get(fake_server.url + "/models")) == {"data": [{"id": "x"}]}


@pytest.mark.parametrize(
    ("retry_after", "message"),
    [
        ("0", "Rate limit exceeded, retry after 0 seconds"),
        ("1", "Rate limit exceeded, retry after 1 second"),
        ("1.2", "Rate limit exceeded, retry after 2 seconds"),
        ("119", "Rate limit exceeded, retry after 119 seconds"),
        ("120", "Rate limit exceeded, retry after 2 minutes"),
        ("150", "Rate limit exceeded, retry after about 3 minutes"),
        ("7200", "Rate limit exceeded, retry after 2 hours"),
        ("259200", "Rate limit exceeded, retry after 3 days"),
        ("2300000000", "Rate limit exceeded, retry after about 73 years"),
        ("9" * 30, "Rate limit exceeded, retry after more than 100 years"),
        ("Fri, 01 Jan 9999 00:00:00 GMT", "Rate limit exceeded, retry after more than 100 years"),
        ("inf", "Rate limit exceeded"),
        ("nan", "Rate limit exceeded"),
        ("-5", "Rate limit exceeded"),
    ],
)
def test_retry_after_reads_as_a_person_would_say_it(
    fake_server: FakeServer, retry_after: str, message: str
) -> None:
    fake_server.route("/models", Reply(429, {}, headers={"Retry-After": retry_after}))
    with pytest.raises(RateLimited) as raised:
        get(fake_server, max_retries=0)
    assert str(raised.value) == message


def test_timeout_of_one_second_is_singular(fake_server: FakeServer) -> None:
    fake_server.route("/models", Reply(200, {}, delay=2))
    with build_client(1) as client, pytest.raises(httpx.TimeoutException) as raised:
        client.get(fake_server.url + "/models")
    assert str(provider_error(raised.value, 1)) == "Request timeout after 1 second"
