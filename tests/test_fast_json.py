"""Fast JSON keeps every byte: orjson decodes and encodes only where its answer is `json`'s.

Content hashes are sha256 over canonical text that `json` wrote; a single byte of
difference would give every stored model a new version. These tests compare orjson's
paths with `json` over tricky values, generated and by hand, and re-sync a catalog the
previous release wrote (the old hook, `json` throughout, schema 0002).
"""

from __future__ import annotations

import json
import math
import random
import struct
from collections.abc import Iterator
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from aisync import RawListing, Syncer, hookimpl, load_settings
from aisync.canonical import dumps, dumps_normalized, dumps_parsed, loads
from aisync.db.connect import open_engine
from aisync.db.migrate import downgrade
from aisync.records import ModelRecord, Provider, ProviderInfo
from tests.fakeserver import FakeServer, Reply

TRICKY_TEXT = [
    "plain",
    "é",
    "日本語",
    "emoji \U0001f600 and \U00010348",
    "\x7f",
    "\u2028\u2029",
    "\x00\x01\x1f\t\n\r\b\f",
    '"quoted" \\ back/slash',
    "\ufeff bom",
    "",
]
TRICKY_NUMBERS: list[Any] = [
    0,
    -1,
    2**63 - 1,
    -(2**63),
    2**64,
    2**70,
    -(2**80),
    0.0,
    -0.0,
    1.0,
    0.1,
    1e16,
    1e15,
    1e-7,
    1e-5,
    1e-4,
    0.0001234,
    123456789.123,
    1.7976931348623157e308,
    5e-324,
    1e22,
    -2.5e-10,
]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return rng.choice(TRICKY_TEXT) + "".join(
            chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000)]))
            for _ in range(rng.randrange(4))
        )
    if kind == 1:
        return rng.choice(TRICKY_NUMBERS)
    if kind == 2:
        bits = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        return bits if math.isfinite(bits) else 1.5
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.randrange(-(10**6), 10**6) / rng.choice([1, 10, 1000, 10**7])
    if kind == 5:
        return rng.randrange(-(2**65), 2**65)
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(TRICKY_TEXT) + str(n): random_value(rng, depth + 1)
        for n in range(rng.randrange(5))
    }


def values() -> Iterator[Any]:
    yield from TRICKY_TEXT
    yield from TRICKY_NUMBERS
    yield {text: number for text, number in zip(TRICKY_TEXT, TRICKY_NUMBERS, strict=False)}
    rng = random.Random(14)
    for _ in range(3000):
        yield random_value(rng)


def test_orjson_canonical_text_is_json_canonical_text_byte_for_byte() -> None:
    for value in values():
        assert dumps_parsed(value) == dumps(value), value


class Word(StrEnum):
    CHAT = "chat"


class Tokens(int):
    pass


def test_a_normalized_record_s_fields_are_written_as_json_writes_them() -> None:
    """The content hash's text: JSON's values and tuples at orjson's speed, the raw payload
    spliced in; what orjson writes otherwise (a date, a datetime, a subclass) left to
    `json` (None), never written differently."""
    odd: list[Any] = [
        date(2024, 5, 13),
        datetime(2024, 5, 13, 12, 30, 1, 5, tzinfo=UTC),
        Word.CHAT,
        Tokens(7),
        {"a": (1.5, None, [1e-5])},
        {"key": 1, 2: "int key"},
        {"caps": ("chat",), "name": "Modèle ☃ \x7f", "n": 2**70},
    ]
    raws = [{}, {"id": "x", "nested": {"é": [1, 2.5, None]}}, {"tiny": 1e-7}]
    fast = 0
    for n, value in enumerate([*values(), *odd, ("chat", "vision"), ()]):
        fields = {"display_name": "Model", "capabilities": ("chat",), "value": value}
        raw = raws[n % len(raws)]
        written = dumps_normalized(fields, dumps(raw))
        try:
            expected = dumps({**fields, "raw": raw}).encode("utf-8")
        except TypeError:
            assert written is None
            continue
        assert written is None or written == expected, value
        fast += written is not None
    assert fast > 500  # the others hold what orjson writes otherwise (1e-05, 2**70, ...)
    plain = {"display_name": "Modèle", "capabilities": ("chat",), "release_date": "2025-01-01"}
    assert dumps_normalized(plain, "{}") == dumps({**plain, "raw": {}}).encode("utf-8")
    # A payload's text that is not `json`'s (never hashed today) is left to the splice.
    assert dumps_normalized(plain, '{"a":"é"}') is None
    assert dumps_normalized(plain, '{"a":"\x7f"}') is None


