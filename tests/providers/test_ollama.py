"""The ollama plugin against cassettes of a local server holding the three models of a real
Ollama listing (2026-02: kimi-k2.5:cloud, granite3.2-vision:latest, qwen3:latest)."""

from __future__ import annotations

import json
import socket
from functools import partial
from typing import Any

import httpx
import pytest

from aisync.errors import BadResponse, ConnectionFailed, InvalidApiKey, ProviderError, RateLimited
from aisync.http import provider_error
from aisync.records import CAPABILITIES, RULE, ModelRecord, Provider
from aisync.settings import Settings
from aisync_providers import ollama as plugin
from tests.providers.helpers import (
    assert_other_types_ignored,
    assert_unreadable_handed_on,
    by_id,
    client_with_handler,
    provider_for,
    recorded_body,
    replayed_failure_test,
)

BASE_URL = "http://localhost:11434"
RECORDED_IDS = ("kimi-k2.5:cloud", "granite3.2-vision:latest", "qwen3:latest")


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, Any]) -> dict[str, Any]:
    """Match `/api/show` requests on their body too, so each answer belongs to its model."""
    return {**vcr_config, "match_on": ("method", "scheme", "host", "port", "path", "query", "body")}


def make_provider(base_url: str | None = BASE_URL, name: str = "ollama") -> Provider:
    return provider_for("ollama", "Ollama", base_url, name=name, api_key=None)


def tag_entries() -> list[dict[str, Any]]:
    return list(recorded_body("ollama")["models"])


def test_discover_providers(settings: Settings) -> None:
    (info,) = plugin.discover_providers(settings)
    assert info.name == "ollama"
    assert info.default_base_url == BASE_URL
    assert info.base_url_env_vars == ("OLLAMA_HOST",)
    assert info.api_key_env_vars == ()
    assert info.requires_api_key is False
    assert info.enabled_by_default is False


def test_other_provider_types_are_not_answered(client: httpx.Client, settings: Settings) -> None:
    other = Provider(name="ollama", type="openai", display_name="x", base_url=BASE_URL)
    assert_other_types_ignored(plugin, other, client, settings)


@pytest.mark.vcr
def test_full_listing(client: httpx.Client, settings: Settings, vcr: Any) -> None:
    models = plugin.fetch_models(make_provider(name="ollama-gpu"), client, settings)
    assert vcr.all_played
    assert vcr.play_count == 4
    assert models is not None
    assert tuple(m.model_id for m in models) == RECORDED_IDS
    assert [dict(m.raw) for m in models] == tag_entries()
    models_by_id = by_id(models)

    assert models_by_id["qwen3:latest"] == ModelRecord(
        model_id="qwen3:latest",
        context_window=40960,
        capabilities=("chat", "completion", "function_calling", "reasoning"),
        raw=models_by_id["qwen3:latest"].raw,
    )
    granite = models_by_id["granite3.2-vision:latest"]
    assert granite.context_window == 16384
    assert granite.capabilities == ("chat", "completion", "vision")
    assert granite.raw["details"]["quantization_level"] == "Q4_K_M"
    assert all(m.field_sources == {} for m in models)
    kimi = models_by_id["kimi-k2.5:cloud"]
    assert kimi.context_window == 262144
    assert kimi.capabilities == ("chat", "completion", "vision", "function_calling", "reasoning")
    assert all(m.input_price_per_mtok is None and m.release_date is None for m in models)


@pytest.mark.vcr
def test_show_not_found(client: httpx.Client, settings: Settings, vcr: Any) -> None:
    """A 404 from /api/show keeps the model, with name-inferred capabilities only."""
    models = by_id(plugin.fetch_models(make_provider("localhost"), client, settings))
    assert vcr.all_played
    assert tuple(models) == RECORDED_IDS
    kimi = models["kimi-k2.5:cloud"]
    assert kimi.context_window is None
    assert kimi.capabilities == ("chat", "completion")
    assert models["qwen3:latest"].context_window == 40960


