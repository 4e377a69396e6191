"""Helpers shared by the provider plugin tests: providers, recorded cassettes, fake servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

from aisync.http import build_client
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings
from aisync.sync.normalize import normalize
from aisync_providers.openai_style import UNREADABLE_RECORD

#: pytest-recording's cassette folder: one sub-folder per test module (`test_<provider>`).
CASSETTES = Path(__file__).parent / "cassettes"


def cassette_folder(provider: str) -> Path:
    """Where pytest-recording keeps the cassettes of `tests/providers/test_<provider>.py`."""
    return CASSETTES / f"test_{provider}"


def provider_for(
    provider_type: str,
    display_name: str,
    base_url: str | None,
    *,
    name: str | None = None,
    api_key: str | None = "test-key",
) -> Provider:
    """A configured provider instance as the core would resolve it, with a fake key.

    The key is "test-key" so the cassette checks can prove it was never recorded; a provider
    without a key (`api_key=None`) has no credentials, as the core would resolve it.
    """
    return Provider(
        name=name or provider_type,
        type=provider_type,
        display_name=display_name,
        base_url=base_url,
        api_key=api_key,
        credentials_present=api_key is not None,
    )


def assert_unreadable_handed_on(records: list[ModelRecord], positions: list[int]) -> None:
    """The plugin handed on the entries at `positions` as unreadable, and the normalize step
    counts them in one warning: an entry the plugin dropped would vanish in silence, and a
    listing of nothing else would sync as "Found 0 models"."""
    assert [i for i, r in enumerate(records) if r is UNREADABLE_RECORD] == positions
    skipped = f"{len(positions)} of {len(records)} entries skipped: no model id ({len(positions)})"
    assert skipped in normalize(records)[1]


def recorded_body(provider: str, interaction: int = 0, cassette: str = "test_full_listing") -> Any:
    """The JSON body of one recorded answer, so tests compare the plugin against the real
    listing instead of a second, hand-copied list that could drift from the cassette."""
    path = cassette_folder(provider) / f"{cassette}.yaml"
    recording = yaml.safe_load(path.read_text(encoding="utf-8"))
    return json.loads(recording["interactions"][interaction]["response"]["body"]["string"])


def assert_other_types_ignored(
    plugin: ModuleType, other: Provider, client: httpx.Client, settings: Settings
) -> None:
    """The core offers every provider to every plugin: a plugin must answer None for a type
    it does not serve, or that provider's models would be listed (and counted) twice."""
    assert plugin.fetch_models(other, client, settings) is None
    assert plugin.count_stats(other, []) is None


def replayed_failure_test(
    plugin: ModuleType, provider: Provider, error: type[Exception], message: str
) -> Callable[[Any, httpx.Client, Settings], None]:
    """A test that replays the cassette named after it (pytest-recording takes the name the
    test module binds it to) and expects `fetch_models` to raise `error` with exactly
    `message`, having played every recorded answer.

    Every plugin turns the same HTTP failures (bad key, rate limit, server error) into the
    core's errors; only the error and the provider's wording differ, so each module states
    just those, e.g. `fails_with = partial(replayed_failure_test, plugin, make_provider())`
    and then `test_invalid_key = fails_with(InvalidApiKey, "Invalid API key")`.
    """

    @pytest.mark.vcr
    def test(vcr: Any, client: httpx.Client, settings: Settings) -> None:
        with pytest.raises(error) as caught:
            list(plugin.fetch_models(provider, client, settings))  # a plugin may yield pages
        assert str(caught.value) == message
        assert vcr.all_played

    return test


def by_id(models: list[ModelRecord] | None) -> dict[str, ModelRecord]:
    """The records keyed by model id, for looking single models up in a listing."""
    assert models is not None
    return {model.model_id: model for model in models}


def requests_sent_by(client: httpx.Client) -> list[httpx.Request]:
    """The requests `client` sends from now on, filled in as it sends them: cassettes keep no
    credential headers, so only the live request shows which key and headers went out."""
    sent: list[httpx.Request] = []
    client.event_hooks["request"].append(sent.append)
    return sent


def client_with_handler(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    """A client whose requests `handler` answers, for shapes no cassette holds (odd entries,
    malformed bodies); built like the real one so its error handling is the same."""
    return build_client(5.0, max_retries=0, transport=httpx.MockTransport(handler))


def client_serving(content: bytes) -> httpx.Client:
    """A client that gets `content` with status 200 for every request."""
    return client_with_handler(lambda request: httpx.Response(200, content=content))
