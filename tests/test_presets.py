"""The OpenAI-compatible presets: the shipped file against models.dev, its generator, the
README table, discovery by key variable, instances, keyless servers, and a real sync of two
presets enriched from their own models.dev entries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from aisync.errors import UsageError
from aisync.settings import load_settings
from aisync.sync.discovery import discover, select
from aisync.sync.plugins import get_plugin_manager
from aisync_providers import presets
from tests.cli import run
from tests.fakeserver import FakeServer, Reply

ROOT = Path(__file__).parent.parent
MODELS_DEV = Path(__file__).parent / "data" / "models-dev-api.json"
SHIPPED = ROOT / "providers" / "presets.json"
GENERATOR = ROOT / "scripts" / "generate_presets.py"
BUILTINS = {"openai", "anthropic", "gemini", "xai", "groq", "deepseek", "mistral", "openrouter"}
KEY_VARIABLE = re.compile(r"^[A-Z0-9][A-Z0-9_]*$")


def shipped() -> dict[str, Any]:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def models_dev() -> dict[str, Any]:
    return json.loads(MODELS_DEV.read_text(encoding="utf-8"))


def discovered(environ: dict[str, str], config: Path | None = None) -> dict[str, Any]:
    settings = load_settings(environ=environ, config_path=config)
    discovery = discover(get_plugin_manager(), settings)
    return {"discovery": discovery, "settings": settings}


def synced_by_default(environ: dict[str, str], config: Path | None = None) -> set[str]:
    found = discovered({"AISYNC_DATABASE_URL": "sqlite://", **environ}, config)
    try:
        return {p.name for p in select(found["discovery"], None, found["settings"])}
    except UsageError:
        return set()


# The shipped file ---------------------------------------------------------------------------


def test_every_openai_compatible_provider_is_a_preset_or_excluded_with_a_reason() -> None:
    data = shipped()
    names = {p["name"] for p in data["presets"]}
    covered = names | {p.get("models_dev") for p in data["presets"]}
    compatible = [
        key
        for key, entry in models_dev().items()
        if entry.get("npm") in ("@ai-sdk/openai-compatible", "@ai-sdk/openai") and entry.get("api")
    ]
    assert len(compatible) >= 112
    missing = [
        key
        for key in compatible
        if key not in covered and not data["excluded"].get(key, "").strip()
    ]
    assert missing == []
    assert len(data["presets"]) >= 100


def test_running_the_generator_reproduces_the_shipped_file(tmp_path: Path) -> None:
    output = tmp_path / "presets.json"
    subprocess.run(
        [sys.executable, str(GENERATOR), str(MODELS_DEV), "--output", str(output)], check=True
    )
    assert output.read_text(encoding="utf-8") == SHIPPED.read_text(encoding="utf-8")


def test_every_preset_is_well_formed() -> None:
    loaded = presets.load_presets()
    assert len(loaded) == len(shipped()["presets"])
    for preset in loaded.values():
        assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*", preset.name), preset.name
        assert preset.display_name.strip()
        if preset.base_url is not None:
            assert re.fullmatch(r"https?://[^\s/$]+(/[^\s$]*)?", preset.base_url), preset.name
            assert not preset.base_url.endswith(("/", "/chat/completions")), preset.name
            assert preset.local == preset.base_url.startswith(
                ("http://127.0.0.1", "http://localhost")
            ), preset.name
            assert preset.base_url.startswith("https://") or preset.local, preset.name
        for variable in preset.env:
            assert KEY_VARIABLE.fullmatch(variable), (preset.name, variable)
        assert preset.list_path.startswith(("/", "https://")), preset.name
        if preset.named_only or preset.local:
            assert preset.reason, preset.name


def test_no_preset_shadows_a_built_in_provider() -> None:
    names = set(presets.load_presets())
    assert not names & (BUILTINS | {"ollama", "google", "mock"})
    offered = discovered({})["discovery"].origins
    assert {name: offered[name] for name in BUILTINS} == {name: name for name in BUILTINS}


def test_a_shared_key_variable_is_discovered_by_one_preset_only() -> None:
    readers: dict[str, list[str]] = {}
    for preset in presets.load_presets().values():
        if not preset.named_only:
            for variable in preset.env:
                readers.setdefault(variable, []).append(preset.name)
    assert {v: names for v, names in readers.items() if len(names) > 1} == {}


def test_the_readme_table_is_generated_from_the_presets() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(presets.README_START + "\n")[1].split(presets.README_END)[0]
    assert block == presets.readme_table(presets.load_presets())
    assert "| `fireworks-ai` | Fireworks AI | `FIREWORKS_API_KEY` |" in block


# Discovery ----------------------------------------------------------------------------------


def test_several_key_variables_discover_their_presets_and_nothing_else() -> None:
    chosen = synced_by_default(
        {
            "FIREWORKS_API_KEY": "k1",
            "NVIDIA_API_KEY": "k2",
            "TOGETHER_API_KEY": "k3",
            "DASHSCOPE_API_KEY": "k4",
            "ZHIPU_API_KEY": "k5",
            "GITHUB_TOKEN": "k6",
            "HF_TOKEN": "k7",
            "WANDB_API_KEY": "k8",
            "LMSTUDIO_API_KEY": "k9",
        }
    )
    # One account per shared variable (alibaba, not alibaba-cn too; zai, not zhipuai too);
    # GITHUB_TOKEN, HF_TOKEN, WANDB_API_KEY and a local server's key sync nothing.
    assert chosen == {"fireworks-ai", "nvidia", "together", "alibaba", "zai"}


def test_no_key_variable_discovers_no_preset() -> None:
    assert synced_by_default({}) == set()


def test_an_unconfigured_preset_is_not_listed_but_can_be_named() -> None:
    found = discovered({"FIREWORKS_API_KEY": "k"})["discovery"]
    listed = {p.name for p in found.providers}
    assert "fireworks-ai" in listed
    assert "nvidia" not in listed and "lmstudio" not in listed
    assert found.get("lmstudio") is not None
    assert {"openai", "gemini"} <= listed


def test_named_only_cloud_providers_are_not_listed_until_configured() -> None:
    """Bedrock (any AWS credentials) and Azure OpenAI (a resource per instance) are named
    explicitly; an unconfigured machine does not offer them as if they were set up."""
    found = discovered({})["discovery"]
    listed = {p.name for p in found.providers}
    assert "bedrock" not in listed and "azure-openai" not in listed
    assert found.get("bedrock") is not None and found.get("azure-openai") is not None
    configured = discovered({"AISYNC_BEDROCK_ENABLED": "true"})["discovery"]
    assert "bedrock" in {p.name for p in configured.providers}


@pytest.mark.parametrize(
    "environ",
    [{"AISYNC_HUGGINGFACE_ENABLED": "true"}, {"AISYNC_HUGGINGFACE_API_KEY": "own"}],
)
def test_a_named_only_preset_syncs_once_asked_for(environ: dict[str, str]) -> None:
    assert synced_by_default({"HF_TOKEN": "k", **environ}) == {"huggingface"}


def test_a_config_table_names_a_named_only_preset(tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text("[providers.alibaba-cn]\ncache_ttl = '1h'\n", encoding="utf-8")
    chosen = synced_by_default({"DASHSCOPE_API_KEY": "k"}, config)
    assert chosen == {"alibaba", "alibaba-cn"}


def test_a_preset_can_be_turned_off() -> None:
    chosen = synced_by_default({"FIREWORKS_API_KEY": "k", "AISYNC_FIREWORKS_AI_ENABLED": "false"})
    assert chosen == set()


def test_requires_api_key_must_be_a_boolean(tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text(
        "[providers.box]\ntype = 'openai-compatible'\nrequires_api_key = 'no'\n", encoding="utf-8"
    )
    result = run(["sync-models"], {"AISYNC_CONFIG": str(config)})
    assert result.exit_code == 1
    assert "[providers.box].requires_api_key" in result.output


# Syncing ------------------------------------------------------------------------------------


def listing(*ids: str) -> Reply:
    return Reply(200, {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


def current(url: str, provider: str) -> dict[str, tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT model_id, context_window, max_output_tokens, input_price_per_mtok, "
                "output_price_per_mtok, field_sources FROM current_models WHERE provider = :p"
            ),
            {"p": provider},
        ).all()
    engine.dispose()
    return {row[0]: tuple(row[1:]) for row in found}


def sources(value: Any) -> dict[str, str]:
    return json.loads(value) if isinstance(value, str) else dict(value)


FIREWORKS_MODEL = "accounts/fireworks/models/gpt-oss-120b"
NVIDIA_MODEL = "deepseek-ai/deepseek-v4-flash"


def test_done_when_two_presets_sync_with_no_config_and_their_own_models_dev_entries(
    fake_server: FakeServer, database_url: str
) -> None:
    fake_server.route("/fireworks/models", listing(FIREWORKS_MODEL, NVIDIA_MODEL))
    fake_server.route("/nvidia/models", listing(NVIDIA_MODEL, "nvidia/unknown-model"))
    fake_server.route("/api.json", Reply(200, models_dev()))
    env = {
        "AISYNC_DATABASE_URL": database_url,
        "FIREWORKS_API_KEY": "fw-secret",
        "NVIDIA_API_KEY": "nv-secret",
        "AISYNC_FIREWORKS_AI_BASE_URL": f"{fake_server.url}/fireworks",
        "AISYNC_NVIDIA_BASE_URL": f"{fake_server.url}/nvidia",
        "AISYNC_ENRICH": "models.dev,litellm",
        "AISYNC_MODELS_DEV_URL": f"{fake_server.url}/api.json",
        "AISYNC_LITELLM_URL": f"{fake_server.url}/litellm.json",
        "AISYNC_RETRIES": "0",
    }
    result = run(["sync-models"], env)
    assert result.exit_code == 0, result.output
    assert "fireworks-ai:\n  ✓ Found 2 models" in result.stdout
    assert "nvidia:\n  ✓ Found 2 models" in result.stdout
    fireworks, nvidia = current(database_url, "fireworks-ai"), current(database_url, "nvidia")
    entry = models_dev()["fireworks-ai"]["models"][FIREWORKS_MODEL]
    assert fireworks[FIREWORKS_MODEL][:4] == (
        entry["limit"]["context"],
        entry["limit"]["output"],
        entry["cost"]["input"],
        entry["cost"]["output"],
    )
    assert sources(fireworks[FIREWORKS_MODEL][4])["input_price_per_mtok"] == "models.dev"
    theirs = models_dev()["nvidia"]["models"][NVIDIA_MODEL]
    assert nvidia[NVIDIA_MODEL][2:4] == (theirs["cost"]["input"], theirs["cost"]["output"])
    # Fireworks serves the same id, but models.dev's fireworks-ai section has no entry for
    # it: Nvidia's price is never taken for Fireworks' model.
    assert fireworks[NVIDIA_MODEL][:4] == (None, None, None, None)
    assert nvidia["nvidia/unknown-model"][:4] == (None, None, None, None)
    keys = {r.headers.get("Authorization") for r in fake_server.requests if "models" in r.path}
    assert keys == {"Bearer fw-secret", "Bearer nv-secret"}


def test_an_instance_of_a_preset_syncs_with_its_own_key(
    fake_server: FakeServer, sqlite_url: str, tmp_path: Path
) -> None:
    # Together answers with a bare array, not the OpenAI `{"data": [...]}` object.
    bare = [{"id": "meta-llama/Llama-3-8b", "object": "model"}]
    fake_server.route("/eu/models", Reply(200, bare))
    config = tmp_path / "aisync.toml"
    config.write_text(
        "[providers.together-eu]\ntype = 'together'\n"
        f"base_url = '{fake_server.url}/eu'\napi_key_env = 'TOGETHER_EU_KEY'\n",
        encoding="utf-8",
    )
    env = {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_CONFIG": str(config)}
    result = run(["sync-models"], {**env, "TOGETHER_EU_KEY": "eu-secret"})
    assert result.exit_code == 0, result.output
    assert set(current(sqlite_url, "together-eu")) == {"meta-llama/Llama-3-8b"}
    assert fake_server.requests[-1].headers["Authorization"] == "Bearer eu-secret"
    # The default `together` instance has no key here: it is neither listed nor synced.
    assert current(sqlite_url, "together") == {}


def test_a_keyless_instance_syncs_without_a_key(
    fake_server: FakeServer, sqlite_url: str, tmp_path: Path
) -> None:
    fake_server.route("/v1/models", listing("Qwen/Qwen3-8B"))
    config = tmp_path / "aisync.toml"
    config.write_text(
        "[providers.box]\ntype = 'openai-compatible'\n"
        f"base_url = '{fake_server.url}/v1'\nrequires_api_key = false\n",
        encoding="utf-8",
    )
    env = {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_CONFIG": str(config)}
    result = run(["sync-models"], env)
    assert result.exit_code == 0, result.output
    assert set(current(sqlite_url, "box")) == {"Qwen/Qwen3-8B"}
    assert "Authorization" not in fake_server.requests[-1].headers


def test_a_local_preset_syncs_only_when_named(fake_server: FakeServer, sqlite_url: str) -> None:
    fake_server.route("/v1/models", listing("qwen3-8b"))
    env = {
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_LMSTUDIO_BASE_URL": f"{fake_server.url}/v1",
    }
    plain = run(["sync-models"], {"AISYNC_DATABASE_URL": sqlite_url})
    assert plain.exit_code == 1 and fake_server.requests == []
    named = run(["sync-models", "--provider", "lmstudio"], env)
    assert named.exit_code == 0, named.output
    assert set(current(sqlite_url, "lmstudio")) == {"qwen3-8b"}
    assert "Authorization" not in fake_server.requests[-1].headers


def test_a_preset_without_a_base_url_is_one_clear_line(sqlite_url: str) -> None:
    env = {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_OPENAI_COMPATIBLE_API_KEY": "k"}
    result = run(["sync-models", "--provider", "openai-compatible"], env)
    assert result.exit_code == 1
    assert "has no base URL" in result.output
    assert "Traceback" not in result.output


# providers --available ----------------------------------------------------------------------


def test_available_lists_every_type_before_the_first_sync(tmp_path: Path) -> None:
    database = tmp_path / "never-created.db"
    env = {
        "AISYNC_DATABASE_URL": f"sqlite:///{database}",
        "FIREWORKS_API_KEY": "fw-secret",
        "HF_TOKEN": "hf-secret",
    }
    result = run(["providers", "--available", "--json"], env)
    assert result.exit_code == 0, result.output
    assert "secret" not in result.output
    found = {t["type"]: t for t in json.loads(result.stdout)}
    assert set(presets.load_presets()) | BUILTINS <= set(found)
    assert found["fireworks-ai"]["key_variables"] == ["FIREWORKS_API_KEY"]
    assert found["fireworks-ai"]["syncing"] == ["fireworks-ai"]
    assert found["huggingface"]["syncing"] == []
    assert found["huggingface"]["named_only"] == ["huggingface"]
    assert found["openai"]["syncing"] == [] and found["openai"]["plugin"] == "openai"
    assert found["nvidia"]["plugin"] == "presets"
    table = run(["providers", "--available"], env)
    assert table.exit_code == 0
    assert re.search(r"fireworks-ai +Fireworks AI +presets +FIREWORKS_API_KEY", table.stdout)
    assert not database.exists()
