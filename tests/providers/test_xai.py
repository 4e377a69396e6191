"""The xAI plugin against cassettes: the real `/v1/models` recording (xai-2026-02.json) and a
`/v1/language-models` answer built from the documented fields (see each cassette's comment).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import InvalidApiKey, ProviderError, RateLimited
from aisync.records import CAPABILITIES, ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import xai as plugin
from aisync_providers.openai_style import capabilities_for, family_counts
from tests.providers.helpers import (
    assert_other_types_ignored,
    provider_for,
    recorded_body,
    replayed_failure_test,
)

BASE_URL = "https://api.x.ai/v1"

TOOLS = ("chat", "function_calling", "structured_output")
GROK_4 = ("chat", "vision", "function_calling", "structured_output", "reasoning")

#: What the id table gives every id of the recorded listing (used without /language-models).
EXPECTED_FROM_IDS = {
    "grok-2-vision-1212": ("chat", "vision", "function_calling", "structured_output"),
    "grok-3": TOOLS,
    "grok-3-mini": (*TOOLS, "reasoning"),
    "grok-4-0709": GROK_4,
    "grok-4-1-fast-non-reasoning": ("chat", "vision", "function_calling", "structured_output"),
    "grok-4-1-fast-reasoning": GROK_4,
    "grok-4-fast-non-reasoning": ("chat", "vision", "function_calling", "structured_output"),
    "grok-4-fast-reasoning": GROK_4,
    "grok-code-fast-1": (*TOOLS, "reasoning"),
    "grok-2-image-1212": ("image_generation",),
    "grok-imagine-image": ("image_generation",),
    "grok-imagine-image-pro": ("image_generation",),
    "grok-imagine-video": ("video_generation",),
}


def make_provider(name: str = "xai", type_: str = "xai") -> Provider:
    return provider_for(type_, "xAI", BASE_URL, name=name)


def recorded_ids() -> list[str]:
    return [entry["id"] for entry in recorded_body("xai")["data"]]


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert (info.name, info.display_name, info.default_base_url) == ("xai", "xAI", BASE_URL)
    assert info.api_key_env_vars == ("XAI_API_KEY",)


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert_other_types_ignored(plugin, make_provider("o", "openai"), client, settings)


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    models = plugin.fetch_models(make_provider(), client, settings)

    assert models is not None
    assert vcr.all_played
    assert len(vcr.requests) == 2
    ids = [model.model_id for model in models]
    assert ids == recorded_ids()
    assert len(set(ids)) == 13
    by_id = {model.model_id: model for model in models}
    details = {entry["id"]: entry for entry in recorded_body("xai", 1)["models"]}

    grok_4 = by_id["grok-4-0709"]
    assert grok_4.capabilities == GROK_4
    assert (grok_4.input_price_per_mtok, grok_4.output_price_per_mtok) == (3.0, 15.0)
    assert grok_4.release_date == date(2025, 7, 9)
    assert grok_4.raw == {
        "id": "grok-4-0709",
        "created": 1752019200,
        "object": "model",
        "owned_by": "xai",
        "language_model": details["grok-4-0709"],
    }
    grok_3 = by_id["grok-3"]
    assert grok_3.capabilities == TOOLS
    assert (grok_3.input_price_per_mtok, grok_3.output_price_per_mtok) == (3.0, 15.0)
    mini = by_id["grok-3-mini"]
    assert mini.capabilities == (*TOOLS, "reasoning")
    assert (mini.input_price_per_mtok, mini.output_price_per_mtok) == (0.3, 0.5)
    code = by_id["grok-code-fast-1"]
    assert (code.input_price_per_mtok, code.output_price_per_mtok) == (0.2, 1.5)
    assert by_id["grok-2-vision-1212"].capabilities == EXPECTED_FROM_IDS["grok-2-vision-1212"]

    video = by_id["grok-imagine-video"]
    assert video == ModelRecord(
        model_id="grok-imagine-video",
        capabilities=("video_generation",),
        release_date=date(2026, 1, 28),
        raw={
            "id": "grok-imagine-video",
            "created": 1769558400,
            "object": "model",
            "owned_by": "xai",
        },
        field_sources={"capabilities": "rule"},
    )
    assert all(model.field_sources == {"capabilities": "rule"} for model in models)


@pytest.mark.vcr
def test_language_models_missing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    models = plugin.fetch_models(make_provider(), client, settings)

    assert models is not None
    assert vcr.all_played
    assert len(models) == 13
    for model in models:
        assert model.capabilities == EXPECTED_FROM_IDS[model.model_id]
        assert model.input_price_per_mtok is None
        assert "language_model" not in model.raw


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_language_models_unauthorized = fails_with(InvalidApiKey, "Invalid API key")
test_language_models_unavailable = fails_with(
    ProviderError, "Provider error 503: Service temporarily unavailable."
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (20000, "2"),
        (30000, "3"),
        (150000, "15"),
        (2000, "0.2"),
        (750, "0.075"),
        (12345, "1.2345"),
        (1, "0.0001"),
        (0, "0"),
        (12.5, "0.00125"),
    ],
)
def test_price_conversion(value: int | float, expected: str) -> None:
    assert plugin.usd_per_mtok(value) == float(Decimal(expected))


@pytest.mark.parametrize("value", [None, "20000", True, -5, [20000], float("nan"), float("inf")])
def test_unusable_prices_are_none(value: Any) -> None:
    assert plugin.usd_per_mtok(value) is None


@pytest.mark.parametrize(("model_id", "expected"), sorted(EXPECTED_FROM_IDS.items()))
def test_capability_rule(model_id: str, expected: tuple[str, ...]) -> None:
    assert model_id in recorded_ids()
    assert capabilities_for(model_id, plugin.CAPABILITY_RULES) == expected


def test_every_recorded_id_gets_sound_capabilities() -> None:
    for model_id in recorded_ids():
        capabilities = capabilities_for(model_id, plugin.CAPABILITY_RULES)
        assert capabilities, model_id
        assert set(capabilities) <= set(CAPABILITIES)
        if "imagine" in model_id or "-image" in model_id:
            assert "chat" not in capabilities, model_id
        if model_id.endswith("-reasoning"):
            assert ("reasoning" in capabilities) != model_id.endswith("non-reasoning")


def test_modalities_decide_chat_vision_and_image_generation() -> None:
    entry = {"id": "grok-4-0709", "created": 1752019200}
    text_only = {"id": "grok-4-0709", "input_modalities": ["text"], "output_modalities": ["text"]}
    drawing = {"id": "grok-4-0709", "input_modalities": ["text"], "output_modalities": ["image"]}
    assert plugin._record(entry, text_only).capabilities == (
        "chat",
        "function_calling",
        "structured_output",
        "reasoning",
    )
    assert plugin._record(entry, drawing).capabilities == (
        "image_generation",
        "function_calling",
        "structured_output",
        "reasoning",
    )


def test_family_statistics() -> None:
    models = [ModelRecord(model_id=model_id) for model_id in recorded_ids()]
    assert plugin.count_stats(make_provider(), models) == {
        "Grok 2": 2.0,
        "Grok 3": 2.0,
        "Grok 4": 5.0,
        "Grok Code": 1.0,
        "Grok Imagine": 3.0,
    }


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("grok-2-vision-1212", "Grok 2"),
        ("grok-3-mini", "Grok 3"),
        ("grok-4-1-fast-reasoning", "Grok 4"),
        ("grok-code-fast-1", "Grok Code"),
        ("grok-imagine-video", "Grok Imagine"),
    ],
)
def test_each_family_rule(model_id: str, family: str) -> None:
    assert family_counts([model_id], plugin.FAMILIES) == {family: 1.0}


test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 20 seconds")
test_server_error = replayed_failure_test(
    plugin,
    make_provider("xai-backup"),
    ProviderError,
    "Provider error 503: Service temporarily unavailable.",
)


@pytest.mark.vcr
def test_models_with_context_and_cache_prices(
    vcr: Any, client: httpx.Client, settings: Settings
) -> None:
    """The API reference's examples: `/models` entries carry `context_length` and prices,
    `cached_prompt_text_token_price` is in the same unit as the other prices (2000 -> 0.20)."""
    models = plugin.fetch_models(make_provider(), client, settings)

    assert models is not None
    assert vcr.all_played
    by_id = {model.model_id: model for model in models}
    reasoning = by_id["grok-420-reasoning"]
    assert reasoning.context_window == 256_000
    assert (reasoning.input_price_per_mtok, reasoning.output_price_per_mtok) == (2.0, 8.0)
    assert reasoning.cache_read_price_per_mtok == 0.2
    latest = by_id["latest"]
    assert latest.context_window == 131_072
    assert (latest.input_price_per_mtok, latest.cache_read_price_per_mtok) == (1.25, 0.2)
    # Not on /language-models: the /models entry alone gives its context length (the
    # prompt limit of an image model) and no token prices.
    image = by_id["grok-imagine-image"]
    assert image.context_window == 1024
    assert image.input_price_per_mtok is image.cache_read_price_per_mtok is None
