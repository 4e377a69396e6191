"""The Gemini plugin against cassettes built from real Generative Language API answers."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import BadResponse, InvalidApiKey, ProviderError, RateLimited
from aisync.records import CAPABILITIES, ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import gemini as plugin
from tests.providers.helpers import (
    assert_other_types_ignored,
    assert_unreadable_handed_on,
    by_id,
    client_serving,
    provider_for,
    recorded_body,
    replayed_failure_test,
    requests_sent_by,
)

BASE_URL = "https://generativelanguage.googleapis.com/v1beta"

#: The capabilities of every id of the recorded listing (gemini-2026-02.json).
EXPECTED_CAPABILITIES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("chat", "vision", "audio_input", "function_calling", "structured_output", "reasoning"): (
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-exp-1206",
        "gemini-flash-latest",
        "gemini-flash-lite-latest",
        "gemini-pro-latest",
        "gemini-2.5-flash-lite",
        "gemini-2.5-flash-preview-09-2025",
        "gemini-2.5-flash-lite-preview-09-2025",
        "gemini-3-pro-preview",
        "gemini-3-flash-preview",
    ),
    ("chat", "vision", "audio_input", "function_calling", "structured_output"): (
        "gemini-2.0-flash",
        "gemini-2.0-flash-001",
        "gemini-2.0-flash-lite-001",
        "gemini-2.0-flash-lite",
    ),
    ("chat", "image_generation", "vision"): (
        "gemini-2.0-flash-exp-image-generation",
        "gemini-2.5-flash-image",
    ),
    ("chat", "image_generation", "vision", "reasoning"): (
        "gemini-3-pro-image-preview",
        "nano-banana-pro-preview",
    ),
    ("speech",): ("gemini-2.5-flash-preview-tts", "gemini-2.5-pro-preview-tts"),
    ("chat",): ("gemma-3-1b-it", "gemma-3n-e4b-it", "gemma-3n-e2b-it", "aqa"),
    ("chat", "vision"): ("gemma-3-4b-it", "gemma-3-12b-it", "gemma-3-27b-it"),
    ("chat", "vision", "function_calling", "reasoning"): (
        "gemini-robotics-er-1.5-preview",
        "gemini-2.5-computer-use-preview-10-2025",
    ),
    ("chat", "reasoning"): ("deep-research-pro-preview-12-2025",),
    ("embedding",): ("gemini-embedding-001",),
    ("image_generation",): (
        "imagen-4.0-generate-preview-06-06",
        "imagen-4.0-ultra-generate-preview-06-06",
        "imagen-4.0-generate-001",
        "imagen-4.0-ultra-generate-001",
        "imagen-4.0-fast-generate-001",
    ),
    ("video_generation",): (
        "veo-2.0-generate-001",
        "veo-3.0-generate-001",
        "veo-3.0-fast-generate-001",
        "veo-3.1-generate-preview",
        "veo-3.1-fast-generate-preview",
    ),
    ("audio_input", "speech", "reasoning"): (
        "gemini-2.5-flash-native-audio-latest",
        "gemini-2.5-flash-native-audio-preview-09-2025",
        "gemini-2.5-flash-native-audio-preview-12-2025",
    ),
}


def make_provider(name: str = "gemini", type_: str = "gemini") -> Provider:
    return provider_for(type_, "Google Gemini", BASE_URL, name=name)


def recorded_entries() -> list[dict[str, Any]]:
    """The model objects of the full-listing cassette, i.e. of the real recording."""
    return list(recorded_body("gemini")["models"])


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert info.name == "gemini"
    assert info.display_name == "Google Gemini"
    assert info.default_base_url == BASE_URL
    assert info.api_key_env_vars == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    assert info.requires_api_key


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert_other_types_ignored(plugin, make_provider("openai", "openai"), client, settings)


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    sent = requests_sent_by(client)

    records = list(plugin.fetch_models(make_provider("gemini-eu"), client, settings))

    assert vcr.all_played and vcr.play_count == 1
    assert records is not None and len(records) == len(recorded_entries()) == 45
    assert len(by_id(records)) == 45
    (request,) = sent
    assert request.headers["x-goog-api-key"] == "test-key"
    assert "key" not in request.url.params and "test-key" not in str(request.url)
    models = by_id(records)
    flash = models["gemini-2.5-flash"]
    assert flash.display_name == "Gemini 2.5 Flash"
    assert flash.context_window == 1048576
    assert flash.max_output_tokens == 65536
    assert flash.capabilities == (
        "chat",
        "vision",
        "audio_input",
        "function_calling",
        "structured_output",
        "reasoning",
    )
    assert flash.input_price_per_mtok is None and flash.release_date is None
    assert flash.raw["name"] == "models/gemini-2.5-flash"
    assert flash.raw["supportedGenerationMethods"][0] == "generateContent"
    embedding = models["gemini-embedding-001"]
    assert (embedding.context_window, embedding.max_output_tokens) == (2048, 1)
    assert embedding.capabilities == ("embedding",)
    imagen = models["imagen-4.0-generate-001"]
    assert imagen.display_name == "Imagen 4"
    assert (imagen.context_window, imagen.max_output_tokens) == (480, 8192)
    assert imagen.capabilities == ("image_generation",)
    assert models["nano-banana-pro-preview"].display_name == "Nano Banana Pro"
    assert models["gemini-2.0-flash"].capabilities[-1] == "structured_output"
    # What a method says of any model is the API's word; what it means for an id family
    # (a Gemini model's generateContent: vision, audio, tools) is aisync's guess.
    assert flash.field_sources == imagen.field_sources == {"capabilities": "rule"}
    assert embedding.field_sources == {}
    assert models["aqa"].field_sources == {}


@pytest.mark.vcr
def test_embed_text(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    """The older `embedText` method (PaLM-era embedding models) means embeddings too."""
    records = list(plugin.fetch_models(make_provider(), client, settings))

    assert vcr.all_played
    (gecko,) = records or []
    assert gecko.model_id == "embedding-gecko-001"
    assert gecko.display_name == "Embedding Gecko"
    assert (gecko.context_window, gecko.max_output_tokens) == (1024, 1)
    assert gecko.capabilities == ("embedding",)
    assert gecko.field_sources == {}


@pytest.mark.vcr
def test_pagination(
    vcr: Any, client: httpx.Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugin, "PAGE_SIZE", 15)

    records = list(plugin.fetch_models(make_provider(), client, settings))

    assert vcr.all_played and vcr.play_count == 3
    assert records is not None and len(records) == 45
    assert [r.model_id for r in records] == [
        e["name"].removeprefix("models/") for e in recorded_entries()
    ]


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
# The wait is the body's RetryInfo `retryDelay` ("48s"), not the message's 48.9s.
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 48 seconds")
test_server_error = fails_with(
    ProviderError, "Provider error 503: The model is overloaded. Please try again later."
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "Gemini model list is not a JSON object"),
        (b'{"models": {}}', "Gemini model list has no 'models' array"),
        (b'{"models": [], "nextPageToken": 3}', "Gemini model list has a non-string"),
        (b"<html>", "Response is not valid JSON"),
    ],
)
def test_wrong_shapes_are_bad_responses(body: bytes, message: str, settings: Settings) -> None:
    with client_serving(body) as client, pytest.raises(BadResponse, match=message):
        plugin.fetch_models(make_provider(), client, settings)


def test_bad_entries_are_counted_and_wrong_types_tolerated(settings: Settings) -> None:
    entries: list[Any] = [
        "models/not-an-object",
        {"displayName": "No name"},
        {"name": 7},
        {"name": "models/"},
        {"name": "models/gemini-x", "inputTokenLimit": "big", "outputTokenLimit": True},
        {"name": "models/gemini-y", "supportedGenerationMethods": "generateContent"},
    ]
    with client_serving(json.dumps({"models": entries}).encode()) as client:
        records = list(plugin.fetch_models(make_provider(), client, settings))
    assert_unreadable_handed_on(records, [0, 1, 2, 3])
    assert records[4:] == [
        ModelRecord(model_id="gemini-x", raw=entries[4]),
        ModelRecord(model_id="gemini-y", raw=entries[5]),
    ]


def test_empty_listing_without_models_key(settings: Settings) -> None:
    with client_serving(b"{}") as client:
        assert list(plugin.fetch_models(make_provider(), client, settings)) == []


def test_endless_paging_is_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin, "MAX_PAGES", 3)
    with (
        client_serving(b'{"models": [], "nextPageToken": "again"}') as client,
        pytest.raises(BadResponse, match="more than 3 pages"),
    ):
        plugin.fetch_models(make_provider(), client, settings)


def test_capability_table_covers_every_recorded_id() -> None:
    expected = {model_id: caps for caps, ids in EXPECTED_CAPABILITIES.items() for model_id in ids}
    records = [plugin._record(entry) for entry in recorded_entries()]
    actual = {r.model_id: r.capabilities for r in records if r is not None}
    assert actual == {
        model_id: tuple(w for w in CAPABILITIES if w in caps) for model_id, caps in expected.items()
    }
    for model_id, caps in actual.items():
        assert caps, f"{model_id} has no capability"
        if model_id.endswith("-tts") or "embedding" in model_id or model_id.startswith("veo-"):
            assert not {"chat", "vision"} & set(caps), model_id


@pytest.mark.vcr("test_full_listing.yaml")
def test_stats(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    records = list(plugin.fetch_models(make_provider(), client, settings))
    assert records is not None
    stats = plugin.count_stats(make_provider(), records)
    assert stats == {
        # gemini-2.5-pro, gemini-pro-latest, gemini-3-pro-preview and the -pro TTS and image models
        "Gemini Pro": 5.0,
        # 2.0/2.5/3 Flash and Flash-Lite with previews and aliases (12), TTS, 2 image, 3 live
        "Gemini Flash": 17.0,
        "Gemma": 6.0,
        "Imagen": 5.0,
        "Veo": 5.0,
        # 15 Gemini chat, 4 image, 3 Gemma 3, Robotics-ER, Computer Use, 3 native-audio
        "Multimodal": 27.0,
    }
