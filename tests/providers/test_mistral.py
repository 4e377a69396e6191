"""The Mistral plugin against cassettes built from a real `/v1/models` answer."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import BadResponse, InvalidApiKey, ProviderError, RateLimited
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import mistral as plugin
from tests.providers.helpers import (
    assert_other_types_ignored,
    assert_unreadable_handed_on,
    client_serving,
    provider_for,
    recorded_body,
    replayed_failure_test,
    requests_sent_by,
)

BASE_URL = "https://api.mistral.ai/v1"

#: The capabilities of every id of the recorded listing (mistral-2026-02.json), first entries.
EXPECTED_CAPABILITIES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("chat", "vision", "function_calling", "fine_tuning"): (
        "mistral-medium-2505",
        "mistral-medium-2508",
        "mistral-medium-latest",
        "mistral-medium",
        "mistral-vibe-cli-with-tools",
        "mistral-large-2512",
        "mistral-large-latest",
        "ministral-3b-2512",
        "ministral-3b-latest",
        "ministral-8b-2512",
        "ministral-8b-latest",
        "ministral-14b-2512",
        "ministral-14b-latest",
    ),
    ("chat", "function_calling", "fine_tuning"): (
        "open-mistral-nemo",
        "open-mistral-nemo-2407",
        "mistral-tiny-2407",
        "mistral-tiny-latest",
        "mistral-large-2411",
        "labs-mistral-small-creative",
        "mistral-small-2501",
    ),
    ("chat", "vision", "function_calling"): (
        "pixtral-large-2411",
        "pixtral-large-latest",
        "mistral-large-pixtral-2411",
        "labs-devstral-small-2512",
        "devstral-small-latest",
        "mistral-small-2506",
        "mistral-small-latest",
    ),
    ("chat", "completion", "function_calling"): ("codestral-2508", "codestral-latest"),
    ("chat", "function_calling"): (
        "devstral-small-2507",
        "devstral-medium-2507",
        "devstral-2512",
        "mistral-vibe-cli-latest",
        "devstral-medium-latest",
        "devstral-latest",
    ),
    ("chat", "vision", "function_calling", "reasoning", "fine_tuning"): (
        "magistral-medium-2509",
        "magistral-medium-latest",
        "magistral-small-2509",
        "magistral-small-latest",
    ),
    ("chat", "audio_input"): ("voxtral-mini-2507", "voxtral-mini-latest"),
    ("chat", "audio_input", "function_calling"): ("voxtral-small-2507", "voxtral-small-latest"),
    ("embedding",): (
        "mistral-embed-2312",
        "mistral-embed",
        "codestral-embed",
        "codestral-embed-2505",
    ),
    ("moderation",): ("mistral-moderation-2411", "mistral-moderation-latest"),
    ("vision", "function_calling"): (
        "mistral-ocr-2512",
        "mistral-ocr-latest",
        "mistral-ocr-2505",
        "mistral-ocr-2503",
    ),
    ("transcription",): ("voxtral-mini-2602", "voxtral-mini-transcribe-2507"),
}


def make_provider(name: str = "mistral", type_: str = "mistral") -> Provider:
    return provider_for(type_, "Mistral AI", BASE_URL, name=name)


def recorded_entries() -> list[dict[str, Any]]:
    """The model objects of the full-listing cassette, i.e. of the real recording."""
    return list(recorded_body("mistral")["data"])


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert info.name == "mistral"
    assert info.display_name == "Mistral AI"
    assert info.default_base_url == BASE_URL
    assert info.api_key_env_vars == ("MISTRAL_API_KEY",)
    assert info.requires_api_key


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert_other_types_ignored(plugin, make_provider("openai", "openai"), client, settings)


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    sent = requests_sent_by(client)

    records = plugin.fetch_models(make_provider("mistral-eu"), client, settings)

    assert vcr.all_played and vcr.play_count == 1
    entries = recorded_entries()
    assert len(entries) == 57
    assert records is not None and len(records) == len({e["id"] for e in entries}) == 55
    (request,) = sent
    assert request.headers["authorization"] == "Bearer test-key"
    models = {r.model_id: r for r in records}
    medium = models["mistral-medium-latest"]
    assert medium == ModelRecord(
        model_id="mistral-medium-latest",
        display_name="mistral-medium-2508",
        context_window=131072,
        capabilities=("chat", "vision", "function_calling", "fine_tuning"),
        raw=entries[2],
    )
    assert medium.release_date is None  # `created` is the request time, not a release date
    codestral = models["codestral-2508"]
    assert codestral.context_window == 256000
    assert codestral.capabilities == ("chat", "completion", "function_calling")
    old_small = models["mistral-small-2501"]
    assert old_small.deprecation_date == date(2026, 2, 28)
    assert old_small.raw["deprecation_replacement_model"] == "mistral-small-latest"
    assert old_small.successor == "mistral-small-latest"
    assert models["mistral-ocr-2503"].deprecation_date == date(2026, 3, 31)
    assert models["mistral-embed"].capabilities == ("embedding",)
    # The flags are Mistral's; only what the id table adds (embedding, Magistral's
    # reasoning) makes the value partly aisync's guess.
    guessed = {r.model_id for r in records if r.field_sources == {"capabilities": "rule"}}
    assert guessed == {r.model_id for r in records if re.search(r"embed|^magistral-", r.model_id)}
    assert medium.field_sources == {}


@pytest.mark.vcr("test_full_listing.yaml")
def test_repeated_ids_keep_the_first_entry(
    vcr: Any, client: httpx.Client, settings: Settings
) -> None:
    records = plugin.fetch_models(make_provider(), client, settings)
    assert records is not None
    models = {r.model_id: r for r in records}
    # Listed first as the Voxtral Mini chat model, then as an alias of the transcription model.
    assert models["voxtral-mini-2507"].display_name == "voxtral-mini-2507"
    assert models["voxtral-mini-2507"].capabilities == ("chat", "audio_input")
    # Listed first as an alias of voxtral-mini-2507, then of voxtral-mini-2602.
    assert models["voxtral-mini-latest"].display_name == "voxtral-mini-2507"
    assert [r.model_id for r in records] == list(dict.fromkeys(e["id"] for e in recorded_entries()))


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
# Mistral sends no Retry-After: the message names no wait.
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded")
test_server_error = fails_with(ProviderError, "Provider error 503: Service unavailable")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "Mistral model list is not a JSON object"),
        (b'{"object": "list", "data": {}}', "Mistral model list has no 'data' array"),
        (b"", "Response is not valid JSON"),
    ],
)
def test_wrong_shapes_are_bad_responses(body: bytes, message: str, settings: Settings) -> None:
    with client_serving(body) as client, pytest.raises(BadResponse, match=message):
        plugin.fetch_models(make_provider(), client, settings)


def test_bad_entries_are_counted_and_wrong_types_tolerated(settings: Settings) -> None:
    entries: list[Any] = [
        "mistral-large-latest",
        {"name": "no id"},
        {"id": ""},
        {"id": "m-x", "name": 3, "max_context_length": "32k", "capabilities": [], "deprecation": 1},
        {"id": "m-y", "max_context_length": 8192, "capabilities": {"vision": "yes"}},
    ]
    with client_serving(json.dumps({"data": entries}).encode()) as client:
        records = plugin.fetch_models(make_provider(), client, settings)
    assert_unreadable_handed_on(records, [0, 1, 2])
    assert records[3:] == [
        ModelRecord(model_id="m-x", raw=entries[3]),
        ModelRecord(model_id="m-y", context_window=8192, raw=entries[4]),
    ]


def test_capability_table_covers_every_recorded_id() -> None:
    expected = {model_id: caps for caps, ids in EXPECTED_CAPABILITIES.items() for model_id in ids}
    first: dict[str, tuple[str, ...]] = {}
    for entry in recorded_entries():
        record = plugin._record(entry)
        assert record is not None
        first.setdefault(record.model_id, record.capabilities)
    assert first == expected
    for model_id, caps in first.items():
        assert caps, f"{model_id} has no capability"
        if "embed" in model_id or "transcribe" in model_id or caps == ("transcription",):
            assert not {"chat", "vision"} & set(caps), model_id


@pytest.mark.vcr("test_full_listing.yaml")
def test_stats(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    records = plugin.fetch_models(make_provider(), client, settings)
    assert records is not None
    assert plugin.count_stats(make_provider(), records) == {
        "Pixtral": 3.0,  # pixtral-large-2411, -latest and the mistral-large-pixtral-2411 alias
        "Mistral Large": 3.0,  # 2411, 2512, latest
        "Mistral Medium": 4.0,  # 2505, 2508, latest, mistral-medium
        "Mistral Small": 4.0,  # 2506, latest, 2501, labs-mistral-small-creative
        "Ministral": 6.0,  # 3b, 8b, 14b, each dated and latest
        "Magistral": 4.0,  # medium and small, each dated and latest
        "Codestral": 2.0,  # 2508, latest (not the embedding models)
        "Devstral": 7.0,  # small/medium-2507, 2512, labs-small-2512, and 3 -latest aliases
        "Voxtral": 6.0,  # mini/small 2507 and latest, mini-2602, mini-transcribe-2507
    }
