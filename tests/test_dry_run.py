"""A dry run says what would change: per provider the ids added, removed and changed (with
the fields that changed), in text and in `--json`; an all-fresh run says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run

BEFORE = [
    {"id": "alpha", "input_price_per_mtok": 1.0, "context_window": 8192},
    {"id": "beta"},
    {"id": "same", "context_window": 4096},
]
AFTER = [
    {"id": "alpha", "input_price_per_mtok": 2.0, "context_window": 16384},
    {"id": "same", "context_window": 4096},
    {"id": "delta"},
]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps(BEFORE))
    env = {"AISYNC_DATABASE_URL": database_url, "AISYNC_MOCK_MODELS": str(listing)}
    assert run(["sync-models", "--provider", "mock", "--no-enrich"], env).exit_code == 0
    listing.write_text(json.dumps(AFTER))
    return env


DRY = ["sync-models", "--provider", "mock", "--no-enrich", "--dry-run", "--force"]


def test_dry_run_text_lists_ids_and_changed_fields(env: dict[str, str]) -> None:
    result = run(DRY, env)
    assert result.exit_code == 3, result.output
    out = result.stdout
    block = out.split("Would add 1, change 1, remove 1\n")[1].split("  Models:")[0]
    assert block.splitlines() == [
        "    + delta",
        "    - beta",
        "    ~ alpha: context_window: 8192 -> 16384; input_price_per_mtok: 1 -> 2",
    ]


def test_dry_run_text_shows_the_first_ten_without_verbose(env: dict[str, str]) -> None:
    Path(env["AISYNC_MOCK_MODELS"]).write_text(
        json.dumps([*BEFORE, *({"id": f"new-{n:02}"} for n in range(12))])
    )
    lines = run(DRY, env).stdout.splitlines()
    assert [line for line in lines if line.startswith("    + ")][-1] == (
        "    + ... and 2 more (-v shows all)"
    )
    verbose = run([*DRY, "-v"], env).stdout
    assert "    + new-11" in verbose and "more (-v" not in verbose


def test_dry_run_json_lists_ids_and_changed_fields(env: dict[str, str]) -> None:
    result = run([*DRY, "--json"], env)
    assert result.exit_code == 3
    [mock] = json.loads(result.stdout)["providers"]
    assert mock["would_add"] == ["delta"]
    assert mock["would_remove"] == ["beta"]
    changed: dict[str, Any] = mock["would_change"]
    assert changed == {
        "alpha": {"context_window": [8192, 16384], "input_price_per_mtok": [1.0, 2.0]}
    }


def test_all_fresh_dry_run_says_so_and_hints_force(env: dict[str, str]) -> None:
    result = run(["sync-models", "--provider", "mock", "--dry-run"], env)
    assert result.exit_code == 0
    assert "fresh" in result.stdout and "--force" in result.stdout
