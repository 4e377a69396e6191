"""The DeepSeek plugin against cassettes: the real `/models` recording (deepseek-2026-02.json)
and the error shapes of the README."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import InvalidApiKey, ProviderError, RateLimited
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import deepseek as plugin
from aisync_providers.openai_style import capabilities_for, family_counts
from tests.providers.helpers import (
    assert_other_types_ignored,
    provider_for,
    replayed_failure_test,
)

BASE_URL = "https://api.deepseek.com"

CHAT = ("chat", "completion", "function_calling", "structured_output")
REASONER = ("chat", "function_calling", "structured_output", "reasoning")


def make_provider(name: str = "deepseek", type_: str = "deepseek") -> Provider:
    return provider_for(type_, "DeepSeek", BASE_URL, name=name)


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert (info.name, info.display_name, info.default_base_url) == (
        "deepseek",
        "DeepSeek",
        BASE_URL,
    )
    assert info.api_key_env_vars == ("DEEPSEEK_API_KEY",)


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert_other_types_ignored(plugin, make_provider("o", "openai"), client, settings)


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    models = list(plugin.fetch_models(make_provider(), client, settings))

    assert vcr.all_played
    assert models == [
        ModelRecord(
            model_id="deepseek-chat",
            capabilities=CHAT,
            raw={"id": "deepseek-chat", "object": "model", "owned_by": "deepseek"},
            field_sources={"capabilities": "rule"},
        ),
        ModelRecord(
            model_id="deepseek-reasoner",
            capabilities=REASONER,
            raw={"id": "deepseek-reasoner", "object": "model", "owned_by": "deepseek"},
            field_sources={"capabilities": "rule"},
        ),
    ]


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("deepseek-chat", CHAT),
        ("deepseek-reasoner", REASONER),
        ("deepseek-reasoner-speciale", ("chat", "reasoning")),
        ("deepseek-coder", ("chat",)),
    ],
)
def test_capability_rule(model_id: str, expected: tuple[str, ...]) -> None:
    assert capabilities_for(model_id, plugin.CAPABILITY_RULES) == expected


def test_family_statistics() -> None:
    models = [ModelRecord(model_id="deepseek-chat"), ModelRecord(model_id="deepseek-reasoner")]
    assert plugin.count_stats(make_provider(), models) == {
        "DeepSeek Chat": 1.0,
        "DeepSeek Reasoner": 1.0,
    }
    assert family_counts(["deepseek-coder"], plugin.FAMILIES) == {}


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 20 seconds")
test_server_error = fails_with(
    ProviderError, "Provider error 503: Service is too busy, please try again later"
)
