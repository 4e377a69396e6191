"""Every catalog command on a catalog filled by real mock syncs, checked against plain SQL.

The catalog comes from `tests.catalog_data`: two mock instances, three runs with
additions, changes, removals, a returning model and a failure; run 1 lies ten days back.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from aisync.cli import cli
from tests import databases
from tests.catalog_data import fill


@pytest.fixture(scope="module", params=databases.backend_params())
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("catalog")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'catalog.db'}"
    else:
        url = databases.empty_server_database(databases.SERVER_URLS[request.param])
    return fill(url, directory)


def run(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def sql(env: dict[str, str], query: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(env["AISYNC_DATABASE_URL"])
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(query), params)]
    engine.dispose()
    return rows


def second(value: Any) -> str:
    """A stored time to the second, whatever type the driver returns it as."""
    return str(value).replace(" ", "T")[:19]


def table(output: str) -> list[list[str]]:
    """The rows of a piped table (header dropped), cells split on the column gaps."""
    return [re.split(r"\s{2,}", line) for line in output.splitlines()[1:]]


def test_models_lists_current_models(env: dict[str, str]) -> None:
    expected = sql(
        env,
        "SELECT m.provider, m.model_id, v.context_window, v.input_price_per_mtok"
        " FROM models m JOIN model_versions v ON v.model = m.id"
        " WHERE m.removed_at IS NULL"
        " AND v.version = (SELECT MAX(version) FROM model_versions w WHERE w.model = m.id)",
    )
    rows = table(run(env, "models").stdout)
    assert [(r[0], r[1]) for r in rows] == sorted((p, m) for p, m, _, _ in expected)
    assert len(expected) == 4
    listed = json.loads(run(env, "models", "--json").stdout)
    assert {
        (m["provider"], m["model_id"], m["context_window"], m["input_price_per_mtok"])
        for m in listed
    } == set(expected)


def test_models_filters(env: dict[str, str]) -> None:
    def ids(*args: str) -> list[str]:
        return [m["model_id"] for m in json.loads(run(env, "models", "--json", *args).stdout)]

    assert ids("--provider", "mock-eu") == ["eu-one"]
    assert ids("--capability", "vision") == ["alpha", "delta"]
    assert ids("--capability", "function_calling") == ["alpha"]
    assert ids("--search", "MODèle γ", "--include-removed") == ["gamma"]
    assert ids("--search", "ph") == ["alpha"]
    assert ids("--search", "%") == []
    assert ids("--include-removed") == ["alpha", "beta", "delta", "gamma", "eu-one"]
    assert ids("--sort", "-input_price_per_mtok") == ["alpha", "beta", "delta", "eu-one"]
    assert ids("--sort", "context_window") == ["eu-one", "alpha", "beta", "delta"]


def test_models_json_shape(env: dict[str, str]) -> None:
    [alpha] = json.loads(run(env, "models", "--json", "--search", "alpha").stdout)
    first_seen = sql(env, "SELECT first_seen_at FROM models WHERE model_id = 'alpha'")[0][0]
    assert alpha["first_seen_at"].startswith(second(first_seen))
    assert alpha["first_seen_at"].endswith("+00:00")
    assert alpha == {
        **alpha,
        "provider": "mock",
        "model_id": "alpha",
        "display_name": "Alpha",
        "version": 2,
        "capabilities": ["chat", "vision", "function_calling"],
        "input_price_per_mtok": 2.0,
        "removed_at": None,
    }
    assert set(alpha) >= {"last_seen_at", "version_created_at", "release_date", "deprecation_date"}


def test_models_show_history_and_diffs(env: dict[str, str]) -> None:
    versions = sql(
        env,
        "SELECT v.version, v.run_id, v.input_price_per_mtok FROM model_versions v"
        " JOIN models m ON m.id = v.model WHERE m.model_id = 'alpha' ORDER BY v.version",
    )
    history = json.loads(run(env, "models", "show", "mock/alpha", "--json").stdout)
    assert [
        (v["version"], v["run_id"], v["input_price_per_mtok"]) for v in history["versions"]
    ] == versions
    assert history["versions"][0]["changes"] == []
    assert history["versions"][1]["changes"] == [
        {
            "field": "input_price_per_mtok",
            "old": 1.0,
            "new": 2.0,
            "old_source": "api",
            "new_source": "api",
        }
    ]
    assert [e["change"] for e in history["events"]] == ["added", "changed"]
    text_output = run(env, "models", "show", "mock/alpha").stdout
    assert re.search(r"^Input price per mtok: +2$", text_output, re.MULTILINE)
    assert "input_price_per_mtok: 1 -> 2" in text_output
    beta = json.loads(run(env, "models", "show", "mock/beta", "--json").stdout)
    assert [e["change"] for e in beta["events"]] == ["added", "removed", "added"]


def test_runs_and_run_show(env: dict[str, str]) -> None:
    expected = sql(env, "SELECT id, status, exit_code FROM sync_runs ORDER BY id DESC")
    runs = json.loads(run(env, "runs", "--json").stdout)
    assert [(r["id"], r["status"], r["exit_code"]) for r in runs] == expected
    assert [r[0] for r in table(run(env, "runs").stdout)] == [str(r[0]) for r in expected]
    assert [r["id"] for r in json.loads(run(env, "runs", "--json", "--limit", "1").stdout)] == [3]
    partial = json.loads(run(env, "runs", "--json", "--status", "partial").stdout)
    assert [r["id"] for r in partial] == [3]
    outcomes = sql(
        env,
        "SELECT provider, status, models_found, models_added, models_changed, models_removed,"
        " error FROM provider_syncs WHERE run_id = 3 ORDER BY id",
    )
    shown = json.loads(run(env, "runs", "show", "3", "--json").stdout)
    assert [
        (
            p["provider"],
            p["status"],
            p["models_found"],
            p["models_added"],
            p["models_changed"],
            p["models_removed"],
            p["error"],
        )
        for p in shown["providers"]
    ] == outcomes
    plain = run(env, "runs", "show", "3").stdout
    assert "Status:    partial\n" in plain
    assert "Mock model file not found" in plain


def test_changes_newest_first_with_fields(env: dict[str, str]) -> None:
    expected = sql(
        env,
        "SELECT e.run_id, m.provider, m.model_id, e.change, e.version FROM model_events e"
        " JOIN models m ON m.id = e.model ORDER BY e.changed_at DESC, m.provider, m.model_id",
    )
    listed = json.loads(run(env, "changes", "--json").stdout)
    assert [
        (c["run_id"], c["provider"], c["model_id"], c["change"], c["version"]) for c in listed
    ] == expected
    [eu] = [c for c in listed if c["model_id"] == "eu-one" and c["change"] == "changed"]
    assert eu["fields"] == [
        {
            "field": "context_window",
            "old": 1000,
            "new": 2000,
            "old_source": "api",
            "new_source": "api",
        }
    ]
    rows = table(run(env, "changes", "--run", "2").stdout)
    assert {(r[1], r[2], r[3]) for r in rows} == {
        (p, m, c) for run_id, p, m, c, _ in expected if run_id == 2
    }
    assert "input_price_per_mtok: 1 -> 2" in run(env, "changes", "--run", "2").stdout


def test_changes_since_and_provider(env: dict[str, str]) -> None:
    recent = json.loads(run(env, "changes", "--json", "--since", "7d").stdout)
    assert {c["run_id"] for c in recent} == {2, 3}
    everything = json.loads(run(env, "changes", "--json", "--since", "11d").stdout)
    assert {c["run_id"] for c in everything} == {1, 2, 3}
    assert json.loads(run(env, "changes", "--json", "--since", "2999-01-01").stdout) == []
    eu = json.loads(run(env, "changes", "--json", "--provider", "mock-eu").stdout)
    assert {c["provider"] for c in eu} == {"mock-eu"}


def test_stats_latest_and_history(env: dict[str, str]) -> None:
    latest = json.loads(run(env, "stats", "--json").stdout)
    assert [(s["provider"], s["run_id"]) for s in latest] == [("mock", 3), ("mock-eu", 2)]
    figures = sql(env, "SELECT name, value FROM provider_stats WHERE run_id = 3 ORDER BY id")
    assert latest[0]["figures"] == dict(figures)
    lines = run(env, "stats", "--provider", "mock").stdout.splitlines()
    assert lines[0].startswith("mock: run 3, ")
    rows = table("\n".join(lines[2:]))
    assert [(r[0], float(r[1])) for r in rows] == [f for f in figures if f[1]]
    history = json.loads(run(env, "stats", "--json", "--history", "--provider", "mock").stdout)
    assert [s["run_id"] for s in history] == [1, 2, 3]
    rows = table(run(env, "stats", "--history", "--provider", "mock").stdout)
    assert [rows[-1][0], *rows[-1][2:]] == ["mock", "3", "Function calling", "1", "-1"]


def test_providers(env: dict[str, str]) -> None:
    listed = {p["name"]: p for p in json.loads(run(env, "providers", "--json").stdout)}
    mock, eu = listed["mock"], listed["mock-eu"]
    assert (mock["plugin"], mock["distribution"], mock["models_listed"]) == ("mock", "aisync", 3)
    assert mock["last_error"] is None and mock["last_status"] == "synced"
    assert eu["type"] == "mock"
    assert eu["last_status"] == "failed"
    assert eu["last_error"].startswith("Mock model file not found")
    last_synced = sql(
        env,
        "SELECT MAX(finished_at) FROM provider_syncs"
        " WHERE provider = 'mock-eu' AND status = 'synced'",
    )[0][0]
    assert eu["last_synced_at"].startswith(second(last_synced))
    assert listed["openai"]["credentials_present"] is False
    assert listed["openai"]["credential_sources"] == ["AISYNC_OPENAI_API_KEY", "OPENAI_API_KEY"]
    rows = {r[0]: r for r in table(run(env, "providers").stdout)}
    assert rows["openai"][2] == "set AISYNC_OPENAI_API_KEY or OPENAI_API_KEY"
    assert rows["mock"][1] == "mock (aisync 0.1.0)"
    assert rows["mock"][5] == "3"
