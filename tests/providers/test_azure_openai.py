"""The Azure OpenAI plugin: a resource's deployments, enriched by its deployable models."""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from aisync.cli import cli
from aisync.errors import BadResponse, InvalidApiKey, PermissionDenied, ProviderError, RateLimited
from aisync.records import Provider
from aisync.settings import Settings
from aisync.sync.discovery import discover
from aisync.sync.plugins import get_plugin_manager
from aisync_providers import azure_openai as plugin
from tests.providers.helpers import (
    by_id,
    client_serving,
    client_with_handler,
    provider_for,
    recorded_body,
    replayed_failure_test,
    requests_sent_by,
)

ENDPOINT = "https://aoairesource.openai.azure.com"


def make_provider(
    options: dict[str, Any] | None = None, base_url: str | None = ENDPOINT
) -> Provider:
    provider = provider_for("azure-openai", "Azure OpenAI", base_url)
    return Provider(**{**provider.__dict__, "options": options or {}})


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    sent = requests_sent_by(client)

    records = by_id(plugin.fetch_models(make_provider(), client, settings))

    assert vcr.all_played and vcr.play_count == 2
    assert [r.url.path for r in sent] == ["/openai/deployments", "/openai/models"]
    assert all(r.url.params["api-version"] == "2022-12-01" for r in sent)
    assert all(r.headers["api-key"] == "test-key" for r in sent)
    assert all("test-key" not in str(r.url) for r in sent)
    # The deployment still being created ("running") cannot be called: left out.
    assert set(records) == {"chat", "chat-16k", "gpt4", "embeddings", "legacy-curie"}
    # One version listed: its capabilities and inference deprecation date.
    assert records["chat-16k"].capabilities == ("chat",)
    assert records["chat-16k"].deprecation_date == date(2024, 1, 15)
    assert records["legacy-curie"].capabilities == ("completion",)
    assert records["legacy-curie"].deprecation_date == date(2024, 7, 5)
    # Three versions of gpt-35-turbo: only what they all say (chat; dates differ).
    assert records["chat"].capabilities == ("chat",)
    assert records["chat"].deprecation_date is None
    assert records["embeddings"].capabilities == ("embedding",)
    # The base model and the entries used are kept in raw.
    chat = records["chat"].raw
    assert chat["model"] == "gpt-35-turbo"
    assert [e["created_at"] for e in chat["base_model_entries"]] == [
        1678320000,
        1687132800,
        1677628800,
    ]
    deployments = recorded_body("azure_openai")["data"]
    assert {k: v for k, v in chat.items() if k != "base_model_entries"} == deployments[0]


@pytest.mark.vcr
def test_models_not_found(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    """A 404 from /openai/models loses only the enrichment, not the deployments."""
    records = by_id(plugin.fetch_models(make_provider(), client, settings))
    assert vcr.all_played
    assert len(records) == 5
    assert all(r.capabilities == () and r.deprecation_date is None for r in records.values())


fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_permission_denied = fails_with(PermissionDenied, "Permission denied")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 7 seconds")
test_deployments_not_found = fails_with(ProviderError, "Provider error 404: Resource not found")


def test_a_404_names_a_chosen_api_version(settings: Settings) -> None:
    answer = httpx.Response(404, json={"error": {"code": "404", "message": "Resource not found"}})
    provider = make_provider({"api_version": "2024-10-21"})
    client = client_with_handler(lambda request: answer)
    with client, pytest.raises(ProviderError) as caught:
        plugin.fetch_models(provider, client, settings)
    assert str(caught.value) == (
        "Provider error 404: Resource not found "
        "(api-version 2024-10-21 may not list deployments; 2022-12-01 does)"
    )


def test_api_version_option(settings: Settings) -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"data": [], "object": "list"})

    with client_with_handler(answer) as client:
        plugin.fetch_models(make_provider({"api_version": "2023-03-15-preview"}), client, settings)
    assert [u.params["api-version"] for u in seen] == ["2023-03-15-preview"] * 2


@pytest.mark.parametrize("version", [5, "", None])
def test_bad_api_version_is_one_clear_error(version: Any, settings: Settings) -> None:
    with client_serving(b"{}") as client, pytest.raises(ProviderError, match="api_version"):
        plugin.fetch_models(make_provider({"api_version": version}), client, settings)


def test_missing_endpoint_says_what_to_set(settings: Settings) -> None:
    with (
        client_serving(b"{}") as client,
        pytest.raises(ProviderError, match="AZURE_OPENAI_ENDPOINT"),
    ):
        plugin.fetch_models(make_provider(base_url=None), client, settings)


@pytest.mark.parametrize("body", [b"[]", b'{"value": []}'])
def test_wrong_shapes_are_bad_responses(body: bytes, settings: Settings) -> None:
    with client_serving(body) as client, pytest.raises(BadResponse, match="no 'data' array"):
        plugin.fetch_models(make_provider(), client, settings)


@pytest.mark.parametrize(
    ("environ", "synced"),
    [
        ({"AZURE_OPENAI_API_KEY": "k"}, False),
        ({"AZURE_OPENAI_ENDPOINT": ENDPOINT}, False),
        ({"AZURE_OPENAI_API_KEY": "k", "AZURE_OPENAI_ENDPOINT": ENDPOINT}, True),
    ],
)
def test_discovered_only_with_endpoint_and_key(environ: dict[str, str], synced: bool) -> None:
    settings = Settings(database_url="sqlite://", environ=environ)
    found = discover(get_plugin_manager(), settings).get("azure-openai")
    assert found is not None
    assert (found.enabled and found.credentials_present) is synced
    if synced:
        assert found.base_url == ENDPOINT


@pytest.mark.vcr("test_full_listing.yaml")
def test_sync_models_through_the_cli(vcr: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = {
        "AZURE_OPENAI_API_KEY": "test-key-azure-4c2",
        "AZURE_OPENAI_ENDPOINT": ENDPOINT + "/",
        "AISYNC_DATABASE_URL": url,
        "AISYNC_RETRIES": "0",
    }
    result = CliRunner().invoke(cli, ["sync-models", "--provider", "azure-openai"], env=env)
    assert result.exit_code == 0, result.output
    assert "azure-openai:\n  ✓ Found 5 models\n" in result.stdout
    assert vcr.all_played
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT model_id FROM current_models WHERE provider = 'azure-openai'")
        ).all()
    engine.dispose()
    assert {row[0] for row in rows} == {"chat", "chat-16k", "gpt4", "embeddings", "legacy-curie"}
    assert "test-key-azure-4c2" not in result.output
    assert b"test-key-azure-4c2" not in (tmp_path / "catalog.db").read_bytes()
