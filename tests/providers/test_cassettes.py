"""The committed cassettes of every provider module: none may hold a credential."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import SECRET_HEADERS
from tests.providers.helpers import CASSETTES, cassette_folder

#: How many cassettes each `test_<provider>.py` replays. The exact count makes a cassette that
#: is added or renamed show up here, and every folder must be listed (see below).
CASSETTE_COUNTS = {
    "anthropic": 5,
    "azure_openai": 6,
    "bedrock": 4,
    "cohere": 6,
    "deepseek": 4,
    "gemini": 6,
    "groq": 6,
    "mistral": 4,
    "ollama": 6,
    "openai": 4,
    "openrouter": 5,
    "xai": 8,
}

#: Text no cassette may hold (compared lower-cased): the fake key the tests send, credential
#: headers and a key in a URL. `x-api-key` is matched as a header line (`x-api-key:`) because
#: Anthropic's recorded error message quotes the bare name ("invalid x-api-key").
FORBIDDEN = ("test-key", "authorization", "bearer", "key=", "x-goog-api-key", "x-api-key:")

#: The only request headers a cassette may keep; `vcr_config` filters every credential header.
KEPT_REQUEST_HEADERS = {"accept", "user-agent"}


def test_every_cassette_folder_is_checked() -> None:
    folders = {path.name for path in CASSETTES.iterdir() if path.is_dir()}
    assert folders == {f"test_{provider}" for provider in CASSETTE_COUNTS}


@pytest.mark.parametrize(("provider", "count"), sorted(CASSETTE_COUNTS.items()))
def test_cassettes_hold_no_secret(provider: str, count: int) -> None:
    """Cassettes are committed: none may hold the key, a credential header or a key in a URL,
    and each starts with the comment that says where its content comes from."""
    files = sorted(cassette_folder(provider).glob("*.yaml"))
    assert len(files) == count
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path.name
        for secret in FORBIDDEN:
            assert secret not in text.lower(), f"{path.name} contains {secret!r}"
        for interaction in yaml.safe_load(text)["interactions"]:
            headers = {name.lower() for name in interaction["request"]["headers"]}
            assert headers <= KEPT_REQUEST_HEADERS, path.name
            assert not headers & set(SECRET_HEADERS), path.name
