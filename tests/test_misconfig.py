"""Misconfiguration is loud: a typo in a provider's type, a table with no type, an override
or a filter for a provider nobody knows is one line naming what to fix, not silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return {"AISYNC_DATABASE_URL": sqlite_url}


def configured(env: dict[str, str], tmp_path: Path, toml: str) -> dict[str, str]:
    path = tmp_path / "aisync.toml"
    path.write_text(toml)
    return {**env, "AISYNC_CONFIG": str(path)}


TYPO = '[providers.myproxy]\ntype = "opnai"\napi_key = "sk-1234567890"\n'
NO_TYPE = '[providers.myproxy]\nbase_url = "http://127.0.0.1:1/v1"\n'


@pytest.mark.parametrize("args", [["sync-models"], ["sync-models", "--provider", "myproxy"]])
def test_unknown_type_is_one_line_naming_file_table_and_closest(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    result = run(args, configured(env, tmp_path, TYPO))
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "[providers.myproxy]" in lines[0]
    assert str(tmp_path / "aisync.toml") in lines[0]
    assert "'opnai'" in lines[0] and "'openai'" in lines[0]
    assert "Unknown provider" not in lines[0]
    assert "sk-1234567890" not in result.output


@pytest.mark.parametrize("args", [["sync-models"], ["sync-models", "--provider", "myproxy"]])
def test_table_without_type_for_a_new_name_is_an_error(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    result = run(args, configured(env, tmp_path, NO_TYPE))
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "[providers.myproxy]" in lines[0] and "type" in lines[0]
    assert str(tmp_path / "aisync.toml") in lines[0]


def test_table_for_a_known_type_needs_no_type(env: dict[str, str], tmp_path: Path) -> None:
    toml = '[providers.mock]\ncache_ttl = "1h"\n'
    result = run(["sync-models", "--provider", "mock"], configured(env, tmp_path, toml))
    assert result.exit_code == 0, result.output


def test_override_on_an_unknown_provider_needs_force(env: dict[str, str]) -> None:
    args = ["override", "set", "opnai/gpt-x", "context_window", "1000"]
    refused = run(args, env)
    assert refused.exit_code != 0
    assert "opnai" in refused.stderr and "--force" in refused.stderr
    assert "No overrides." in run(["override", "list"], env).stdout
    assert run([*args, "--force"], env).exit_code == 0
    assert "opnai/gpt-x" in run(["override", "list"], env).stdout


def test_override_on_a_configured_provider_is_fine(env: dict[str, str]) -> None:
    result = run(["override", "set", "mock/new-model", "context_window", "1000"], env)
    assert result.exit_code == 0, result.output


def test_models_of_an_unknown_provider_says_so(env: dict[str, str]) -> None:
    assert run(["sync-models", "--provider", "mock"], env).exit_code == 0
    result = run(["models", "--provider", "opnai"], env)
    assert result.exit_code == 1
    assert "Unknown provider 'opnai'" in result.stderr
    assert "mock" in result.stderr
    assert "No models match." not in result.stderr
    assert run(["models", "--provider", "mock", "--search", "zzz"], env).exit_code == 0
