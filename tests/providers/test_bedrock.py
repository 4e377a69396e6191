"""The Bedrock plugin: SigV4-signed requests through the run's client, against cassettes."""

from __future__ import annotations

import sys
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from aisync.cli import cli
from aisync.errors import BadResponse, PermissionDenied, ProviderError, RateLimited, UsageError
from aisync.records import Provider
from aisync.settings import Settings
from aisync.sync.discovery import discover, select
from aisync.sync.plugins import get_plugin_manager
from aisync_providers import bedrock as plugin
from tests.providers.helpers import (
    by_id,
    client_serving,
    client_with_handler,
    provider_for,
    replayed_failure_test,
    requests_sent_by,
)

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CHAT_VISION = ("chat", "vision")


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials from the variables only: no shared file, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-example")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def make_provider(options: dict[str, Any] | None = None, base_url: str | None = None) -> Provider:
    provider = provider_for("bedrock", "Amazon Bedrock", base_url, api_key=None)
    return Provider(
        **{**provider.__dict__, "options": {"region": "us-east-1"} if options is None else options}
    )


@pytest.mark.vcr
def test_full_listing(vcr: Any, client: httpx.Client, settings: Settings) -> None:
    sent = requests_sent_by(client)

    records = by_id(list(plugin.fetch_models(make_provider(), client, settings)))

    assert vcr.all_played and vcr.play_count == 3
    assert [r.url.path for r in sent] == ["/foundation-models", *["/inference-profiles"] * 2]
    assert sent[2].url.params["nextToken"] == "eyJwYWdlIjoyfQ"
    for request in sent:
        assert request.url.host == "bedrock.us-east-1.amazonaws.com"
        signature = request.headers["Authorization"]
        assert signature.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
        assert "/us-east-1/bedrock/aws4_request" in signature
        assert request.headers["X-Amz-Security-Token"] == "session-token-example"
        assert SECRET not in str(request.headers)
    assert len(records) == 9
    sonnet = records["anthropic.claude-3-5-sonnet-20240620-v1:0"]
    assert (sonnet.display_name, sonnet.capabilities) == ("Claude 3.5 Sonnet", CHAT_VISION)
    assert sonnet.raw["modelLifecycle"] == {"status": "LEGACY"}  # deprecated, no date
    assert records["meta.llama3-1-8b-instruct-v1:0"].capabilities == ("chat", "fine_tuning")
    assert records["amazon.titan-embed-text-v2:0"].capabilities == ("embedding",)
    image = records["amazon.titan-image-generator-v2:0"]
    assert image.capabilities == ("image_generation", "fine_tuning")
    assert records["amazon.nova-reel-v1:0"].capabilities == ("video_generation",)
    profile = records["us.anthropic.claude-3-5-sonnet-20240620-v1:0"]
    assert profile.display_name == "US Anthropic Claude 3.5 Sonnet"
    assert profile.capabilities == CHAT_VISION
    assert records["us.meta.llama3-1-8b-instruct-v1:0"].capabilities == ("chat", "fine_tuning")
    assert all(r.field_sources == {} for r in records.values())


fails_with = partial(replayed_failure_test, plugin, make_provider())
test_invalid_token = fails_with(PermissionDenied, "Permission denied")
test_access_denied = fails_with(PermissionDenied, "Permission denied")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded")


def test_end_of_life_is_the_deprecation_date(settings: Settings) -> None:
    summary = {
        "modelId": "x.model-v1:0",
        "outputModalities": ["TEXT"],
        "modelLifecycle": {"status": "LEGACY", "endOfLifeTime": "2026-03-01T00:00:00Z"},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/foundation-models":
            return httpx.Response(200, json={"modelSummaries": [summary, {"modelName": "no id"}]})
        return httpx.Response(200, json={"inferenceProfileSummaries": []})

    with client_with_handler(answer) as client:
        (record,) = plugin.fetch_models(make_provider(), client, settings)
    assert record.deprecation_date == date(2026, 3, 1)


def test_region_from_the_environment(settings: Settings) -> None:
    hosts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(200, json={"modelSummaries": [], "inferenceProfileSummaries": []})

    environ = {"AWS_DEFAULT_REGION": "eu-west-3"}
    with client_with_handler(answer) as client:
        list(plugin.fetch_models(make_provider({}), client, Settings("sqlite://", environ=environ)))
    assert hosts == ["bedrock.eu-west-3.amazonaws.com"] * 2


def test_no_region_is_one_clear_error(settings: Settings) -> None:
    with client_serving(b"{}") as client, pytest.raises(ProviderError, match="No AWS region"):
        plugin.fetch_models(make_provider({}), client, settings)


def test_no_credentials_is_one_clear_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with client_serving(b"{}") as client, pytest.raises(ProviderError, match="No AWS credentials"):
        plugin.fetch_models(make_provider(), client, settings)


def test_missing_botocore_says_what_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    with client_serving(b"{}") as client, pytest.raises(ProviderError) as caught:
        plugin.fetch_models(make_provider(), client, settings)
    assert str(caught.value) == "Bedrock needs botocore: pip install 'aisync[bedrock]'"


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"[]", "no 'modelSummaries' array"), (b'{"models": []}', "no 'modelSummaries' array")],
)
def test_wrong_shapes_are_bad_responses(body: bytes, message: str, settings: Settings) -> None:
    with client_serving(body) as client, pytest.raises(BadResponse, match=message):
        list(plugin.fetch_models(make_provider(), client, settings))


def test_endless_paging_is_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin, "MAX_PAGES", 2)
    body = b'{"modelSummaries": [], "inferenceProfileSummaries": [], "nextToken": "t"}'
    with client_serving(body) as client, pytest.raises(BadResponse, match="more than 2 pages"):
        list(plugin.fetch_models(make_provider(), client, settings))


@pytest.mark.parametrize(
    ("environ", "tables", "synced"),
    [
        ({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_REGION": "us-east-1"}, {}, False),
        ({"AISYNC_BEDROCK_ENABLED": "true"}, {}, True),
        ({}, {"bedrock-eu": {"type": "bedrock", "options": {"region": "eu-west-1"}}}, True),
    ],
)
def test_synced_only_when_named(
    environ: dict[str, str], tables: dict[str, Any], synced: bool
) -> None:
    settings = Settings("sqlite://", environ=environ, provider_tables=tables)
    discovery = discover(get_plugin_manager(), settings)
    try:
        chosen = {p.type for p in select(discovery, None, settings)}
    except UsageError:
        chosen = set()
    assert ("bedrock" in chosen) is synced


@pytest.mark.vcr("test_full_listing.yaml")
def test_sync_models_through_the_cli(vcr: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = {"AWS_REGION": "us-east-1", "AISYNC_DATABASE_URL": url, "AISYNC_RETRIES": "0"}
    result = CliRunner().invoke(cli, ["sync-models", "--provider", "bedrock"], env=env)
    assert result.exit_code == 0, result.output
    assert "bedrock:\n  ✓ Found 9 models\n" in result.stdout
    assert vcr.all_played
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT COUNT(*) FROM current_models WHERE provider = 'bedrock'")
        ).scalar()
    engine.dispose()
    assert count == 9
    database = (tmp_path / "catalog.db").read_bytes()
    assert SECRET.encode() not in database and SECRET not in result.output
