"""The Anthropic plugin against cassettes built from a real Models API answer."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import BadResponse, InvalidApiKey, ProviderError, RateLimited
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import anthropic as plugin
from tests.providers.helpers import (
    assert_other_types_ignored,
    assert_unreadable_handed_on,
    client_serving,
    provider_for,
    recorded_body,
    replayed_failure_test,
    requests_sent_by,
)

BASE_URL = "https://api.anthropic.com"

LATEST = ("chat", "vision", "function_calling", "structured_output", "reasoning")
THINKING = ("chat", "vision", "function_calling", "reasoning")
CLAUDE_3 = ("chat", "vision", "function_calling")

#: The origins of a record whose capabilities come from the id table.
GUESSED = {"capabilities": "rule"}

#: The table's capabilities for every id of the recorded listing (anthropic-2026-02.json).
EXPECTED_CAPABILITIES = {
    "claude-opus-4-6": LATEST,
    "claude-opus-4-5-20251101": LATEST,
    "claude-haiku-4-5-20251001": LATEST,
    "claude-sonnet-4-5-20250929": LATEST,
    "claude-opus-4-1-20250805": LATEST,
    "claude-opus-4-20250514": THINKING,
    "claude-sonnet-4-20250514": THINKING,
    "claude-3-7-sonnet-20250219": THINKING,
    "claude-3-5-haiku-20241022": CLAUDE_3,
    "claude-3-haiku-20240307": CLAUDE_3,
}


def make_provider(name: str = "anthropic", type_: str = "anthropic") -> Provider:
    return provider_for(type_, "Anthropic", BASE_URL, name=name)


def recorded_entries() -> list[dict[str, Any]]:
    """The model objects of the full-listing cassette, i.e. of the real recording."""
    return list(recorded_body("anthropic")["data"])


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert info.name == "anthropic"
    assert info.display_name == "Anthropic"
    assert info.default_base_url == BASE_URL
    assert info.api_key_env_vars == ("ANTHROPIC_API_KEY",)
    assert info.requires_api_key


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert_other_types_ignored(plugin, make_provider("openai", "openai"), client, settings)


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    sent = requests_sent_by(client)

    records = list(plugin.fetch_models(make_provider("anthropic-work"), client, settings))

    assert vcr.all_played and vcr.play_count == 1
    assert records is not None and len(records) == len(recorded_entries()) == 10
    assert len({r.model_id for r in records}) == 10
    (request,) = sent
    assert request.headers["x-api-key"] == "test-key"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "test-key" not in str(request.url)
    assert records[0] == ModelRecord(
        model_id="claude-opus-4-6",
        display_name="Claude Opus 4.6",
        capabilities=LATEST,
        release_date=date(2026, 2, 4),
        raw={
            "type": "model",
            "id": "claude-opus-4-6",
            "display_name": "Claude Opus 4.6",
            "created_at": "2026-02-04T00:00:00Z",
        },
        field_sources=GUESSED,
    )
    haiku = records[-1]
    assert haiku.model_id == "claude-3-haiku-20240307"
    assert haiku.display_name == "Claude Haiku 3"
    assert haiku.release_date == date(2024, 3, 7)
    assert haiku.capabilities == CLAUDE_3
    assert haiku.context_window is None and haiku.max_output_tokens is None
    sonnet = records[7]
    assert (sonnet.model_id, sonnet.display_name) == (
        "claude-3-7-sonnet-20250219",
        "Claude Sonnet 3.7",
    )
    assert sonnet.release_date == date(2025, 2, 24)
    assert sonnet.capabilities == THINKING
    # This listing has no `capabilities` objects: every value is the id table's guess.
    assert all(r.field_sources == {"capabilities": "rule"} for r in records)


@pytest.mark.vcr
def test_pagination(
    vcr: Any, client: httpx.Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugin, "PAGE_SIZE", 4)

    records = list(plugin.fetch_models(make_provider(), client, settings))

    assert vcr.all_played and vcr.play_count == 3
    assert records is not None
    assert [r.model_id for r in records] == [e["id"] for e in recorded_entries()]


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 30 seconds")
test_overloaded = fails_with(ProviderError, "Provider error 529: Overloaded")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "Anthropic model list is not a JSON object"),
        (b'{"has_more": false}', "Anthropic model list has no 'data' array"),
        (b'{"data": [], "has_more": true}', "says has_more but gives no 'last_id'"),
        (b"not json", "Response is not valid JSON"),
    ],
)
def test_wrong_shapes_are_bad_responses(body: bytes, message: str, settings: Settings) -> None:
    with client_serving(body) as client, pytest.raises(BadResponse, match=message):
        list(plugin.fetch_models(make_provider(), client, settings))


def test_bad_entries_are_counted_and_wrong_types_tolerated(settings: Settings) -> None:
    entries: list[Any] = [
        "claude-opus-4-6",
        {"display_name": "No id"},
        {"id": 4},
        {"id": "claude-x", "display_name": 5, "created_at": "yesterday", "max_tokens": "many"},
        {"id": "claude-y", "created_at": "1970-01-01T00:00:00Z", "max_input_tokens": True},
    ]
    with client_serving(json.dumps({"data": entries, "has_more": False}).encode()) as client:
        records = list(plugin.fetch_models(make_provider(), client, settings))
    assert_unreadable_handed_on(records, [0, 1, 2])
    assert records[3:] == [
        ModelRecord(
            model_id="claude-x",
            capabilities=("chat", "function_calling"),
            raw=entries[3],
            field_sources=GUESSED,
        ),
        ModelRecord(
            model_id="claude-y",
            capabilities=("chat", "function_calling"),
            raw=entries[4],
            field_sources=GUESSED,
        ),
    ]


def test_endless_paging_is_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin, "MAX_PAGES", 2)
    body = b'{"data": [], "has_more": true, "last_id": "claude-x"}'
    with client_serving(body) as client, pytest.raises(BadResponse, match="more than 2 pages"):
        list(plugin.fetch_models(make_provider(), client, settings))


def test_capability_table_covers_every_recorded_id() -> None:
    records = [plugin._record(entry) for entry in recorded_entries()]
    assert {r.model_id: r.capabilities for r in records if r} == EXPECTED_CAPABILITIES


def test_optional_fields_of_newer_api_versions_are_used() -> None:
    """`max_input_tokens`, `max_tokens` and `capabilities` ({"supported": bool} entries, may be
    null) as the API reference documents them: platform.claude.com/docs/en/api/models.md
    (ModelInfo) and the SDKs' ModelCapabilities (batch, citations, code_execution,
    context_management, effort, image_input, pdf_input, structured_outputs, thinking)."""
    supported = {"supported": True}
    capabilities = dict.fromkeys(
        ("batch", "citations", "image_input", "pdf_input", "structured_outputs", "thinking"),
        supported,
    )
    listed: dict[str, Any] = {
        "type": "model",
        "id": "claude-haiku-4-5-20251001",
        "display_name": "Claude Haiku 4.5",
        "created_at": "2025-10-15T00:00:00Z",
        "max_input_tokens": 200000,
        "max_tokens": 64000,
        "capabilities": capabilities,
    }
    record = plugin._record(listed)
    assert record is not None
    assert (record.context_window, record.max_output_tokens) == (200000, 64000)
    assert record.capabilities == LATEST
    assert record.field_sources == {}  # what the API said, not a guess
    # An id the table does not know (a future line) still gets what the API says...
    future = plugin._record({**listed, "id": "claude-new-line-1"})
    assert future is not None and future.capabilities == LATEST
    # ...and a flag sent as false (a made-up answer) is not added, whatever the table says.
    flags = {**capabilities, "thinking": {"supported": False}}
    plain = plugin._record({**listed, "capabilities": flags})
    assert plain is not None
    assert plain.capabilities == ("chat", "vision", "function_calling", "structured_output")
    unknown = plugin._record({**listed, "capabilities": None})
    assert unknown is not None and unknown.capabilities == LATEST


@pytest.mark.parametrize(
    ("model_id", "capabilities"),
    [
        ("claude-sonnet-4-6", LATEST),
        ("claude-opus-4-0", THINKING),
        ("claude-3-5-sonnet-20241022", CLAUDE_3),
        ("claude-3-opus-latest", CLAUDE_3),
        ("claude-2.1", ("chat", "function_calling")),
    ],
)
def test_capability_table_for_other_families(model_id: str, capabilities: tuple[str, ...]) -> None:
    assert plugin.capabilities_for(model_id) == capabilities


@pytest.mark.vcr("test_full_listing.yaml")
def test_stats(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    records = list(plugin.fetch_models(make_provider(), client, settings))
    assert records is not None
    assert plugin.count_stats(make_provider(), records) == {
        "Claude Opus": 4.0,  # 4.6, 4.5, 4.1, 4
        "Claude Sonnet": 3.0,  # 4.5, 4, 3.7
        "Claude Haiku": 3.0,  # 4.5, 3.5, 3
    }
