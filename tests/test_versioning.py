"""Model history across runs, on every database backend: add, change, remove, re-add."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from aisync import Catalog, hookimpl
from aisync.records import ModelRecord, Provider, ProviderInfo
from aisync.settings import load_settings
from aisync.sync.engine import Syncer


class MockCatalog:
    """The mock provider's list as a JSON file that tests edit between runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.models: dict[str, dict[str, Any]] = {}

    def set(self, model_id: str, **fields: Any) -> None:
        self.models[model_id] = {"id": model_id, "capabilities": ["chat"], **fields}
        self._save()

    def drop(self, model_id: str) -> None:
        del self.models[model_id]
        self._save()

    def _save(self) -> None:
        self.path.write_text(json.dumps(list(self.models.values())), encoding="utf-8")


@pytest.fixture
def catalog(tmp_path: Path) -> MockCatalog:
    return MockCatalog(tmp_path / "mock.json")


@pytest.fixture
def syncer(database_url: str, catalog: MockCatalog) -> Any:
    settings = load_settings(
        {"database_url": database_url},
        environ={"AISYNC_MOCK_MODELS": str(catalog.path), "AISYNC_ENV": "development"},
    )
    syncer = Syncer(settings=settings)
    yield syncer
    syncer.close()


def sync(syncer: Syncer, *, allow_removals: bool = False) -> Any:
    report = syncer.sync_models(["mock"], force=True, allow_removals=allow_removals)
    assert report.exit_code == 0, report
    [result] = report.results
    return result


def rows(syncer: Syncer, query: str) -> list[Any]:
    with syncer.engine().connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_add_change_remove_and_readd(syncer: Syncer, catalog: MockCatalog) -> None:
    catalog.set("a", context_window=1000)
    catalog.set("b", context_window=2000)
    first = sync(syncer)
    assert (first.added, first.changed, first.removed) == (2, 0, 0)

    catalog.set("a", context_window=1500)
    catalog.drop("b")
    catalog.set("c")
    second = sync(syncer)
    assert (second.added, second.changed, second.removed) == (1, 1, 1)

    catalog.set("b", context_window=2000)
    third = sync(syncer)
    assert (third.added, third.changed, third.removed) == (1, 0, 0)

    versions = rows(
        syncer,
        "SELECT m.model_id, v.version, v.context_window FROM model_versions v "
        "JOIN models m ON m.id = v.model ORDER BY m.model_id, v.version",
    )
    assert versions == [("a", 1, 1000), ("a", 2, 1500), ("b", 1, 2000), ("c", 1, None)]
    changes = rows(
        syncer,
        "SELECT run_id, model_id, " + _change(syncer) + ", version FROM model_changes "
        "ORDER BY run_id, model_id",
    )
    runs = sorted({run for run, *_ in changes})
    assert [(runs.index(run) + 1, *rest) for run, *rest in changes] == [
        (1, "a", "added", 1),
        (1, "b", "added", 1),
        (2, "a", "changed", 2),
        (2, "b", "removed", 1),
        (2, "c", "added", 1),
        (3, "b", "added", 1),
    ]
    assert rows(syncer, "SELECT model_id FROM models WHERE removed_at IS NOT NULL") == []


def test_readded_model_with_new_content_gets_a_version(
    syncer: Syncer, catalog: MockCatalog
) -> None:
    catalog.set("a", context_window=1)
    sync(syncer)
    catalog.drop("a")
    catalog.set("z")
    sync(syncer, allow_removals=True)
    catalog.set("a", context_window=2)
    assert sync(syncer).added == 1
    assert rows(
        syncer, "SELECT version, context_window FROM current_models WHERE model_id = 'a'"
    ) == [(2, 2)]


