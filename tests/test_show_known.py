"""Show what is known: an input limit where the context window is unknown, no families of
zero models, statistics as a provider x figure grid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import run
from tests.plugin_dist import write_plugin_dist

#: A plugin whose statistics hold a family with no models, as Anthropic's do for a listing
#: without Opus models.
FAMILIES = """
from aisync import hookimpl


@hookimpl
def compute_stats(provider, models):
    return {"Claude Opus": 0, "Mock family": len(models)}
"""


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    listing = tmp_path / "listing.json"
    entries = [
        {"id": "gpt-4.1-2025-04-14"},
        {"id": "both", "context_window": 8192},
        {"id": "neither"},
    ]
    listing.write_text(json.dumps(entries))
    return {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_MOCK_MODELS": str(listing)}


def test_models_show_the_input_limit_when_the_context_is_unknown(env: dict[str, str]) -> None:
    """(The mock provider reads no input limit: an override gives one, as a source would.)"""
    for model_id, limit in (("gpt-4.1-2025-04-14", "1047576"), ("both", "4096")):
        override = ["override", "set", f"mock/{model_id}", "max_input_tokens", limit]
        assert run(override, env).exit_code == 0
    assert run(["sync-models", "--provider", "mock", "--no-enrich"], env).exit_code == 0
    lines = {line.split()[1]: line.split() for line in run(["models"], env).stdout.splitlines()}
    assert lines["gpt-4.1-2025-04-14"][2:4] == ["1047576", "in"]
    assert lines["both"][2] == "8192" and lines["both"][3] != "in"
    assert lines["neither"][2] == "-"


@pytest.fixture
def families(env: dict[str, str], plugin_site: Path) -> dict[str, str]:
    write_plugin_dist(
        plugin_site, dist="aisync-families", module="aisync_families", source=FAMILIES
    )
    return env


def test_sync_verbose_leaves_out_empty_families(families: dict[str, str]) -> None:
    result = run(["sync-models", "--provider", "mock", "-v", "--no-enrich"], families)
    assert result.exit_code == 0, result.output
    assert "Mock family: 3" in result.stdout
    assert "Claude Opus" not in result.stdout


def test_stats_is_a_grid_without_empty_families(families: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    listing = families["AISYNC_MOCK_MODELS"]
    config.write_text(f'[providers.mock-eu]\ntype = "mock"\noptions = {{ models = "{listing}" }}\n')
    families["AISYNC_CONFIG"] = str(config)
    args = ["sync-models", "--provider", "mock", "--provider", "mock-eu", "--no-enrich"]
    assert run(args, families).exit_code == 0
    lines = run(["stats"], families).stdout.splitlines()
    assert "Claude Opus" not in "\n".join(lines)
    header = next(line for line in lines if "STATISTIC" in line)
    assert header.split() == ["STATISTIC", "mock", "mock-eu"]
    assert next(line for line in lines if line.startswith("Total")).split() == ["Total", "3", "3"]
    assert json.loads(run(["stats", "--json"], families).stdout)[0]["figures"]["Claude Opus"] == 0
