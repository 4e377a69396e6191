"""Fixtures shared by every test module."""

from __future__ import annotations

from typing import Any

import pytest

from tests import databases

#: Request headers and query parameters that carry credentials: never written to a cassette.
SECRET_HEADERS = (
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "cookie",
    "openai-organization",
    "api-key",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
)
SECRET_QUERY_PARAMETERS = ("key", "api_key")


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie", "openai-organization", "openai-project"):
            del headers[name]
    return response


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """Cassettes replay only (CI has no network) and never record a credential."""
    return {
        "record_mode": "none",
        "filter_headers": list(SECRET_HEADERS),
        "filter_query_parameters": list(SECRET_QUERY_PARAMETERS),
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
    }


CLEAN_ENV_PREFIXES = ("AISYNC_",)
KEY_VARIABLES = (
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "XAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "MISTRAL_API_KEY",
    "OPENROUTER_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "OLLAMA_HOST",
    "COHERE_API_KEY",
    "CO_API_KEY",
    "CO_API_URL",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "NO_COLOR",
)


@pytest.fixture(autouse=True)
def isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's keys, config file or catalog, or downloads a source."""
    import os

    from aisync_providers.presets import load_presets

    preset_keys = {v for preset in load_presets().values() for v in preset.env}
    for name in list(os.environ):
        if name.startswith(CLEAN_ENV_PREFIXES) or name in KEY_VARIABLES or name in preset_keys:
            monkeypatch.delenv(name, raising=False)
    # Enrichment sources are on by default; tests that want them turn them on explicitly.
    monkeypatch.setenv("AISYNC_ENRICH", "none")
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture(params=databases.backend_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty catalog database on each backend the suite runs against."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return databases.empty_server_database(databases.SERVER_URLS[request.param])


@pytest.fixture
def fake_server() -> Any:
    """A fake provider server on a free port of 127.0.0.1, stopped after the test."""
    from tests.fakeserver import FakeServer

    with FakeServer().running() as server:
        yield server


@pytest.fixture
def plugin_site(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A directory on sys.path where tests install plugin distributions; cleaned up after."""
    import importlib
    import sys

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    yield site
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        if module is not None and str(getattr(module, "__file__", "")).startswith(str(site)):
            del sys.modules[name]
    importlib.invalidate_caches()