def test_unchanged_resync_writes_no_versions_and_moves_last_seen(
    syncer: Syncer, catalog: MockCatalog
) -> None:
    """The row itself is not rewritten (migration 0004): the view derives `last_seen_at`
    from the provider's last successful sync, and so does the catalog."""
    catalog.set("a", input_price_per_mtok=2.5)
    sync(syncer)
    [(seen_before,)] = rows(syncer, "SELECT last_seen_at FROM current_models")
    [row_before] = rows(syncer, "SELECT * FROM models")
    again = sync(syncer)
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert rows(syncer, "SELECT COUNT(*) FROM model_versions") == [(1,)]
    [(seen_after,)] = rows(syncer, "SELECT last_seen_at FROM current_models")
    assert seen_after > seen_before
    assert rows(syncer, "SELECT * FROM models") == [row_before]
    [(last_sync,)] = rows(
        syncer, "SELECT MAX(finished_at) FROM provider_syncs WHERE status = 'synced'"
    )
    assert seen_after == last_sync
    with Catalog(syncer.settings.database_url) as read:
        [model] = read.models()
    assert model.last_seen_at == model.last_seen_at.replace(tzinfo=UTC) > model.first_seen_at


def test_a_removed_model_was_last_seen_by_the_last_sync_that_listed_it(
    syncer: Syncer, catalog: MockCatalog
) -> None:
    catalog.set("a")
    catalog.set("b")
    sync(syncer)
    sync(syncer)
    [(listed_last,)] = rows(
        syncer, "SELECT MAX(finished_at) FROM provider_syncs WHERE status = 'synced'"
    )
    catalog.drop("b")
    assert sync(syncer).removed == 1
    with Catalog(syncer.settings.database_url) as read:
        [gone] = [m for m in read.models(include_removed=True) if m.model_id == "b"]
        [kept] = read.models()
    assert gone.removed_at is not None
    assert gone.last_seen_at < gone.removed_at
    assert rows(syncer, "SELECT last_seen_at FROM models WHERE model_id = 'b'") == [(listed_last,)]
    assert kept.last_seen_at > gone.last_seen_at


def test_views_return_what_the_tables_say(syncer: Syncer, catalog: MockCatalog) -> None:
    catalog.set(
        "a",
        display_name="A",
        context_window=10,
        max_output_tokens=5,
        input_price_per_mtok=2.5,
        output_price_per_mtok=10.0,
        capabilities=["vision", "chat"],
    )
    catalog.set("gone")
    sync(syncer)
    catalog.drop("gone")
    sync(syncer)
    current = rows(
        syncer,
        "SELECT provider, model_id, version, display_name, context_window, max_output_tokens, "
        "input_price_per_mtok, output_price_per_mtok FROM current_models ORDER BY model_id",
    )
    assert current == [("mock", "a", 1, "A", 10, 5, 2.5, 10.0)]
    [(capabilities,)] = rows(syncer, "SELECT capabilities FROM current_models")
    caps = json.loads(capabilities) if isinstance(capabilities, str) else capabilities
    assert caps == ["chat", "vision"]


def test_run_and_provider_rows_are_recorded(syncer: Syncer, catalog: MockCatalog) -> None:
    catalog.set("a")
    report = syncer.sync_models(["mock"])
    skipped = syncer.sync_models(["mock"])
    assert skipped.results[0].reason == "cache_valid"
    runs = rows(syncer, "SELECT id, status, exit_code, forced FROM sync_runs ORDER BY id")
    assert [(status, code) for _, status, code, _ in runs] == [("succeeded", 0), ("succeeded", 0)]
    outcomes = rows(
        syncer,
        "SELECT run_id, provider, status, reason, models_found, models_added "
        "FROM provider_syncs ORDER BY id",
    )
    assert outcomes == [
        (report.run_id, "mock", "synced", None, 1, 1),
        (skipped.run_id, "mock", "skipped", "cache_valid", None, 0),
    ]
    stats = rows(syncer, "SELECT name, value FROM provider_stats ORDER BY name")
    assert stats == [("Chat", 1.0), ("Total", 1.0)]


def test_no_providers_run_records_nothing(database_url: str) -> None:
    """A usage error is not a run: `sync_runs` has no column for its reason (stderr has it)."""
    syncer = Syncer(settings=load_settings({"database_url": database_url}, environ={}))
    report = syncer.sync_models()
    assert report.exit_code == 1 and report.run_id is None
    assert rows(syncer, "SELECT status, exit_code FROM sync_runs") == []
    syncer.close()


