"""All nine built-in providers at once through the real CLI, HTTP replayed from cassettes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli import query, run
from tests.fakeserver import FakeServer, Reply

CASSETTES = Path(__file__).parent / "providers" / "cassettes"
FOUND = {
    "anthropic": 10,
    "deepseek": 2,
    "gemini": 45,
    "groq": 20,
    "mistral": 55,
    "ollama": 3,
    "openai": 119,
    "openrouter": 344,
    "xai": 13,
}
#: A distinct fake key per provider, so a leak is traced to its provider.
KEYS = {name: f"test-key-{name}-5f3a9c" for name in FOUND if name != "ollama"}


def cassette(provider: str, name: str) -> str:
    return str(CASSETTES / f"test_{provider}" / f"{name}.yaml")


def recorded_body(provider: str, name: str = "test_full_listing") -> Any:
    """The JSON body of a cassette's first interaction, to serve from the fake server."""
    data = yaml.safe_load(Path(cassette(provider, name)).read_text(encoding="utf-8"))
    return json.loads(data["interactions"][0]["response"]["body"]["string"])


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, Any]) -> dict[str, Any]:
    """The fake server on 127.0.0.1 is live; everything else is replayed."""
    return {**vcr_config, "ignore_hosts": ["127.0.0.1"]}


def env_for(sqlite_url: str) -> dict[str, str]:
    env = {f"AISYNC_{name.upper()}_API_KEY": key for name, key in KEYS.items()}
    env["AISYNC_DATABASE_URL"] = sqlite_url
    env["OLLAMA_HOST"] = "localhost:11434"
    env["AISYNC_RETRIES"] = "0"  # a cassette holds one answer per request
    return env


@pytest.mark.vcr(*(cassette(name, "test_full_listing") for name in FOUND))
def test_all_nine_providers_sync(vcr: Any, sqlite_url: str) -> None:
    result = run(["sync-models", "-v"], env_for(sqlite_url))
    assert result.exit_code == 0, result.output
    for name, count in FOUND.items():
        assert f"{name}:\n  ✓ Found {count} models\n" in result.stdout
        assert f"    - Total: {count}\n" in result.stdout
    assert (
        f"Sync completed successfully!\nTotal: {sum(FOUND.values())} models synced across "
        "9 providers\nCatalog created at "
    ) in result.stdout
    assert "    - GPT-4o: " in result.stdout
    assert "    - Gemini Flash: " in result.stdout
    assert vcr.all_played
    counts = dict(query(sqlite_url, "SELECT provider, COUNT(*) FROM current_models GROUP BY 1"))
    assert counts == FOUND
    sample = query(
        sqlite_url,
        "SELECT provider, model_id, context_window, max_output_tokens, input_price_per_mtok, "
        "output_price_per_mtok FROM current_models WHERE model_id IN "
        "('gemini-2.5-flash', 'openai/gpt-4o', 'mistral-medium-2505') ORDER BY provider",
    )
    assert sample == [
        ("gemini", "gemini-2.5-flash", 1048576, 65536, None, None),
        ("mistral", "mistral-medium-2505", 131072, None, None, None),
        ("openrouter", "openai/gpt-4o", 128000, 16384, 2.5, 10.0),
    ]
    database = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    for key in KEYS.values():
        assert key not in result.output
        assert key.encode() not in database


@pytest.mark.vcr(
    cassette("openai", "test_invalid_key"),
    cassette("gemini", "test_rate_limited"),
    cassette("anthropic", "test_overloaded"),
    cassette("deepseek", "test_full_listing"),
)
def test_failures_map_to_the_seed_messages(vcr: Any, sqlite_url: str) -> None:
    env = env_for(sqlite_url)
    args = ["sync-models", "-vv", "--provider", "openai", "--provider", "gemini"]
    result = run([*args, "--provider", "anthropic", "--provider", "deepseek"], env)
    assert result.exit_code == 2
    assert result.stderr == (
        "\nErrors encountered:\n"
        "- openai: Invalid API key\n"
        "- gemini: Rate limit exceeded, retry after 48 seconds\n"
        "- anthropic: Provider error 529: Overloaded\n"
    )
    assert "deepseek:\n  ✓ Found 2 models\n" in result.stdout
    assert "Total: 2 models synced across 1 provider\n" in result.stdout
    for key in KEYS.values():
        assert key not in result.output


@pytest.mark.vcr(
    cassette("openai", "test_full_listing"), cassette("anthropic", "test_full_listing")
)
def test_second_instances_keep_their_own_keys_rows_and_freshness(
    vcr: Any, sqlite_url: str, tmp_path: Path, fake_server: FakeServer
) -> None:
    openai_body = recorded_body("openai")
    openai_body["data"] = openai_body["data"][:5]
    anthropic_body = recorded_body("anthropic")
    anthropic_body["data"] = anthropic_body["data"][:2]
    anthropic_body["has_more"] = False
    fake_server.route("/v1/models", Reply(200, openai_body))
    fake_server.route("/anthropic/v1/models", Reply(200, anthropic_body))
    config = tmp_path / "aisync.toml"
    config.write_text(
        f'[providers.openai-eu]\ntype = "openai"\nbase_url = "{fake_server.url}/v1"\n'
        'api_key_env = "EU_OPENAI"\n\n'
        f'[providers.anthropic-eu]\ntype = "anthropic"\nbase_url = "{fake_server.url}/anthropic"\n'
        "\n",
        encoding="utf-8",
    )
    env = {
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_CONFIG": str(config),
        "OPENAI_API_KEY": KEYS["openai"],
        "EU_OPENAI": "eu-openai-key-77",
        "ANTHROPIC_API_KEY": KEYS["anthropic"],
        "AISYNC_ANTHROPIC_EU_API_KEY": "eu-anthropic-key-88",
    }
    names = ["openai", "openai-eu", "anthropic", "anthropic-eu"]
    result = run(["sync-models", *(a for n in names for a in ("--provider", n))], env)
    assert result.exit_code == 0, result.output
    assert vcr.all_played
    sent = {r.path.split("?")[0]: r.headers for r in fake_server.requests}
    assert sent["/v1/models"]["Authorization"] == "Bearer eu-openai-key-77"
    assert sent["/anthropic/v1/models"]["x-api-key"] == "eu-anthropic-key-88"
    counts = dict(query(sqlite_url, "SELECT provider, COUNT(*) FROM current_models GROUP BY 1"))
    assert counts == {"openai": 119, "openai-eu": 5, "anthropic": 10, "anthropic-eu": 2}
    fresh = run(["sync-models", "--provider", "openai-eu", "--provider", "anthropic-eu"], env)
    assert fresh.stdout.count("⏭ Skipped (cache_valid)") == 2
    assert len(fake_server.requests) == 2
    for key in ("eu-openai-key-77", "eu-anthropic-key-88", *KEYS.values()):
        assert key not in result.output + fresh.output


def test_committed_cassettes_carry_no_credentials() -> None:
    for path in CASSETTES.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for interaction in data["interactions"]:
            headers = {h.lower() for h in interaction["request"]["headers"]}
            assert not headers & {"authorization", "x-api-key", "x-goog-api-key", "cookie"}, path
            assert "key=" not in interaction["request"]["uri"], path