@pytest.mark.vcr
def test_show_without_capabilities(client: httpx.Client, settings: Settings, vcr: Any) -> None:
    """An older server: context from model_info, capabilities from the name rules."""
    models = by_id(plugin.fetch_models(make_provider(), client, settings))
    assert vcr.all_played
    assert {i: (m.context_window, m.capabilities) for i, m in models.items()} == {
        "kimi-k2.5:cloud": (262144, ("chat", "completion")),
        "granite3.2-vision:latest": (16384, ("chat", "completion", "vision")),
        "qwen3:latest": (40960, ("chat", "completion", "reasoning")),
    }
    # Guessed from the name, so recorded as aisync's rule, not as what the server said.
    assert all(m.field_sources == {"capabilities": RULE} for m in models.values())


@pytest.mark.vcr("test_full_listing.yaml")
def test_show_requests_are_bounded(
    client: httpx.Client, settings: Settings, vcr: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugin, "MAX_SHOW_REQUESTS", 1)
    models = by_id(plugin.fetch_models(make_provider(), client, settings))
    assert vcr.play_count == 2
    assert models["kimi-k2.5:cloud"].context_window == 262144
    assert models["qwen3:latest"].context_window is None
    assert models["qwen3:latest"].capabilities == ("chat", "completion", "reasoning")


#: Each error cassette and what the plugin must raise for it, with the exact message.
fails_with = partial(replayed_failure_test, plugin, make_provider())
test_server_error = fails_with(
    ProviderError,
    "Provider error 503: server busy, please try again. maximum pending requests exceeded",
)
test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")
test_rate_limited = fails_with(RateLimited, "Rate limit exceeded, retry after 30 seconds")


def test_connection_refused(client: httpx.Client, settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as caught:
        plugin.fetch_models(make_provider(f"http://127.0.0.1:{port}"), client, settings)
    error = provider_error(caught.value, 5.0)
    assert isinstance(error, ConnectionFailed)
    assert str(error) == "Cannot connect to 127.0.0.1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "http://localhost:11434"),
        ("", "http://localhost:11434"),
        ("http://localhost:11434/", "http://localhost:11434"),
        ("127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        (":11435", "http://127.0.0.1:11435"),
        ("gpu-box", "http://gpu-box:11434"),
        ("[::]:11434", "http://[::1]:11434"),
        ("::1", "http://[::1]:11434"),
        ("http://gpu-box", "http://gpu-box:80"),
        ("HTTPS://Ollama.Example.com/proxy/", "https://ollama.example.com:443/proxy"),
        ("gpu-box:99999", "http://gpu-box:11434"),
    ],
)
def test_server_url(value: str | None, expected: str) -> None:
    assert plugin.server_url(value) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [([], "not a JSON object"), ({"models": {}}, "no 'models' list")],
)
def test_wrong_tag_shapes_are_bad_responses(settings: Settings, body: Any, message: str) -> None:
    with (
        client_with_handler(lambda request: httpx.Response(200, json=body)) as client,
        pytest.raises(BadResponse, match=message),
    ):
        plugin.fetch_models(make_provider(), client, settings)


def test_wrong_show_shape_is_a_bad_response(settings: Settings) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(200, json={"models": [{"name": "qwen3:latest"}]})
        return httpx.Response(200, json=["not", "an", "object"])

    with client_with_handler(handler) as client, pytest.raises(BadResponse, match="qwen3:latest"):
        plugin.fetch_models(make_provider(), client, settings)


def test_odd_entries_are_counted_or_tolerated(settings: Settings) -> None:
    shown: list[str] = []
    entries: list[Any] = [1, {"name": 5}, {"model": "llama3.2:latest"}, {"name": "llama3.2:latest"}]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(200, json={"models": entries})
        shown.append(json.loads(request.content)["model"])
        info = {"general.architecture": "llama", "llama.context_length": "8192"}
        return httpx.Response(200, json={"model_info": info, "capabilities": "tools"})

    with client_with_handler(handler) as client:
        models = plugin.fetch_models(make_provider(), client, settings)
    assert shown == ["llama3.2:latest"]
    assert_unreadable_handed_on(models, [1, 2])
    assert models[:1] == [
        ModelRecord(
            model_id="llama3.2:latest",
            capabilities=("chat", "completion"),
            raw=entries[2],
            field_sources={"capabilities": RULE},
        )
    ]


def test_empty_server(settings: Settings) -> None:
    with client_with_handler(lambda request: httpx.Response(200, json={"models": None})) as client:
        assert plugin.fetch_models(make_provider(), client, settings) == []