def _change(syncer: Syncer) -> str:
    return "`change`" if syncer.engine().dialect.name == "mysql" else '"change"'


def test_two_instances_keep_separate_history(database_url: str, tmp_path: Path) -> None:
    first, second = MockCatalog(tmp_path / "one.json"), MockCatalog(tmp_path / "two.json")
    first.set("shared", context_window=1)
    second.set("shared", context_window=2)
    config = tmp_path / "aisync.toml"
    config.write_text('[providers.mock-b]\ntype = "mock"\n', encoding="utf-8")
    settings = load_settings(
        {"database_url": database_url},
        environ={"AISYNC_MOCK_MODELS": str(first.path), "AISYNC_MOCK_B_MODELS": str(second.path)},
        config_path=config,
    )
    syncer = Syncer(settings=settings)
    report = syncer.sync_models(["mock", "mock-b"])
    assert [r.status for r in report.results] == ["synced", "synced"]
    assert rows(
        syncer, "SELECT provider, context_window FROM current_models ORDER BY provider"
    ) == [("mock", 1), ("mock-b", 2)]
    fresh = syncer.sync_models(["mock-b"])
    assert fresh.results[0].reason == "cache_valid"
    syncer.close()


@pytest.mark.parametrize("survivors", [[], ["a"]], ids=["empty", "most-removed"])
def test_mass_removal_is_refused_and_nothing_changes(
    syncer: Syncer, catalog: MockCatalog, survivors: list[str]
) -> None:
    for model_id in "abc":
        catalog.set(model_id)
    sync(syncer)
    before = rows(syncer, "SELECT model_id, removed_at, last_seen_at FROM models ORDER BY 1")
    for model_id in "abc":
        if model_id not in survivors:
            catalog.drop(model_id)
    if not survivors:
        catalog.path.write_text("[]")
    report = syncer.sync_models(["mock"], force=True)
    [result] = report.results
    assert (report.exit_code, result.status, result.reason) == (1, "failed", "suspect_listing")
    assert result.error.startswith("Refused: ")
    assert result.error.endswith("; nothing was changed (--allow-removals accepts it)")
    assert rows(syncer, "SELECT model_id, removed_at, last_seen_at FROM models ORDER BY 1") == (
        before
    )
    accepted = syncer.sync_models(["mock"], force=True, allow_removals=True)
    assert accepted.results[0].removed == 3 - len(survivors)


class Tiers:
    """A provider whose models differ only in how a price tier's number is written."""

    @hookimpl
    def discover_providers(self, settings: object) -> list[ProviderInfo]:
        return [ProviderInfo(name="tiers", display_name="Tiers", requires_api_key=False)]

    @hookimpl
    def fetch_models(self, provider: Provider) -> list[ModelRecord] | None:
        if provider.type != "tiers":
            return None
        prices: list[Any] = [5, 5.0, 5, 5.0]
        return [
            ModelRecord(f"m{n}", pricing={"above_200k_input": price}, raw={"n": n})
            for n, price in enumerate(prices)
        ]


def test_price_tiers_are_stored_as_each_model_gives_them(database_url: str) -> None:
    """5 and 5.0 are equal in Python but not the same JSON: the text written for one
    model's tier is never reused for another's that merely compares equal."""
    settings = load_settings({"database_url": database_url}, environ={"AISYNC_ENRICH": "none"})
    syncer = Syncer(settings=settings, plugins=[Tiers()], entry_points=False)
    try:
        assert syncer.sync_models(["tiers"], force=True).exit_code == 0
        stored = rows(
            syncer,
            "SELECT m.model_id, v.pricing FROM model_versions v "
            "JOIN models m ON m.id = v.model ORDER BY m.model_id",
        )
    finally:
        syncer.close()
    tiers = [json.loads(p) if isinstance(p, str) else p for _, p in stored]
    assert [type(tier["above_200k_input"]) for tier in tiers] == [int, float, int, float]
