"""Canonical JSON: content hashes keep their exact bytes, and `RawJSON` reads like a dict."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from aisync.canonical import RawJSON, dumps
from aisync.errors import ProviderError
from aisync.records import ModelRecord
from aisync.sync.diff import content_hash
from aisync.sync.normalize import normalize

PAYLOAD = {
    "id": "gpt-4o",
    "object": "model",
    "created": 1715367049,
    "owned_by": "system",
    "nested": {"b": [1, 2.5, None, True], "a": "é"},
}
PLAIN = ModelRecord(
    "gpt-4o",
    display_name="GPT-4o",
    context_window=128000,
    capabilities=("chat", "vision"),
    release_date=date(2024, 5, 13),
    raw=PAYLOAD,
)
ENRICHED = ModelRecord(
    "gpt-4o",
    input_price_per_mtok=2.5,
    pricing={"tiers": [{"above": 200000, "input": 5.0}]},
    raw={"z": 1, "a": {"y": 2, "x": 3}},
    field_sources={"input_price_per_mtok": "models.dev", "pricing": "litellm"},
    successor="gpt-5",
)


@pytest.mark.parametrize(
    ("record", "digest"),
    [
        (PLAIN, "0d51bd2fb8b1378b6882418926b74eb4f1406e6973ced851742eea4dbaaa6a88"),
        (ENRICHED, "3930f40b36cee51b444a91172bd96b5de6ecb901d92625ee76e52ff31eae2830"),
    ],
)
def test_hashes_keep_the_bytes_earlier_catalogs_were_written_with(
    record: ModelRecord, digest: str
) -> None:
    """These digests were taken before raw payloads became text: a catalog written then
    must see no change, or every model would get a version for nothing."""
    compacted = dataclasses.replace(record, raw=RawJSON.of(record.raw))
    assert content_hash(record) == content_hash(compacted) == digest


def test_raw_json_reads_like_the_object_it_holds() -> None:
    raw = RawJSON.of(PAYLOAD)
    assert (
        raw.text
        == dumps(PAYLOAD)
        == (
            '{"created":1715367049,"id":"gpt-4o","nested":{"a":"\\u00e9","b":[1,2.5,null,true]},'
            '"object":"model","owned_by":"system"}'
        )
    )
    assert raw == PAYLOAD and raw == RawJSON(raw.text)
    assert raw["nested"]["a"] == "é" and raw.get("missing", 7) == 7
    assert "id" in raw and "missing" not in raw and len(raw) == 5
    assert sorted(raw) == sorted(PAYLOAD) and dict(raw.items()) == PAYLOAD
    copy = raw.value()
    copy["id"] = "changed"
    assert raw["id"] == "gpt-4o"
    with pytest.raises(KeyError):
        raw["missing"]


def test_a_payload_json_cannot_hold_fails_with_the_model_named() -> None:
    with pytest.raises(ProviderError, match="not JSON for odd: set is not JSON serializable"):
        normalize([ModelRecord("odd", raw={"tags": {"a"}})])


def test_normalize_keeps_the_payload_as_canonical_text() -> None:
    (record,), _ = normalize([PLAIN])
    assert isinstance(record.raw, RawJSON) and record.raw == PAYLOAD
    assert content_hash(record) == content_hash(PLAIN)


def test_anything_but_an_object_is_no_payload() -> None:
    records, _ = normalize([ModelRecord("a", raw=[1, 2]), ModelRecord("b", raw="text")])  # type: ignore[arg-type]
    assert [r.raw.text for r in records] == ["{}", "{}"]  # type: ignore[attr-defined]
