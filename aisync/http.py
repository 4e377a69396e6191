"""The run's HTTP client and the one place where HTTP failures become aisync errors.

Providers never build clients: they get the run's client, which carries the timeout, the
User-Agent, bounded retries for 429/5xx and a response hook that turns every error status
into an `aisync.errors.ProviderError` with the seed's wording. Transport failures (timeouts,
refused connections) surface as httpx exceptions and are mapped by `provider_error`.
"""

from __future__ import annotations

import base64
import email.utils
import re
import time
import zlib
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

try:
    import brotli  # type: ignore[import-untyped, import-not-found, unused-ignore]
except ImportError:  # brotli is optional, as in httpx: without it no `br` is asked for
    brotli = None

from aisync import __version__
from aisync.errors import (
    BadResponse,
    ConnectionFailed,
    InvalidApiKey,
    PermissionDenied,
    ProviderError,
    RateLimited,
    RequestTimeout,
)
from aisync.jsontext import json_body as json_body  # plugins' documented import
from aisync.settings import redact_userinfo

USER_AGENT = f"aisync/{__version__} (+https://pypi.org/project/aisync/) httpx/{httpx.__version__}"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
MAX_REDIRECTS = 5
#: No model list comes near this; a bigger answer is a misbehaving server, not a catalog.
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
#: The most a decoder hands over at once: what a compressed body costs beyond its bound.
_BLOCK = 64 * 1024
#: Phrases providers use in a 400 answer when the real problem is the key (Gemini, xAI).
_BAD_KEY_MARKERS = ("API_KEY_INVALID", "API key not valid", "Incorrect API key")
#: A request header with one of these words in its name authenticates and never crosses to
#: another origin: `Authorization`, `Proxy-Authorization`, `Cookie`, Anthropic's `x-api-key`,
#: Gemini's `x-goog-api-key`, Azure's `api-key`, and a plugin's `X-Auth-Token`.
_CREDENTIAL_WORDS = frozenset(
    {"auth", "authorization", "key", "apikey", "token", "secret", "password", "cookie", "session"}
)
#: Query parameters that carry a key (Gemini's `key=`); a redirect to another origin drops
#: them. Matched by exact name: a signed URL's `X-Amz-Signature` is meant for its target.
_CREDENTIAL_PARAMS = frozenset(
    {"key", "api_key", "apikey", "api-key", "access_token", "auth_token"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DELAY_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$")


def build_client(
    timeout: float,
    *,
    max_retries: int = 2,
    retry_wait_cap: float = 10.0,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    transport: httpx.BaseTransport | None = None,
    on_retry: RetryCallback | None = None,
) -> httpx.Client:
    """Build the one client a run shares between all providers.

    `timeout` applies to connect, read, write and pool waits alike, so `--timeout 5` means a
    silent server is given up on after 5 seconds. Retries wait as `Retry-After` says, but
    never longer than `retry_wait_cap`: a provider asking for more is reported at once.
    Without `Retry-After` the wait doubles from half a second, up to `retry_wait_cap`.
    A response body larger than `max_response_bytes` once decoded fails the request.
    `on_retry` hears of each retry before its wait (for a live display, `-v`).
    """
    inner = transport or httpx.HTTPTransport()
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": _ACCEPT_ENCODING,
        },
        # Redirects are followed by `RedirectTransport`, which keeps keys to their origin.
        transport=RedirectTransport(
            RetryTransport(
                inner,
                max_retries=max_retries,
                wait_cap=retry_wait_cap,
                max_bytes=max_response_bytes,
                on_retry=on_retry,
            )
        ),
        follow_redirects=False,
        auth=UrlCredentials(),
        event_hooks={"response": [raise_for_provider_error]},
    )


