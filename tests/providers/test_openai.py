"""The OpenAI plugin (and the shared OpenAI-style listing parser) against cassettes.

The full-listing cassette is the real 119-model recording (openai-2026-02.json); the
capability and family tests read their ids from it.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import BadResponse, InvalidApiKey, ProviderError, RateLimited
from aisync.records import CAPABILITIES, ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import openai as plugin
from aisync_providers.openai_style import (
    UNREADABLE,
    capabilities_for,
    created_date,
    family_counts,
    listing_entries,
)
from tests.providers.helpers import (
    assert_other_types_ignored,
    provider_for,
    recorded_body,
    replayed_failure_test,
)

BASE_URL = "https://api.openai.com/v1"

REASONING = ("chat", "vision", "function_calling", "structured_output", "reasoning")
MODERN = ("chat", "vision", "function_calling", "structured_output")
VOICE = ("chat", "audio_input", "speech", "function_calling")

#: At least one recorded id per rule of the table, with what the rule must give it.
EXPECTED_CAPABILITIES = {
    "text-embedding-3-large": ("embedding",),
    "text-embedding-ada-002": ("embedding",),
    "omni-moderation-latest": ("vision", "moderation"),
    "tts-1": ("speech",),
    "tts-1-hd-1106": ("speech",),
    "gpt-4o-mini-tts": ("speech",),
    "gpt-4o-mini-tts-2025-12-15": ("speech",),
    "whisper-1": ("transcription",),
    "gpt-4o-transcribe": ("transcription",),
    "gpt-4o-transcribe-diarize": ("transcription",),
    "gpt-4o-mini-transcribe-2025-03-20": ("transcription",),
    "gpt-image-1": ("image_generation", "vision"),
    "gpt-image-1-mini": ("image_generation", "vision"),
    "chatgpt-image-latest": ("image_generation", "vision"),
    "dall-e-3": ("image_generation",),
    "sora-2": ("video_generation",),
    "sora-2-pro": ("video_generation",),
    "gpt-realtime": ("chat", "vision", "audio_input", "speech", "function_calling"),
    "gpt-realtime-mini-2025-12-15": ("chat", "vision", "audio_input", "speech", "function_calling"),
    "gpt-4o-realtime-preview": VOICE,
    "gpt-4o-mini-realtime-preview-2024-12-17": VOICE,
    "gpt-audio": VOICE,
    "gpt-audio-mini-2025-10-06": VOICE,
    "gpt-4o-audio-preview": VOICE,
    "gpt-4o-mini-search-preview": ("chat",),
    "gpt-5-search-api": ("chat",),
    "o3-deep-research": ("chat", "vision", "reasoning"),
    "o4-mini-deep-research-2025-06-26": ("chat", "vision", "reasoning"),
    "codex-mini-latest": REASONING,
    "gpt-5-codex": REASONING,
    "gpt-5.1-codex-max": REASONING,
    "o3-mini": ("chat", "function_calling", "structured_output", "reasoning"),
    "o1": REASONING,
    "o1-pro": REASONING,
    "o3": REASONING,
    "o3-pro-2025-06-10": REASONING,
    "o4-mini": REASONING,
    "gpt-5-chat-latest": ("chat", "vision"),
    "chatgpt-4o-latest": ("chat", "vision"),
    "gpt-5.1-chat-latest": MODERN,
    "gpt-5.2-chat-latest": MODERN,
    "gpt-5": REASONING,
    "gpt-5-mini-2025-08-07": REASONING,
    "gpt-5-nano": REASONING,
    "gpt-5-pro": REASONING,
    "gpt-5.1": REASONING,
    "gpt-5.2-pro": REASONING,
    "gpt-4o-2024-05-13": ("chat", "vision", "function_calling"),
    "gpt-4o": MODERN,
    "gpt-4o-mini": MODERN,
    "gpt-4.1": MODERN,
    "gpt-4.1-nano-2025-04-14": MODERN,
    "gpt-4-turbo": ("chat", "vision", "function_calling"),
    "gpt-4-turbo-2024-04-09": ("chat", "vision", "function_calling"),
    "gpt-4-turbo-preview": ("chat", "function_calling"),
    "gpt-4-1106-preview": ("chat", "function_calling"),
    "gpt-4": ("chat", "function_calling"),
    "gpt-3.5-turbo-instruct": ("completion",),
    "gpt-3.5-turbo-instruct-0914": ("completion",),
    "gpt-3.5-turbo": ("chat", "function_calling"),
    "gpt-3.5-turbo-16k": ("chat", "function_calling"),
    "davinci-002": ("completion",),
    "babbage-002": ("completion",),
}

#: The families of the recorded listing, counted by hand from openai-2026-02.json.
EXPECTED_FAMILIES = {
    "GPT-3.5": 6.0,
    "GPT-4": 7.0,
    "GPT-4o": 29.0,
    "GPT-4.1": 6.0,
    "GPT-5": 24.0,
    "o-series": 16.0,
}


def make_provider(name: str = "openai", type_: str = "openai") -> Provider:
    return provider_for(type_, "OpenAI", BASE_URL, name=name)


def recorded_entries() -> list[dict[str, Any]]:
    """The model objects of the full-listing cassette, i.e. of the real recording."""
    return list(recorded_body("openai")["data"])


def recorded_ids() -> list[str]:
    return [entry["id"] for entry in recorded_entries()]


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert info.name == "openai"
    assert info.display_name == "OpenAI"
    assert info.default_base_url == BASE_URL
    assert info.api_key_env_vars == ("OPENAI_API_KEY",)
    assert info.requires_api_key


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert_other_types_ignored(plugin, make_provider("x", "xai"), client, settings)


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    models = list(plugin.fetch_models(make_provider("openai-eu"), client, settings))

    assert models is not None
    assert vcr.all_played
    ids = [model.model_id for model in models]
    assert len(ids) == len(set(ids)) == 119
    assert set(ids) == set(recorded_ids())
    by_id = {model.model_id: model for model in models}
    assert by_id["gpt-4o"] == ModelRecord(
        model_id="gpt-4o",
        capabilities=MODERN,
        release_date=date(2024, 5, 10),
        raw={"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
        field_sources={"capabilities": "rule"},
    )
    assert all(model.field_sources == {"capabilities": "rule"} for model in models)
    tts = by_id["tts-1"]
    assert tts.capabilities == ("speech",)
    assert tts.release_date == date(2023, 4, 19)
    assert tts.raw["owned_by"] == "openai-internal"
    o3 = by_id["o3"]
    assert o3.capabilities == REASONING
    assert o3.release_date == date(2025, 4, 9)
    assert (o3.display_name, o3.context_window, o3.input_price_per_mtok) == (None, None, None)
    assert by_id["text-embedding-3-small"].capabilities == ("embedding",)
    assert by_id["whisper-1"].release_date == date(2023, 2, 27)


@pytest.mark.parametrize(("model_id", "expected"), sorted(EXPECTED_CAPABILITIES.items()))
def test_capability_rule(model_id: str, expected: tuple[str, ...]) -> None:
    assert model_id in recorded_ids()
    assert capabilities_for(model_id, plugin.CAPABILITY_RULES) == expected


def test_every_recorded_id_gets_sound_capabilities() -> None:
    single_purpose = ("tts", "whisper", "transcribe", "embedding", "moderation", "dall-e", "sora")
    for model_id in recorded_ids():
        capabilities = capabilities_for(model_id, plugin.CAPABILITY_RULES)
        assert capabilities, model_id
        assert set(capabilities) <= set(CAPABILITIES)
        if any(word in model_id for word in single_purpose):
            assert "chat" not in capabilities, model_id
        if any(word in model_id for word in ("tts", "whisper", "transcribe", "embedding")):
            assert "vision" not in capabilities, model_id
        if model_id.startswith(("o1", "o3", "o4")):
            assert "reasoning" in capabilities, model_id


def test_unknown_ids_get_no_capabilities() -> None:
    assert capabilities_for("ft:custom-thing", plugin.CAPABILITY_RULES) == ()


def test_family_statistics_of_the_recorded_listing() -> None:
    models = [ModelRecord(model_id=model_id) for model_id in recorded_ids()]
    assert plugin.count_stats(make_provider("openai-eu"), models) == EXPECTED_FAMILIES


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("gpt-4", "GPT-4"),
        ("gpt-4-turbo-2024-04-09", "GPT-4"),
        ("gpt-4o", "GPT-4o"),
        ("gpt-4o-mini-tts", "GPT-4o"),
        ("chatgpt-4o-latest", "GPT-4o"),
        ("gpt-4.1-nano", "GPT-4.1"),
        ("gpt-3.5-turbo-instruct", "GPT-3.5"),
        ("gpt-5.2-codex", "GPT-5"),
        ("gpt-5-search-api", "GPT-5"),
        ("o4-mini-deep-research", "o-series"),
        ("o1-pro", "o-series"),
    ],
)
def test_each_family_rule(model_id: str, family: str) -> None:
    assert family_counts([model_id], plugin.FAMILIES) == {family: 1.0}


def test_models_outside_every_family_are_not_counted() -> None:
    ids = ["dall-e-3", "whisper-1", "omni-moderation-latest", "sora-2", "tts-1"]
    assert family_counts(ids, plugin.FAMILIES) == {}


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 20 seconds")
test_server_error = fails_with(
    ProviderError, "Provider error 503: The server is overloaded or not ready yet."
)


# The listing parser shared by the OpenAI-shaped providers.


@pytest.mark.parametrize("body", [[], "models", None, 3])
def test_listing_that_is_not_an_object_is_a_bad_response(body: Any) -> None:
    with pytest.raises(BadResponse, match="not a JSON object"):
        listing_entries(body)


@pytest.mark.parametrize("body", [{}, {"data": None}, {"data": {"id": "gpt-4o"}}])
def test_listing_without_a_data_array_is_a_bad_response(body: Any) -> None:
    with pytest.raises(BadResponse, match="no 'data' array"):
        listing_entries(body)


def test_listing_keeps_entries_without_a_string_id_as_unreadable() -> None:
    """The normalize step counts them: they are reported, not dropped in silence."""
    good = {"id": "gpt-4o", "created": "yesterday"}
    body = {"data": [good, "gpt-4", None, {"id": 4}, {"id": ""}, {"object": "model"}]}
    assert listing_entries(body) == [good, *[UNREADABLE] * 4, {"id": ""}]


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (1715367049, date(2024, 5, 10)),
        (None, None),
        ("1715367049", None),
        (True, None),
        (-5, None),
        (10**20, None),
    ],
)
def test_created_date(created: Any, expected: date | None) -> None:
    assert created_date({"created": created}) == expected