def test_decoding_gives_what_json_gives() -> None:
    """Same values, same types: `dumps` tells 1 from 1.0 and -0.0 from 0.0."""
    for value in values():
        for encoded in (dumps(value), json.dumps(value, ensure_ascii=False)):
            decoded = loads(encoded.encode("utf-8", "surrogatepass"))
            assert dumps(decoded) == dumps(json.loads(encoded)), encoded


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": NaN, "b": Infinity}',
        b'{"big": 123456789012345678901234567890}',
        b'{"lone": "\\udc80"}',
        b'\xef\xbb\xbf{"bom": 1}',
        b'{"a": 1, "a": 2, "b": 3}',
        b'{"tiny": 1e-400, "huge": 1.5e300}',
    ],
)
def test_decoding_what_orjson_refuses_or_reads_otherwise(body: bytes) -> None:
    assert dumps(loads(body)) == dumps(json.loads(body))


# A listing with every kind of value orjson writes differently from `json`.
ENTRIES = [
    {"id": "plain", "name": "Plain", "price": 1.5},
    {"id": "accents", "name": "Modèle été ☃ \U0001f600", "price": 1e-7, "del": "\x7f\u2028"},
    {"id": "big", "name": "Big", "price": 1e16, "big": 2**70, "neg": -0.0},
    {"id": "odd", "name": "Odd", "price": 0.00001, "nan": float("nan"), "ctl": "\x00\x1f"},
    {"id": "nested", "name": "N", "price": 3, "tiers": [{"above": 2**40, "x": 1e-5}]},
]


def model_record(item: dict[str, Any]) -> ModelRecord:
    return ModelRecord(
        model_id=item["id"],
        display_name=item["name"],
        input_price_per_mtok=item["price"],
        capabilities=("chat",),
        raw=item,
    )


class Listing:
    """The same provider, the previous release's way (`raw_first` off: the old hook, the
    body decoded by `json`) or raw first."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.raw_first = False
        self.mapped = 0

    @hookimpl
    def discover_providers(self, settings: object) -> list[ProviderInfo]:
        return [ProviderInfo(name="tricky", display_name="Tricky", requires_api_key=False)]

    @hookimpl
    def fetch_models(self, provider: Provider, client: httpx.Client) -> Any:
        if provider.type != "tricky":
            return None
        body = client.get(f"{self.server.url}/models").content
        if not self.raw_first:
            return [model_record(item) for item in json.loads(body)["data"]]
        return RawListing(pages=[loads(body)["data"]], record=self.record)

    def record(self, item: dict[str, Any]) -> ModelRecord:
        self.mapped += 1
        return model_record(item)


def test_a_catalog_of_the_previous_release_resyncs_with_no_new_versions(
    database_url: str, fake_server: FakeServer
) -> None:
    fake_server.route("/models", Reply(raw=json.dumps({"data": ENTRIES}).encode()))
    plugin = Listing(fake_server)
    settings = load_settings({"database_url": database_url}, environ={"AISYNC_ENRICH": "none"})

    def sync() -> Any:
        syncer = Syncer(settings=settings, plugins=[plugin], entry_points=False)
        try:
            report = syncer.sync_models(["tricky"], force=True)
            assert report.exit_code == 0, report
            return report.results[0]
        finally:
            syncer.close()

    assert sync().added == len(ENTRIES)
    engine = open_engine(database_url)
    downgrade(engine, "0002")  # as the previous release left it
    with engine.connect() as connection:
        hashes = sorted(connection.execute(text("SELECT content_hash FROM model_versions")))
    engine.dispose()
    plugin.raw_first = True
    again = sync()  # migrates to head, then syncs raw first
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert plugin.mapped == len(ENTRIES)  # no digest stored yet: each item looked at once
    engine = open_engine(database_url)
    with engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT content_hash FROM model_versions"))) == (
            hashes
        )
        assert connection.execute(
            text("SELECT COUNT(*) FROM models WHERE raw_digest IS NOT NULL")
        ).scalar() == len(ENTRIES)
    engine.dispose()
    plugin.mapped = 0
    assert sync().changed == 0
    assert plugin.mapped == 0
