"""The first ten minutes on a fresh HOME: what to set, what to run, where the catalog is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import run


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.db"


@pytest.fixture
def env(path: Path) -> dict[str, str]:
    return {"AISYNC_DATABASE_URL": f"sqlite:///{path}"}


def test_providers_before_the_first_sync_lists_the_types(env: dict[str, str], path: Path) -> None:
    env["OPENAI_API_KEY"] = "sk-test-1234567890"
    result = run(["providers"], env)
    assert result.exit_code == 0, result.output
    assert "OPENAI_API_KEY" in result.stdout and "ANTHROPIC_API_KEY" in result.stdout
    assert "syncs: openai" in result.stdout
    assert "aisync sync-models" in result.stderr
    assert not path.exists()
    listed = json.loads(run(["providers", "--json"], env).stdout)
    assert {"openai", "anthropic", "mock"} <= {kind["type"] for kind in listed}


def test_no_providers_names_the_key_variables_and_mock(env: dict[str, str]) -> None:
    result = run(["sync-models"], env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("No providers available for synchronization")
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        assert variable in lines[0]
    assert "--provider mock" in lines[0]


HINT = "aisync models"


def test_first_sync_ends_with_one_hint_line(env: dict[str, str], path: Path) -> None:
    first = run(["sync-models", "--provider", "mock"], env)
    assert first.exit_code == 0
    last = first.stdout.strip().splitlines()[-1]
    assert HINT in last and str(path) in last
    later = run(["sync-models", "--provider", "mock", "--force"], env)
    assert HINT not in later.stdout


@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_no_hint_when_quiet_or_json(env: dict[str, str], flag: str) -> None:
    result = run(["sync-models", "--provider", "mock", flag], env)
    assert result.exit_code == 0
    assert HINT not in result.stdout


def test_help_has_examples_and_full_summaries(env: dict[str, str]) -> None:
    result = run(["--help"], {**env, "COLUMNS": "80"})
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1].split("Examples:")[0]
    assert "..." not in commands
    assert "Examples:" in result.stdout
    assert "aisync sync-models --provider mock" in result.stdout
    assert "field by field, old -> new" in result.stdout


def test_models_help_groups_the_sort_choices(env: dict[str, str]) -> None:
    result = run(["models", "--help"], {**env, "COLUMNS": "80"})
    assert result.exit_code == 0
    assert "-provider|" not in result.stdout
    assert "context_window" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert run(["models", "--sort", "-context_window"], env).exit_code == 1  # no catalog yet
    bad = run(["models", "--sort", "nope"], env)
    assert bad.exit_code == 64 and "nope" in bad.stderr
