"""The DeepSeek plugin against cassettes: the real `/models` recording (deepseek-2026-02.json)
and the error shapes of the README."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from aisync.errors import InvalidApiKey, ProviderError, RateLimited
from aisync.http import build_client
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import deepseek as plugin
from aisync_providers.openai_style import capabilities_for, family_counts

CASSETTES = Path(__file__).parent / "cassettes" / "test_deepseek"
BASE_URL = "https://api.deepseek.com"

CHAT = ("chat", "completion", "function_calling", "structured_output")
REASONER = ("chat", "function_calling", "structured_output", "reasoning")


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    client = build_client(5.0, max_retries=0)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://")


def make_provider(name: str = "deepseek", type_: str = "deepseek") -> Provider:
    return Provider(
        name=name,
        type=type_,
        display_name="DeepSeek",
        base_url=BASE_URL,
        api_key="test-key",
        credentials_present=True,
    )


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert (info.name, info.display_name, info.default_base_url) == (
        "deepseek",
        "DeepSeek",
        BASE_URL,
    )
    assert info.api_key_env_vars == ("DEEPSEEK_API_KEY",)


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert plugin.fetch_models(make_provider("o", "openai"), client, settings) is None
    assert plugin.compute_stats(make_provider("o", "openai"), []) is None


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    models = plugin.fetch_models(make_provider(), client, settings)

    assert vcr.all_played
    assert models == [
        ModelRecord(
            model_id="deepseek-chat",
            capabilities=CHAT,
            raw={"id": "deepseek-chat", "object": "model", "owned_by": "deepseek"},
        ),
        ModelRecord(
            model_id="deepseek-reasoner",
            capabilities=REASONER,
            raw={"id": "deepseek-reasoner", "object": "model", "owned_by": "deepseek"},
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
    assert plugin.compute_stats(make_provider(), models) == {
        "DeepSeek Chat": 1.0,
        "DeepSeek Reasoner": 1.0,
    }
    assert family_counts(["deepseek-coder"], plugin.FAMILIES) == {}


@pytest.mark.vcr
def test_invalid_key(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    with pytest.raises(InvalidApiKey, match="^Invalid API key$"):
        plugin.fetch_models(make_provider(), client, settings)
    assert vcr.all_played


@pytest.mark.vcr
def test_rate_limited(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    with pytest.raises(RateLimited, match="^Rate limit exceeded, retry after 20 seconds$"):
        plugin.fetch_models(make_provider(), client, settings)
    assert vcr.all_played


@pytest.mark.vcr
def test_server_error(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    with pytest.raises(ProviderError) as caught:
        plugin.fetch_models(make_provider(), client, settings)
    assert str(caught.value) == "Provider error 503: Service is too busy, please try again later"
    assert vcr.all_played


def test_cassettes_hold_no_secret() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) == 4
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path.name
        assert "test-key" not in text
        assert "authorization" not in text.lower()
        assert "bearer" not in text.lower()
        for interaction in yaml.safe_load(text)["interactions"]:
            assert set(interaction["request"]["headers"]) <= {"accept", "user-agent"}
