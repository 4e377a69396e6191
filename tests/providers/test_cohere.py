"""The Cohere plugin against cassettes built from real `GET /v1/models` answers."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from aisync.cli import cli
from aisync.errors import BadResponse, InvalidApiKey, PermissionDenied, ProviderError, RateLimited
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import cohere as plugin
from tests.providers.helpers import (
    by_id,
    client_serving,
    provider_for,
    recorded_body,
    replayed_failure_test,
    requests_sent_by,
)

BASE_URL = "https://api.cohere.com"
CHAT_TOOLS = ("chat", "completion", "function_calling", "structured_output")

#: What the plugin must make of every entry of the recorded listing.
EXPECTED = {
    "command-r-plus": (128000, CHAT_TOOLS),
    "command-r": (128000, ("chat",)),
    "c4ai-aya-vision-32b": (16384, ("chat", "vision")),
    "command-light": (4096, ("chat", "completion")),
    "embed-multilingual-v3.0": (512, ("embedding",)),
    "embed-english-v2.0": (512, ("embedding",)),
    "rerank-english-v3.0": (4096, ()),
}


def make_provider(name: str = "cohere", type_: str = "cohere") -> Provider:
    return provider_for(type_, "Cohere", BASE_URL, name=name)


def recorded_entries() -> list[dict[str, Any]]:
    return list(recorded_body("cohere")["models"])


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert (info.name, info.display_name, info.default_base_url) == ("cohere", "Cohere", BASE_URL)
    assert info.api_key_env_vars == ("COHERE_API_KEY", "CO_API_KEY")
    assert info.base_url_env_vars == ("CO_API_URL",)


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    assert plugin.fetch_models(make_provider("openai", "openai"), client, settings) is None


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    sent = requests_sent_by(client)

    records = list(plugin.fetch_models(make_provider(), client, settings))

    assert vcr.all_played and vcr.play_count == 1
    (request,) = sent
    assert request.headers["Authorization"] == "Bearer test-key"
    assert "test-key" not in str(request.url)
    assert {r.model_id: (r.context_window, r.capabilities) for r in records} == EXPECTED
    first = records[0]
    assert first == ModelRecord(
        model_id="command-r-plus",
        context_window=128000,
        capabilities=CHAT_TOOLS,
        raw=recorded_entries()[0],
    )
    # Values the API published: nothing is marked as guessed.
    assert all(r.field_sources == {} for r in records)
    # rerank and classify have no capability word: they are kept in raw.
    assert by_id(records)["rerank-english-v3.0"].raw["endpoints"] == ["rerank"]


@pytest.mark.vcr
def test_pagination(
    vcr: Any, client: httpx.Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugin, "PAGE_SIZE", 4)
    sent = requests_sent_by(client)

    records = list(plugin.fetch_models(make_provider(), client, settings))

    assert vcr.all_played and vcr.play_count == 2
    assert [r.model_id for r in records] == [e["name"] for e in recorded_entries()]
    assert sent[1].url.params["page_token"] == "CgxlbWJlZC1tdWx0aQ"
    assert all(r.headers["Authorization"] == "Bearer test-key" for r in sent)


fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_permission_denied = fails_with(PermissionDenied, "Permission denied")
test_not_found = fails_with(ProviderError, "Provider error 404: Not Found")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "Cohere model list is not a JSON object"),
        (b'{"data": []}', "Cohere model list has no 'models' array"),
        (b"not json", "Response is not valid JSON"),
    ],
)
def test_wrong_shapes_are_bad_responses(body: bytes, message: str, settings: Settings) -> None:
    with client_serving(body) as client, pytest.raises(BadResponse, match=message):
        list(plugin.fetch_models(make_provider(), client, settings))


def test_endless_paging_is_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin, "MAX_PAGES", 3)
    body = b'{"models": [], "next_page_token": "again"}'
    with client_serving(body) as client, pytest.raises(BadResponse, match="more than 3 pages"):
        list(plugin.fetch_models(make_provider(), client, settings))


def test_odd_entries_are_tolerated(settings: Settings) -> None:
    """Unreadable entries reach the normalize step with an empty id (it reports them);
    fields of the wrong type are ignored; `is_deprecated` (no date) stays in raw."""
    entries: list[Any] = [
        "command-r",
        {"endpoints": ["chat"]},
        {"name": "x", "endpoints": "chat", "context_length": "big", "supports_vision": "yes"},
        {"name": "old", "endpoints": ["chat", 5], "features": ["tools"], "is_deprecated": True},
    ]
    body = json.dumps({"models": entries, "next_page_token": ""}).encode()
    with client_serving(body) as client:
        records = list(plugin.fetch_models(make_provider(), client, settings))
    assert [r.model_id for r in records] == ["", "", "x", "old"]
    assert records[2].capabilities == () and records[2].context_window is None
    assert records[3].capabilities == ("chat", "function_calling")
    assert records[3].deprecation_date is None and records[3].raw["is_deprecated"] is True


@pytest.mark.vcr("test_full_listing.yaml")
def test_sync_models_through_the_cli(vcr: Any, tmp_path: Path) -> None:
    """`aisync sync-models --provider cohere` with the SDK's own key variable."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = {"CO_API_KEY": "test-key-cohere-9b1", "AISYNC_DATABASE_URL": url, "AISYNC_RETRIES": "0"}
    result = CliRunner().invoke(cli, ["sync-models", "--provider", "cohere"], env=env)
    assert result.exit_code == 0, result.output
    assert "cohere:\n  ✓ Found 7 models\n" in result.stdout
    assert vcr.all_played
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT model_id, context_window FROM current_models WHERE provider = 'cohere'")
        ).all()
    engine.dispose()
    assert dict(rows) == {name: context for name, (context, _) in EXPECTED.items()}
    assert "test-key-cohere-9b1" not in result.output
    assert b"test-key-cohere-9b1" not in (tmp_path / "catalog.db").read_bytes()


@pytest.mark.vcr("test_invalid_key.yaml")
def test_cli_reports_a_bad_key_in_one_line(vcr: Any, tmp_path: Path) -> None:
    env = {
        "COHERE_API_KEY": "test-key-cohere-9b1",
        "AISYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "AISYNC_RETRIES": "0",
    }
    result = CliRunner().invoke(cli, ["sync-models", "--provider", "cohere"], env=env)
    assert result.exit_code == 1, result.output  # every provider asked for failed
    assert result.stderr == "\nErrors encountered:\n- cohere: Invalid API key\n"