class UrlCredentials(httpx.Auth):
    """What `user:password@` in a URL means: Basic auth, only when the request carries no
    `Authorization` of its own (a key wins), and never part of the URL that is sent and
    logged. httpx alone would put the password in its request log and let it replace the
    provider's Bearer key."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        if url.userinfo:
            if "Authorization" not in request.headers:
                pair = f"{url.username}:{url.password}".encode()
                request.headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
            request.url = url.copy_with(userinfo=b"")
        yield request


class RedirectTransport(httpx.BaseTransport):
    """Follow redirects below the client, so every hop is built here, in public httpx API.

    httpx's own redirect following drops only `Authorization` on another origin (and keeps
    even that on an http-to-https upgrade): Anthropic's `x-api-key`, Gemini's
    `x-goog-api-key`, Azure's `api-key` and a cookie would reach whatever host a 302 names.
    Here a hop to another scheme, host or port carries no credential header and no key
    query parameter; a hop within the origin keeps them. Cookies a redirect sets are not
    sent on: no provider's listing needs them.
    """

    def __init__(self, inner: httpx.BaseTransport, *, max_redirects: int = MAX_REDIRECTS) -> None:
        self._inner = inner
        self._max_redirects = max_redirects

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(self._max_redirects + 1):
            response = self._inner.handle_request(request)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECT_STATUSES or not location:
                return response
            response.close()
            request = _next_hop(request, response.status_code, location)
        raise httpx.TooManyRedirects(f"More than {self._max_redirects} redirects", request=request)

    def close(self) -> None:
        self._inner.close()


def _next_hop(request: httpx.Request, status: int, location: str) -> httpx.Request:
    """The request a redirect asks for, as browsers and httpx build it: 303 (and 301/302
    after a POST) turns into a body-less GET; 307 and 308 repeat the request as it was."""
    url = request.url.join(location)
    method = request.method
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
    headers = httpx.Headers(request.headers)
    headers["Host"] = url.netloc.decode("ascii")
    keep_body = status in (307, 308)
    if not keep_body:
        for name in ("content-length", "transfer-encoding", "content-type"):
            headers.pop(name, None)
    hop = httpx.Request(
        method,
        url,
        headers=headers,
        stream=request.stream if keep_body else None,
        extensions=request.extensions,
    )
    if _origin(url) != _origin(request.url):
        _strip_credentials(hop)
    return hop


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port, the default port spelled out: `https://a` is `https://a:443`."""
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _is_credential_header(name: str) -> bool:
    return not _CREDENTIAL_WORDS.isdisjoint(re.split(r"[-_]", name.lower()))


def _strip_credentials(request: httpx.Request) -> None:
    """Drop what authenticates `request` to the origin it was first meant for."""
    for name in [name for name in request.headers if _is_credential_header(name)]:
        del request.headers[name]
    params = request.url.params.multi_items()
    kept = [(k, v) for k, v in params if k.lower() not in _CREDENTIAL_PARAMS]
    if len(kept) != len(params):
        request.url = request.url.copy_with(params=kept)


#: Told of a retry about to wait: the request, why (the status, `429`), and the seconds.
RetryCallback = Callable[[httpx.Request, str, float], None]


class RetryTransport(httpx.BaseTransport):
    """Retry 429 and 5xx answers a bounded number of times with exponential backoff."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        max_retries: int,
        wait_cap: float,
        max_bytes: int = MAX_RESPONSE_BYTES,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: RetryCallback | None = None,
    ) -> None:
        self._inner = inner
        self._max_retries = max_retries
        self._wait_cap = wait_cap
        self._max_bytes = max_bytes
        self._backoff = backoff
        self._sleep = sleep
        self._on_retry = on_retry

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            response = _capped(self._inner.handle_request(request), self._max_bytes)
            if response.status_code not in RETRYABLE_STATUSES or attempt >= self._max_retries:
                return response
            response.read()
            if _quota_exhausted(response):
                return response
            wait = retry_after_seconds(response)
            if wait is None:
                wait = min(self._backoff * 2**attempt, self._wait_cap)
            elif wait > self._wait_cap:
                return response
            response.close()
            if self._on_retry is not None:
                self._on_retry(request, str(response.status_code), wait)
            self._sleep(wait)
            attempt += 1

    def close(self) -> None:
        self._inner.close()


class _CappedStream(httpx.SyncByteStream):
    """A response body that fails once it grows past the bound, before it fills memory."""

    def __init__(self, stream: httpx.SyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._stream:
            received += len(chunk)
            if received > self._limit:
                raise _too_large(self._limit)
            yield chunk

    def close(self) -> None:
        self._stream.close()


def _capped(response: httpx.Response, limit: int) -> httpx.Response:
    """Bound the body the client will hold: the declared length, then the bytes as decoded."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise _too_large(limit)
    response.stream = _CappedStream(_decoded(response), limit)
    return response


