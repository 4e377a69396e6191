"""The body bound counts decoded bytes: a small compressed answer that expands past it fails
with one line and without ever holding the expansion in memory."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import httpx
import pytest

from aisync.errors import BadResponse
from aisync.http import MAX_RESPONSE_BYTES, build_client, json_body
from tests.fakeserver import FakeServer, Reply

CAP = 100_000
TOO_LARGE = r"^Response larger than 0\.0953674 MB$"
BODY = b'{"data": [' + b'{"id": "model"},' * 2_000 + b'{"id": "last"}]}'


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


#: Every way a server may encode its answer under `Content-Encoding: gzip` or `deflate`.
ENCODINGS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "deflate-zlib": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", raw_deflate),
}


def get(server: FakeServer, cap: int = CAP) -> httpx.Response:
    with build_client(5.0, max_retries=0, max_response_bytes=cap) as client:
        return client.get(server.url + "/models")


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "streamed"])
@pytest.mark.parametrize("kind", ENCODINGS)
def test_bomb_fails_at_the_decoded_bound(
    fake_server: FakeServer, kind: str, streamed: bool
) -> None:
    encoding, compress = ENCODINGS[kind]
    bomb = compress(b" " * (4 * 1024 * 1024))
    assert len(bomb) < CAP
    headers = {"Content-Encoding": encoding}
    fake_server.route("/models", Reply(200, raw=bomb, headers=headers, stream=streamed))
    with pytest.raises(BadResponse, match=TOO_LARGE):
        get(fake_server)


@pytest.mark.parametrize("kind", ENCODINGS)
def test_compressed_answer_under_the_bound_is_decoded(fake_server: FakeServer, kind: str) -> None:
    encoding, compress = ENCODINGS[kind]
    fake_server.route(
        "/models", Reply(200, raw=compress(BODY), headers={"Content-Encoding": encoding})
    )
    assert json_body(get(fake_server)) == json_body(httpx.Response(200, content=BODY))


def test_corrupt_compressed_body_is_one_line(fake_server: FakeServer) -> None:
    broken = gzip.compress(BODY)[:40] + b"\x00garbage" * 10
    fake_server.route("/models", Reply(200, raw=broken, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(BadResponse, match="^Response body could not be decoded$"):
        get(fake_server)


def test_only_bounded_encodings_are_advertised(fake_server: FakeServer) -> None:
    fake_server.route("/models", Reply(200, {"data": []}))
    get(fake_server)
    advertised = fake_server.requests[0].headers["Accept-Encoding"]
    assert {word.strip() for word in advertised.split(",")} <= {"gzip", "deflate", "br"}


@pytest.mark.parametrize("encoding", ["zstd", "compress", "gzip, zstd"])
def test_unasked_encoding_is_refused(fake_server: FakeServer, encoding: str) -> None:
    fake_server.route(
        "/models", Reply(200, raw=b"\x28\xb5\x2f\xfd", headers={"Content-Encoding": encoding})
    )
    with pytest.raises(
        BadResponse, match=f"^Response uses an unsupported encoding \\({encoding}\\)$"
    ):
        get(fake_server)


def test_brotli_is_bounded_or_refused(fake_server: FakeServer) -> None:
    """`br` is asked for only with a brotli that can bound its output (>= 1.2); an older one
    (which httpx would use unbounded) leaves a `br` answer refused."""
    brotli = pytest.importorskip("brotli")
    fake_server.route("/ok", Reply(200, {"data": []}))
    with build_client(5.0, max_retries=0) as client:
        client.get(fake_server.url + "/ok")
    asked = "br" in fake_server.requests[0].headers["Accept-Encoding"]
    bomb = brotli.compress(b" " * (16 * 1024 * 1024))
    fake_server.route("/models", Reply(200, raw=bomb, headers={"Content-Encoding": "br"}))
    refused = r"^Response uses an unsupported encoding \(br\)$"
    with pytest.raises(BadResponse, match=TOO_LARGE if asked else refused):
        get(fake_server)
    if asked:
        small = Reply(200, raw=brotli.compress(BODY), headers={"Content-Encoding": "br"})
        fake_server.route("/models", small)
        assert get(fake_server).content == BODY


def test_bomb_at_the_default_bound_stays_within_memory(fake_server: FakeServer) -> None:
    """A 128 MiB expansion (of 0.6 MB) against the real 50 MB bound: Python's peak allocation
    stays near the bound (the bytes read before it is crossed), far from the expansion."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\x00" * (1 << 20)
    bomb = b"".join(packer.compress(block) for _ in range(128)) + packer.flush()
    fake_server.route("/models", Reply(200, raw=bomb, headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(BadResponse, match="^Response larger than 50 MB$"):
            get(fake_server, cap=MAX_RESPONSE_BYTES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MAX_RESPONSE_BYTES * 1.5
