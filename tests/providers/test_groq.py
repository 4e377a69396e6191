"""The Groq plugin against cassettes built from GroqCloud's documented `/models` shape with
real Groq entries (no real recording exists; see each cassette's comment)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import InvalidApiKey, ProviderError, RateLimited
from aisync.records import CAPABILITIES, ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import groq as plugin
from aisync_providers.openai_style import capabilities_for, family_counts
from tests.providers.helpers import (
    assert_other_types_ignored,
    provider_for,
    recorded_body,
    replayed_failure_test,
)

BASE_URL = "https://api.groq.com/openai/v1"

TOOLS = ("chat", "function_calling", "structured_output")
VISION_TOOLS = ("chat", "vision", "function_calling", "structured_output")

#: What the table gives every id of the full-listing cassette.
EXPECTED_CAPABILITIES = {
    "whisper-large-v3": ("transcription",),
    "whisper-large-v3-turbo": ("transcription",),
    "canopylabs/orpheus-v1-english": ("speech",),
    "canopylabs/orpheus-arabic-saudi": ("speech",),
    "openai/gpt-oss-safeguard-20b": ("reasoning", "moderation"),
    "meta-llama/llama-guard-4-12b": ("vision", "moderation"),
    "meta-llama/llama-prompt-guard-2-22m": ("moderation",),
    "meta-llama/llama-prompt-guard-2-86m": ("moderation",),
    "groq/compound": ("chat",),
    "groq/compound-mini": ("chat",),
    "openai/gpt-oss-20b": (*TOOLS, "reasoning"),
    "openai/gpt-oss-120b": (*TOOLS, "reasoning"),
    "qwen/qwen3-32b": ("chat", "function_calling", "reasoning"),
    "meta-llama/llama-4-maverick-17b-128e-instruct": VISION_TOOLS,
    "meta-llama/llama-4-scout-17b-16e-instruct": VISION_TOOLS,
    "moonshotai/kimi-k2-instruct": TOOLS,
    "moonshotai/kimi-k2-instruct-0905": TOOLS,
    "llama-3.3-70b-versatile": ("chat", "function_calling"),
    "llama-3.1-8b-instant": ("chat", "function_calling"),
    "allam-2-7b": ("chat",),
}


def make_provider(name: str = "groq", type_: str = "groq") -> Provider:
    return provider_for(type_, "Groq", BASE_URL, name=name)


def listed_entries() -> list[dict[str, Any]]:
    return list(recorded_body("groq")["data"])


def listed_ids() -> list[str]:
    return [entry["id"] for entry in listed_entries()]


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert (info.name, info.display_name, info.default_base_url) == ("groq", "Groq", BASE_URL)
    assert info.api_key_env_vars == ("GROQ_API_KEY",)


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert_other_types_ignored(plugin, make_provider("o", "openai"), client, settings)


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    models = list(plugin.fetch_models(make_provider(), client, settings))

    assert models is not None
    assert vcr.all_played
    ids = [model.model_id for model in models]
    assert ids == listed_ids()
    assert len(set(ids)) == 20
    by_id = {model.model_id: model for model in models}
    assert by_id["llama-3.3-70b-versatile"] == ModelRecord(
        model_id="llama-3.3-70b-versatile",
        context_window=131072,
        max_output_tokens=32768,
        capabilities=("chat", "function_calling"),
        release_date=date(2024, 12, 6),
        raw={
            "id": "llama-3.3-70b-versatile",
            "object": "model",
            "created": 1733447754,
            "owned_by": "Meta",
            "active": True,
            "context_window": 131072,
            "public_apps": None,
            "max_completion_tokens": 32768,
        },
        field_sources={"capabilities": "rule"},
    )
    # Entries without modalities or features: every capability is a guess from the id.
    assert all(model.field_sources == {"capabilities": "rule"} for model in models)
    whisper = by_id["whisper-large-v3"]
    assert whisper.capabilities == ("transcription",)
    assert (whisper.context_window, whisper.max_output_tokens) == (448, 448)
    kimi = by_id["moonshotai/kimi-k2-instruct-0905"]
    assert (kimi.context_window, kimi.max_output_tokens) == (262144, 16384)
    assert kimi.release_date == date(2025, 9, 5)
    assert by_id["openai/gpt-oss-120b"].raw["owned_by"] == "OpenAI"


@pytest.mark.vcr
def test_inactive_models_skipped(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    models = list(plugin.fetch_models(make_provider(), client, settings))

    assert models is not None
    assert vcr.all_played
    assert [model.model_id for model in models] == ["llama-3.1-8b-instant"]
    assert models[0].raw["active"] is True


@pytest.mark.parametrize(("model_id", "expected"), sorted(EXPECTED_CAPABILITIES.items()))
def test_capability_rule(model_id: str, expected: tuple[str, ...]) -> None:
    assert model_id in listed_ids()
    assert capabilities_for(model_id, plugin.CAPABILITY_RULES) == expected


def test_every_listed_id_gets_sound_capabilities() -> None:
    assert set(listed_ids()) == set(EXPECTED_CAPABILITIES)
    for model_id in listed_ids():
        capabilities = capabilities_for(model_id, plugin.CAPABILITY_RULES)
        assert capabilities, model_id
        assert set(capabilities) <= set(CAPABILITIES)
        if any(word in model_id for word in ("whisper", "orpheus", "tts", "guard")):
            assert "chat" not in capabilities, model_id
        if any(word in model_id for word in ("whisper", "orpheus", "tts")):
            assert "vision" not in capabilities, model_id


def test_retired_ids_still_match_a_rule() -> None:
    assert capabilities_for("playai-tts-arabic", plugin.CAPABILITY_RULES) == ("speech",)
    assert capabilities_for("distil-whisper-large-v3-en", plugin.CAPABILITY_RULES) == (
        "transcription",
    )
    assert capabilities_for("llama3-70b-8192", plugin.CAPABILITY_RULES) == (
        "chat",
        "function_calling",
    )
    assert capabilities_for("gemma2-9b-it", plugin.CAPABILITY_RULES) == ("chat",)


def test_family_statistics() -> None:
    models = [ModelRecord(model_id=model_id) for model_id in listed_ids()]
    assert plugin.count_stats(make_provider(), models) == {
        "Llama": 4.0,
        "GPT-OSS": 3.0,
        "Qwen": 1.0,
        "Kimi": 2.0,
        "Whisper": 2.0,
        "Guard": 4.0,
        "Compound": 2.0,
    }


@pytest.mark.parametrize(
    ("model_id", "families"),
    [
        ("llama-3.3-70b-versatile", {"Llama"}),
        ("meta-llama/llama-4-scout-17b-16e-instruct", {"Llama"}),
        ("meta-llama/llama-guard-4-12b", {"Guard"}),
        ("openai/gpt-oss-120b", {"GPT-OSS"}),
        ("openai/gpt-oss-safeguard-20b", {"GPT-OSS", "Guard"}),
        ("qwen/qwen3-32b", {"Qwen"}),
        ("moonshotai/kimi-k2-instruct", {"Kimi"}),
        ("whisper-large-v3-turbo", {"Whisper"}),
        ("groq/compound-mini", {"Compound"}),
        ("allam-2-7b", set()),
    ],
)
def test_each_family_rule(model_id: str, families: set[str]) -> None:
    assert set(family_counts([model_id], plugin.FAMILIES)) == families


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 20 seconds")
test_server_error = fails_with(ProviderError, "Provider error 503: Service Unavailable")


@pytest.mark.vcr
def test_listing_with_features(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    """A live listing whose entries say what each model does: `name` is the display name,
    modalities and `supported_features` the capabilities, as far as they go; only what they
    cannot say (a guard is a classifier) still comes from the id, and is marked `rule`."""
    models = list(plugin.fetch_models(make_provider(), client, settings))

    assert models is not None
    assert vcr.all_played
    by_id = {model.model_id: model for model in models}
    assert len(by_id) == 9
    found = {
        model_id: (model.display_name, model.capabilities, dict(model.field_sources))
        for model_id, model in by_id.items()
    }
    api: dict[str, str] = {}
    rule = {"capabilities": "rule"}
    assert found == {
        "allam-2-7b": ("ALLaM-2-7b", ("chat", "structured_output"), api),
        "canopylabs/orpheus-v1-english": ("Canopy Labs Orpheus V1 English", ("speech",), api),
        "meta-llama/llama-prompt-guard-2-86m": ("Prompt Guard 2 86M", ("moderation",), rule),
        "openai/gpt-oss-120b": ("GPT OSS 120B", (*TOOLS, "reasoning"), api),
        "openai/gpt-oss-20b": ("GPT OSS 20B", (*TOOLS, "reasoning"), api),
        "openai/gpt-oss-safeguard-20b": ("Safety GPT OSS 20B", ("reasoning", "moderation"), rule),
        "qwen/qwen3.8-27b": ("Qwen/Qwen3.8-27B", (*VISION_TOOLS, "reasoning"), api),
        "whisper-large-v3": ("Whisper", ("transcription",), api),
        "whisper-large-v3-turbo": ("Whisper Large V3 Turbo", ("transcription",), api),
    }
    assert by_id["qwen/qwen3.8-27b"].max_output_tokens == 16_384