def _decoded(response: httpx.Response) -> httpx.SyncByteStream:
    """The body decoded here, in bounded blocks, and no longer marked as encoded for httpx.

    httpx would inflate each received chunk whole, so a 64 KiB chunk of a gzip bomb became
    64 MB at once and no bound could be checked before the memory was taken.
    """
    assert isinstance(response.stream, httpx.SyncByteStream)
    encoding = response.headers.get("content-encoding", "")
    codings = [c for c in encoding.lower().replace(" ", "").split(",") if c not in ("", "identity")]
    if not codings:
        return response.stream
    if not set(codings) <= _DECODERS.keys():
        response.close()
        raise BadResponse(f"Response uses an unsupported encoding ({encoding})")
    del response.headers["content-encoding"]
    response.headers.pop("content-length", None)
    return _DecodedStream(response.stream, [_DECODERS[c]() for c in reversed(codings)])


class _Decoder(Protocol):
    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield what `data` decodes to, in blocks of about `_BLOCK` bytes at most."""
        ...


class _Inflate:
    """gzip or zlib inflation, asking zlib for one block at a time however dense the input."""

    def __init__(self, wbits: int) -> None:
        self._inflate = zlib.decompressobj(wbits)

    def decode(self, data: bytes) -> Iterator[bytes]:
        while True:
            block = self._inflate.decompress(data, _BLOCK)
            if block:
                yield block
            data = self._inflate.unconsumed_tail
            if not data and len(block) < _BLOCK:
                return


class _Deflate:
    """`deflate` as servers send it: zlib-wrapped (as RFC 9110 says) or raw (as some do),
    told apart by the zlib header of the first two bytes."""

    def __init__(self) -> None:
        self._head = b""
        self._inflate: _Inflate | None = None

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._inflate is None:
            self._head += data
            if len(self._head) < 2:
                return
            cmf, flg = self._head[0], self._head[1]
            wrapped = cmf & 0x0F == zlib.DEFLATED and (cmf << 8 | flg) % 31 == 0
            self._inflate = _Inflate(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        yield from self._inflate.decode(data)


class _Brotli:
    """Brotli with its output bounded per call (brotli >= 1.2; older ones cannot)."""

    def __init__(self) -> None:
        self._brotli = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        block = self._brotli.process(data, output_buffer_limit=_BLOCK)
        while True:
            if block:
                yield block
            if self._brotli.can_accept_more_data():
                return
            block = self._brotli.process(b"", output_buffer_limit=_BLOCK)


class _DecodedStream(httpx.SyncByteStream):
    """A body decoded through `decoders` (the last applied coding first), block by block."""

    def __init__(self, stream: httpx.SyncByteStream, decoders: list[_Decoder]) -> None:
        self._stream = stream
        self._decoders = decoders

    def __iter__(self) -> Iterator[bytes]:
        blocks: Iterator[bytes] = iter(self._stream)
        for decoder in self._decoders:
            blocks = _through(decoder, blocks)
        try:
            yield from blocks
        except _DECODE_ERRORS as exc:
            raise BadResponse("Response body could not be decoded") from exc

    def close(self) -> None:
        self._stream.close()


def _through(decoder: _Decoder, blocks: Iterator[bytes]) -> Iterator[bytes]:
    for data in blocks:
        yield from decoder.decode(data)


def _brotli_bounded() -> bool:
    """Whether the installed brotli (if any) can bound its output; httpx would use any."""
    try:
        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except (AttributeError, TypeError):
        return False
    return True


#: The content codings aisync decodes itself, within the bound; the only ones it asks for.
_DECODERS: dict[str, Callable[[], _Decoder]] = {
    "gzip": lambda: _Inflate(16 + zlib.MAX_WBITS),
    "deflate": _Deflate,
}
if _brotli_bounded():
    _DECODERS["br"] = _Brotli
_DECODE_ERRORS: tuple[type[Exception], ...] = (zlib.error, *([brotli.error] if brotli else []))
_ACCEPT_ENCODING = ", ".join(_DECODERS)


def _too_large(limit: int) -> BadResponse:
    return BadResponse(f"Response larger than {limit / 1024 / 1024:g} MB")


def raise_for_provider_error(response: httpx.Response) -> None:
    """Response hook: raise the aisync error that an error status means, once, for all."""
    if response.status_code < 400:
        return
    response.read()
    raise error_for_response(response)


def error_for_response(response: httpx.Response) -> ProviderError:
    status = response.status_code
    if status == 401:
        return InvalidApiKey()
    if status == 403:
        return PermissionDenied()
    if status == 400 and any(marker in response.text for marker in _BAD_KEY_MARKERS):
        return InvalidApiKey(status=400)
    if status == 429:
        return RateLimited(retry_after_seconds(response))
    return ProviderError(f"Provider error {status}: {provider_message(response)}", status=status)


def provider_message(response: httpx.Response) -> str:
    """The provider's own one-line explanation of an error, whatever shape it uses."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = _message_from_body(body) or response.reason_phrase or "no message"
    return " ".join(message.split())[:200]


