"""The openrouter plugin against cassettes built from a real OpenRouter listing (2026-02)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import BadResponse, InvalidApiKey, ProviderError, RateLimited
from aisync.records import CAPABILITIES, ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import openrouter as plugin
from tests.providers.helpers import (
    assert_other_types_ignored,
    assert_unreadable_handed_on,
    by_id,
    client_with_handler,
    provider_for,
    recorded_body,
    replayed_failure_test,
)

BASE_URL = "https://openrouter.ai/api/v1"


def make_provider(api_key: str | None = "test-key", name: str = "openrouter") -> Provider:
    return provider_for("openrouter", "OpenRouter", BASE_URL, name=name, api_key=api_key)


def recorded_entries() -> list[dict[str, Any]]:
    """The recorded listing, read back from the cassette that holds it verbatim."""
    return list(recorded_body("openrouter")["data"])


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert info.name == "openrouter"
    assert info.default_base_url == BASE_URL
    assert info.api_key_env_vars == ("OPENROUTER_API_KEY",)
    assert info.requires_api_key is False
    assert info.enabled_by_default is False


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    other = Provider(name="openrouter", type="openai", display_name="x", base_url=BASE_URL)
    assert_other_types_ignored(plugin, other, client, settings)


@pytest.mark.vcr
def test_full_listing(client: httpx.Client, settings: Settings, vcr: Any) -> None:
    models = list(plugin.fetch_models(make_provider(name="openrouter-eu"), client, settings))
    assert vcr.all_played
    assert models is not None
    recorded_ids = {entry["id"] for entry in recorded_entries()}
    assert len(models) == len(recorded_ids) == 344
    assert {m.model_id for m in models} == recorded_ids
    models_by_id = by_id(models)

    opus = models_by_id["anthropic/claude-opus-4.6"]
    assert opus.display_name == "Anthropic: Claude Opus 4.6"
    assert opus.context_window == 1_000_000
    assert opus.max_output_tokens == 128_000
    assert opus.input_price_per_mtok == 5.0
    assert opus.output_price_per_mtok == 25.0
    # "input_cache_read": "0.0000005", "input_cache_write": "0.00000625" per token.
    assert opus.cache_read_price_per_mtok == 0.5
    assert opus.cache_write_price_per_mtok == 6.25
    assert opus.capabilities == (
        "chat",
        "vision",
        "function_calling",
        "structured_output",
        "reasoning",
    )
    assert opus.release_date == date(2026, 2, 4)
    assert opus.deprecation_date is None
    assert opus.raw["canonical_slug"] == "anthropic/claude-4.6-opus-20260205"

    auto = models_by_id["openrouter/auto"]
    assert auto.input_price_per_mtok is None
    assert auto.output_price_per_mtok is None
    assert auto.context_window == 2_000_000
    assert auto.max_output_tokens is None

    solar = models_by_id["upstage/solar-pro-3:free"]
    assert (solar.input_price_per_mtok, solar.output_price_per_mtok) == (0.0, 0.0)
    assert solar.deprecation_date == date(2026, 3, 2)
    assert solar.max_output_tokens is None

    kimi = models_by_id["moonshotai/kimi-k2.5"]
    assert kimi.input_price_per_mtok == 0.45
    assert kimi.output_price_per_mtok == 2.25
    # The listing prices cached reads for 121 models, cache writes for 23 of them.
    cache_read = [m for m in models if m.cache_read_price_per_mtok is not None]
    cache_write = [m for m in models if m.cache_write_price_per_mtok is not None]
    assert (len(cache_read), len(cache_write)) == (121, 23)
    assert solar.cache_read_price_per_mtok is None

    gemini = models_by_id["google/gemini-2.0-flash-001"]
    assert gemini.capabilities == (
        "chat",
        "vision",
        "audio_input",
        "function_calling",
        "structured_output",
    )
    assert gemini.deprecation_date == date(2026, 3, 31)

    assert models_by_id["openai/gpt-audio"].capabilities == (
        "chat",
        "audio_input",
        "speech",
        "structured_output",
    )
    assert "image_generation" in models_by_id["google/gemini-2.5-flash-image"].capabilities
    assert [dict(m.raw) for m in models] == recorded_entries()


@pytest.mark.vcr
def test_paginated_listing(client: httpx.Client, settings: Settings, vcr: Any) -> None:
    models = list(plugin.fetch_models(make_provider(), client, settings))
    assert vcr.all_played
    assert vcr.play_count == 3
    assert [request.query for request in vcr.requests] == [
        [],
        [("limit", "150"), ("offset", "150")],
        [("limit", "150"), ("offset", "300")],
    ]
    assert models is not None
    assert [m.model_id for m in models] == [entry["id"] for entry in recorded_entries()]


@pytest.mark.vcr("test_paginated_listing.yaml")
def test_page_count_is_bounded(
    client: httpx.Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugin, "MAX_PAGES", 2)
    with pytest.raises(BadResponse, match="more than 2 pages"):
        plugin.fetch_models(make_provider(), client, settings)


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 30 seconds")
test_server_error = fails_with(ProviderError, "Provider error 503: Service temporarily unavailable")


@pytest.mark.parametrize(("api_key", "expected"), [("sk-or-1", "Bearer sk-or-1"), (None, None)])
def test_bearer_is_sent_only_with_a_key(
    settings: Settings, api_key: str | None, expected: str | None
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    with client_with_handler(handler) as client:
        assert list(plugin.fetch_models(make_provider(api_key), client, settings)) == []
    assert seen[0].headers.get("authorization") == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "not a JSON object"),
        ({"models": []}, "no 'data' list"),
        ({"data": {}}, "no 'data' list"),
        ({"data": [], "links": []}, "'links' is not an object"),
        ({"data": [], "links": {"next": 2}}, "'links.next' is not a URL"),
        ({"data": [], "links": {"next": "https://elsewhere.example/models"}}, "leaves"),
    ],
)
def test_wrong_shapes_are_bad_responses(settings: Settings, body: Any, message: str) -> None:
    with (
        client_with_handler(lambda request: httpx.Response(200, json=body)) as client,
        pytest.raises(BadResponse, match=message),
    ):
        plugin.fetch_models(make_provider(), client, settings)


def test_odd_entries_are_counted_or_tolerated(settings: Settings) -> None:
    entries: list[Any] = [
        "openai/gpt-4o",
        {"id": 7},
        {"name": "no id"},
        {
            "id": "acme/odd",
            "name": 3,
            "context_length": "big",
            "created": "yesterday",
            "expiration_date": "soon",
            "pricing": {"prompt": "n/a", "completion": True},
            "top_provider": {"context_length": 4096, "max_completion_tokens": -1},
            "architecture": {"input_modalities": "image"},
            "supported_parameters": None,
        },
        {"id": "acme/odd", "name": "duplicate"},
    ]
    with client_with_handler(lambda request: httpx.Response(200, json={"data": entries})) as client:
        models = list(plugin.fetch_models(make_provider(), client, settings))
    assert_unreadable_handed_on(models, [0, 1, 2])
    assert models[3:] == [ModelRecord(model_id="acme/odd", context_window=4096, raw=entries[3])]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0000025", 2.5),
        ("0.00001", 10.0),
        ("0.000000070000002", 0.070000002),
        ("0", 0.0),
        ("-1", None),
        ("not a price", None),
        ("NaN", None),
        (None, None),
        (0.00003, 30.0),
    ],
)
def test_price_per_mtok(value: Any, expected: float | None) -> None:
    assert plugin.price_per_mtok(value) == expected


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"architecture": {"input_modalities": ["text", "image"]}}, ("vision",)),
        ({"architecture": {"input_modalities": ["text", "audio"]}}, ("audio_input",)),
        ({"architecture": {"input_modalities": ["text", "file", "video"]}}, ()),
        ({"architecture": {"output_modalities": ["text"]}}, ("chat",)),
        ({"architecture": {"output_modalities": ["image"]}}, ("image_generation",)),
        ({"architecture": {"output_modalities": ["audio"]}}, ("speech",)),
        ({"supported_parameters": ["tools", "tool_choice"]}, ("function_calling",)),
        ({"supported_parameters": ["structured_outputs"]}, ("structured_output",)),
        ({"supported_parameters": ["response_format"]}, ("structured_output",)),
        ({"supported_parameters": ["reasoning"]}, ("reasoning",)),
        ({"supported_parameters": ["include_reasoning"]}, ("reasoning",)),
        ({"supported_parameters": ["temperature", "top_p", "seed"]}, ()),
    ],
)
def test_each_capability_rule(entry: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert plugin.capabilities(entry) == expected


def test_capabilities_of_the_recorded_listing() -> None:
    entries = recorded_entries()
    found = {entry["id"]: plugin.capabilities(entry) for entry in entries}
    assert all(words and set(words) <= set(CAPABILITIES) for words in found.values())
    assert all("chat" in words for words in found.values())
    assert Counter(word for words in found.values() for word in words) == {
        "chat": 344,
        "structured_output": 261,
        "function_calling": 230,
        "reasoning": 141,
        "vision": 122,
        "audio_input": 16,
        "image_generation": 5,
        "speech": 3,
    }
    assert {i for i, words in found.items() if "speech" in words} == {
        "openai/gpt-audio",
        "openai/gpt-audio-mini",
        "openai/gpt-4o-audio-preview",
    }
    assert {i for i, words in found.items() if "image_generation" in words} == {
        "google/gemini-3-pro-image-preview",
        "google/gemini-2.5-flash-image",
        "openai/gpt-5-image-mini",
        "openai/gpt-5-image",
        "openrouter/auto",
    }


def test_stats_of_the_recorded_listing() -> None:
    models = [plugin.model_record(entry) for entry in recorded_entries()]
    stats = plugin.count_stats(make_provider(), [m for m in models if m is not None])
    assert stats == {
        "OpenAI": 58,
        "Anthropic": 12,
        "Google": 24,
        "Meta": 17,
        "Mistral": 32,
        "Qwen": 44,
        "DeepSeek": 13,
        "xAI": 8,
        "Free": 32,
    }


@pytest.mark.parametrize(("label", "prefix"), plugin.VENDOR_PREFIXES)
def test_each_vendor_rule(label: str, prefix: str) -> None:
    models = [ModelRecord(model_id=f"{prefix}model"), ModelRecord(model_id=f"x{prefix}model")]
    stats = plugin.count_stats(make_provider(), models)
    assert stats is not None
    assert stats[label] == 1
    assert sum(stats.values()) == 1


def test_free_needs_both_prices_zero() -> None:
    models = [
        ModelRecord(model_id="a/free", input_price_per_mtok=0.0, output_price_per_mtok=0.0),
        ModelRecord(model_id="a/half", input_price_per_mtok=0.0, output_price_per_mtok=1.0),
        ModelRecord(model_id="a/variable"),
    ]
    stats = plugin.count_stats(make_provider(), models)
    assert stats is not None
    assert stats["Free"] == 1