@pytest.mark.parametrize(("value", "words"), list(plugin.SHOW_CAPABILITIES.items()))
def test_each_show_capability(value: str, words: tuple[str, ...]) -> None:
    record = plugin.model_record("m:latest", {}, {"capabilities": [value, "unknown"]})
    assert record.capabilities == tuple(w for w in CAPABILITIES if w in words)


@pytest.mark.parametrize(
    ("name", "family", "expected"),
    [
        ("kimi-k2.5:cloud", "", ("chat", "completion")),
        ("granite3.2-vision:latest", "granite", ("chat", "completion", "vision")),
        ("qwen3:latest", "qwen3", ("chat", "completion", "reasoning")),
        ("nomic-embed-text:latest", "nomic-bert", ("embedding",)),
        ("mxbai-embed-large:latest", "bert", ("embedding",)),
        ("qwen3-embedding:8b", "qwen3", ("embedding",)),
        ("bge-m3:latest", "bert", ("embedding",)),
        ("all-minilm:latest", "bert", ("embedding",)),
        ("my-embedder:latest", "nomic-bert", ("embedding",)),
        ("llava:7b", "llama", ("chat", "completion", "vision")),
        ("qwen2.5vl:7b", "qwen25vl", ("chat", "completion", "vision")),
        ("minicpm-v:8b", "qwen2", ("chat", "completion", "vision")),
        ("moondream:latest", "phi2", ("chat", "completion", "vision")),
        ("deepseek-r1:8b", "qwen3", ("chat", "completion", "reasoning")),
        ("gpt-oss:20b", "gptoss", ("chat", "completion", "reasoning")),
        ("qwq:latest", "qwen2", ("chat", "completion", "reasoning")),
        ("magistral:24b", "llama", ("chat", "completion", "reasoning")),
        ("my-tune:latest", "qwen3", ("chat", "completion", "reasoning")),
        ("qwen3-coder:30b", "qwen3moe", ("chat", "completion")),
        ("qwen3-vl:8b", "qwen3vl", ("chat", "completion", "vision")),
        ("llama3.2:latest", "llama", ("chat", "completion")),
        ("mistral:7b", "llama", ("chat", "completion")),
    ],
)
def test_name_rules(name: str, family: str, expected: tuple[str, ...]) -> None:
    assert plugin.inferred_capabilities(name, family) == expected


def test_name_rules_cover_the_recorded_ids() -> None:
    for entry in tag_entries():
        words = plugin.inferred_capabilities(entry["name"], entry["details"]["family"])
        assert words
        assert set(words) <= set(CAPABILITIES)
        if "embedding" in words:
            assert not {"chat", "vision"} & set(words)


@pytest.mark.vcr("test_full_listing.yaml")
def test_stats_of_the_listing(client: httpx.Client, settings: Settings) -> None:
    models = plugin.fetch_models(make_provider(), client, settings)
    assert models is not None
    assert plugin.count_stats(make_provider(), models) == {
        "Local": 2,
        "Cloud": 1,
        "4-bit": 2,
        "8-bit": 0,
        "16-bit": 0,
    }


@pytest.mark.parametrize(
    ("model_id", "level", "label"),
    [
        ("gpt-oss:120b-cloud", "", "Cloud"),
        ("kimi-k2.5:cloud", "", "Cloud"),
        ("cloudy:latest", "", "Local"),
        ("llama3.2:latest", "Q4_K_M", "4-bit"),
        ("llama3.2:latest", "IQ4_XS", "4-bit"),
        ("gpt-oss:20b", "MXFP4", "4-bit"),
        ("llama3.2:latest", "Q8_0", "8-bit"),
        ("llama3.2:latest", "F16", "16-bit"),
        ("llama3.2:latest", "BF16", "16-bit"),
    ],
)
def test_each_stats_rule(model_id: str, level: str, label: str) -> None:
    raw = {"details": {"quantization_level": level}}
    stats = plugin.count_stats(make_provider(), [ModelRecord(model_id=model_id, raw=raw)])
    assert stats is not None
    assert stats[label] == 1
    others = {name: value for name, value in stats.items() if name not in (label, "Local")}
    assert set(others.values()) == {0}