def _message_from_body(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    for value in (error, body.get("detail"), body.get("message")):
        if isinstance(value, str):
            return value
    return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """How long the provider asks us to wait, from its headers or (Gemini) its body."""
    header = response.headers.get("retry-after")
    if header:
        return _parse_retry_after(header.strip())
    reset = response.headers.get("x-ratelimit-reset-requests")
    if reset:
        return _parse_duration(reset.strip())
    return _gemini_retry_delay(response)


def _parse_retry_after(value: str) -> float | None:
    """Seconds (digits, as RFC 9110 says; a fraction is tolerated) or an HTTP date; `inf`,
    `nan` and negative numbers, which `float` would take, are no delay at all."""
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _parse_duration(value: str) -> float | None:
    """Parse the Go-style durations of rate-limit headers (`1s`, `6m0s`, `120ms`)."""
    if value.endswith("ms"):
        try:
            return float(value[:-2]) / 1000
        except ValueError:
            return None
    match = _DURATION.match(value)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _gemini_retry_delay(response: httpx.Response) -> float | None:
    try:
        details = response.json()["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            delay = _parse_duration(str(detail.get("retryDelay", "")))
            return None if delay is None else round(delay)
    return None


def _quota_exhausted(response: httpx.Response) -> bool:
    """OpenAI's `insufficient_quota` 429 will not clear by waiting: do not retry it."""
    return response.status_code == 429 and "insufficient_quota" in response.text


def provider_error(exc: httpx.HTTPError, timeout: float) -> ProviderError:
    """Map a transport failure raised by httpx to the message the user sees."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(timeout)
    if isinstance(exc, httpx.ConnectError):
        return ConnectionFailed(_host(exc))
    if isinstance(exc, httpx.UnsupportedProtocol):
        url = redact_userinfo(str(exc.request.url))
        return ProviderError(f"Unsupported URL {url} (use http:// or https://)")
    if isinstance(exc, httpx.TooManyRedirects):
        return BadResponse(f"Too many redirects (more than {MAX_REDIRECTS})")
    if isinstance(exc, httpx.DecodingError):
        return BadResponse("Response body could not be decoded")
    return ProviderError(f"HTTP failure: {type(exc).__name__}")


def _host(exc: httpx.HTTPError) -> str:
    try:
        return exc.request.url.host or "the provider"
    except RuntimeError:
        return "the provider"
