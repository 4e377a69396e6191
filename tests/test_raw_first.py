"""Raw first: a plugin that returns a `RawListing` has records built only for what changed.

A real plugin, registered through `plugins=`, lists pages served over HTTP on 127.0.0.1 and
counts the calls of its mapper; the catalog is a real database on every backend.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from aisync import RawListing, Syncer, hookimpl, load_settings
from aisync.catalog.overrides import set_override
from aisync.http import json_body
from aisync.records import ModelRecord, Provider, ProviderInfo
from tests.fakeserver import FakeServer, Reply

PAGE = 10
MODELS = 50


def entry(n: int, price: float = 1.0, *, reordered: bool = False) -> dict[str, Any]:
    item = {
        "id": f"model-{n:03d}",
        "name": f"Model {n} ☃",
        "pricing": {"prompt": price, "completion": price * 2},
        "context": 1000 + n,
        "tags": ["chat", "tools"] if n % 2 else ["chat"],
    }
    return dict(reversed(item.items())) if reordered else item


class Counting:
    """A raw-first provider plugin: pages from `server`, a mapper that counts its calls."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.mapped: list[str] = []

    @hookimpl
    def discover_providers(self, settings: object) -> list[ProviderInfo]:
        return [ProviderInfo(name="rawish", display_name="Rawish", requires_api_key=False)]

    @hookimpl
    def fetch_models(self, provider: Provider, client: httpx.Client) -> RawListing | None:
        if provider.type != "rawish":
            return None
        return RawListing(pages=self._pages(client), record=self.record)

    def _pages(self, client: httpx.Client) -> Iterator[list[Any]]:
        page = 0
        while True:
            body = json_body(client.get(f"{self.server.url}/models?page={page}"))
            yield body["data"]
            if not body["more"]:
                return
            page += 1

    def record(self, item: Any) -> ModelRecord:
        self.mapped.append(item["id"])
        return ModelRecord(
            model_id=item["id"],
            display_name=item["name"],
            context_window=item["context"],
            input_price_per_mtok=item["pricing"]["prompt"],
            output_price_per_mtok=item["pricing"]["completion"],
            capabilities=("chat", "function_calling") if "tools" in item["tags"] else ("chat",),
            raw=item,
        )


def serve(server: FakeServer, entries: list[dict[str, Any]]) -> None:
    pages = [entries[i : i + PAGE] for i in range(0, len(entries), PAGE)] or [[]]

    def reply(path: str) -> Reply:
        page = int(path.rsplit("=", 1)[1])
        return Reply(body={"data": pages[page], "more": page + 1 < len(pages)})

    server.dynamic["/models"] = reply


@pytest.fixture
def plugin(fake_server: FakeServer) -> Counting:
    serve(fake_server, [entry(n) for n in range(MODELS)])
    return Counting(fake_server)


OPEN: list[Syncer] = []


@pytest.fixture(autouse=True)
def closed() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def syncer_for(database_url: str, *plugins: object, sources: str = "none") -> Syncer:
    settings = load_settings({"database_url": database_url}, environ={"AISYNC_ENRICH": sources})
    syncer = Syncer(settings=settings, plugins=list(plugins), entry_points=False)
    OPEN.append(syncer)
    return syncer


def sync(syncer: Syncer) -> Any:
    report = syncer.sync_models(["rawish"], force=True)
    assert report.exit_code == 0, report
    [result] = report.results
    return result


def count(syncer: Syncer, query: str) -> Any:
    with syncer.engine().connect() as connection:
        return connection.execute(text(query)).scalar()


def test_unchanged_listing_maps_nothing_and_writes_nothing(
    database_url: str, plugin: Counting
) -> None:
    syncer = syncer_for(database_url, plugin)
    first = sync(syncer)
    assert (first.added, len(plugin.mapped)) == (MODELS, MODELS)
    stats = first.stats
    plugin.mapped.clear()
    again = sync(syncer)
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert again.models_found == MODELS
    assert sorted(again.model_ids) == sorted(f"model-{n:03d}" for n in range(MODELS))
    assert plugin.mapped == []
    assert again.stats == stats
    assert count(syncer, "SELECT COUNT(*) FROM model_versions") == MODELS
    assert count(syncer, "SELECT COUNT(*) FROM model_events") == MODELS


def test_reordered_keys_write_no_version_and_are_skipped_next_time(
    database_url: str, plugin: Counting, fake_server: FakeServer
) -> None:
    syncer = syncer_for(database_url, plugin)
    sync(syncer)
    serve(fake_server, [entry(n, reordered=True) for n in range(MODELS)])
    plugin.mapped.clear()
    again = sync(syncer)
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert len(plugin.mapped) == MODELS
    assert count(syncer, "SELECT COUNT(*) FROM model_versions") == MODELS
    plugin.mapped.clear()
    assert sync(syncer).changed == 0
    assert plugin.mapped == []


def test_a_few_changed_items_are_exactly_the_new_versions(
    database_url: str, plugin: Counting, fake_server: FakeServer
) -> None:
    changed = {3, 17, 42}
    syncer = syncer_for(database_url, plugin)
    sync(syncer)
    entries = [entry(n, price=2.0 if n in changed else 1.0) for n in range(MODELS)]
    serve(fake_server, [*entries, entry(MODELS)])
    plugin.mapped.clear()
    again = sync(syncer)
    assert (again.added, again.changed, again.removed) == (1, len(changed), 0)
    ids = sorted(f"model-{n:03d}" for n in (*changed, MODELS))
    assert sorted(plugin.mapped[: len(ids)]) == ids
    assert count(syncer, "SELECT COUNT(*) FROM model_versions") == MODELS + len(changed) + 1
    assert (
        count(
            syncer,
            "SELECT COUNT(*) FROM models m JOIN model_versions v ON v.model = m.id"
            " AND v.version = m.version AND v.content_hash = m.content_hash",
        )
        == MODELS + 1
    )
    # Statistics are counts, updated from the changed models: nothing else is mapped.
    assert sorted(plugin.mapped) == ids
    assert again.stats["Total"] == MODELS + 1


def tools(n: int, changed: set[int]) -> dict[str, Any]:
    """Model n, offering tools when n is odd, or the other way round for those `changed`."""
    item = entry(n)
    item["tags"] = ["chat", "tools"] if (n % 2 == 1) != (n in changed) else ["chat"]
    return item


def stored_stats(syncer: Syncer) -> dict[str, float]:
    with syncer.engine().connect() as connection:
        rows = connection.execute(
            text(
                "SELECT name, value FROM provider_stats"
                " WHERE run_id = (SELECT MAX(run_id) FROM provider_stats) ORDER BY id"
            )
        )
        return {name: value for name, value in rows}


def test_statistics_are_updated_from_the_changed_models_alone(
    database_url: str, plugin: Counting, fake_server: FakeServer, tmp_path: Path
) -> None:
    syncer = syncer_for(database_url, plugin)
    assert sync(syncer).stats == {"Total": 50, "Chat": 50, "Function calling": 25}
    # 3 and 7 lose their tools, 42 gains them, 5 (tools) goes, 50 and 51 (tools) come.
    changed = {3, 7, 42}
    serve(fake_server, [tools(n, changed) for n in range(MODELS + 2) if n != 5])
    plugin.mapped.clear()
    again = sync(syncer)
    assert (again.added, again.changed, again.removed) == (2, 3, 1)
    assert sorted(plugin.mapped) == [f"model-{n:03d}" for n in (3, 7, 42, 50, 51)]
    expected = {"Total": 51, "Chat": 51, "Function calling": 24}
    assert again.stats == expected
    assert list(stored_stats(syncer).items()) == list(expected.items())
    # A catalog synced from scratch with that listing counts the same.
    fresh = syncer_for(f"sqlite:///{tmp_path / 'fresh.db'}", Counting(fake_server))
    assert sync(fresh).stats == expected


def test_figures_that_are_not_counts_still_see_every_model(
    database_url: str, plugin: Counting, fake_server: FakeServer
) -> None:
    class Widest:
        @hookimpl
        def compute_stats(self, models: list[ModelRecord]) -> dict[str, float]:
            return {"Widest context": max(m.context_window or 0 for m in models)}

    syncer = syncer_for(database_url, plugin, Widest())
    assert sync(syncer).stats["Widest context"] == 1000 + MODELS - 1
    serve(fake_server, [entry(n, price=2.0 if n == 3 else 1.0) for n in range(MODELS - 1)])
    plugin.mapped.clear()
    again = sync(syncer)
    assert again.stats["Widest context"] == 1000 + MODELS - 2
    assert again.stats["Total"] == MODELS - 1
    assert len(plugin.mapped) == MODELS - 1


def test_statistics_a_plugin_failed_to_give_are_not_carried_forward(
    database_url: str, plugin: Counting
) -> None:
    class FailsOnce:
        calls = 0

        @hookimpl
        def count_stats(self, models: list[ModelRecord]) -> dict[str, float]:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("not today")
            return {"Counted here": len(models)}

    syncer = syncer_for(database_url, plugin, FailsOnce())
    first = sync(syncer)
    assert "Counted here" not in first.stats and "not today" in (first.stats_error or "")
    with syncer.engine().connect() as connection:
        reason, error = connection.execute(
            text("SELECT reason, error FROM provider_syncs ORDER BY id DESC")
        ).first()
    assert reason == "stats_failed" and "FailsOnce" in error and "not today" in error
    again = sync(syncer)  # nothing changed, but the figures were not all there
    assert again.stats_error is None
    assert again.stats["Counted here"] == MODELS
    assert stored_stats(syncer)["Counted here"] == MODELS


def test_removed_and_returning_models(
    database_url: str, plugin: Counting, fake_server: FakeServer
) -> None:
    syncer = syncer_for(database_url, plugin)
    sync(syncer)
    serve(fake_server, [entry(n) for n in range(1, MODELS)])
    assert sync(syncer).removed == 1
    serve(fake_server, [entry(n) for n in range(MODELS)])
    plugin.mapped.clear()
    back = sync(syncer)
    assert (back.added, back.changed, back.removed) == (1, 0, 0)
    # The returning one alone is built: the statistics are updated from it.
    assert plugin.mapped == ["model-000"]
    assert back.stats == {"Total": MODELS, "Chat": MODELS, "Function calling": MODELS // 2}
    assert count(syncer, "SELECT COUNT(*) FROM model_versions") == MODELS


def test_an_override_on_an_unchanged_item_is_a_new_version(
    database_url: str, plugin: Counting
) -> None:
    syncer = syncer_for(database_url, plugin)
    sync(syncer)
    set_override(syncer.engine(), "rawish", "model-007", "context_window", 9999)
    plugin.mapped.clear()
    again = sync(syncer)
    assert again.changed == 1
    assert plugin.mapped == ["model-007"]
    assert (
        count(syncer, "SELECT context_window FROM current_models WHERE model_id = 'model-007'")
        == 9999
    )
    # Overridden models are always looked at; the rest stay skipped.
    plugin.mapped.clear()
    assert sync(syncer).changed == 0
    assert plugin.mapped == ["model-007"]


class Source:
    """An enrichment source whose knowledge a test changes between syncs."""

    def __init__(self) -> None:
        self.known: dict[str, dict[str, Any]] = {}

    @hookimpl
    def enrich_models(
        self, source: str, provider: Provider, models: list[ModelRecord], context: object
    ) -> dict[str, dict[str, Any]] | None:
        if source != "catalog-of-record":
            return None
        return {m.model_id: self.known[m.model_id] for m in models if m.model_id in self.known}


def test_a_source_that_learns_about_an_unchanged_item_makes_a_new_version(
    database_url: str, plugin: Counting
) -> None:
    source = Source()
    syncer = syncer_for(database_url, plugin, source, sources="catalog-of-record")
    sync(syncer)
    source.known["model-011"] = {"knowledge_cutoff": "2025-01"}
    again = sync(syncer)
    assert again.changed == 1
    assert (
        count(syncer, "SELECT knowledge_cutoff FROM current_models WHERE model_id = 'model-011'")
        == "2025-01"
    )
    source.known["model-011"] = {"knowledge_cutoff": "2025-06"}
    assert sync(syncer).changed == 1
    assert sync(syncer).changed == 0
    del source.known["model-011"]
    # A source that no longer knows the model (and is up) takes its value back.
    assert sync(syncer).changed == 1
    assert sync(syncer).changed == 0
    assert count(syncer, "SELECT COUNT(*) FROM model_versions") == MODELS + 3


def test_a_mapper_that_fails_fails_its_provider_by_name(
    database_url: str, plugin: Counting, fake_server: FakeServer
) -> None:
    serve(fake_server, [{"id": "broken"}])
    syncer = syncer_for(database_url, plugin)
    report = syncer.sync_models(["rawish"], force=True)
    [result] = report.results
    assert result.status == "failed"
    assert "failed: KeyError: 'name'" in (result.error or "")


def test_an_external_plugin_with_the_old_hook_still_syncs(
    database_url: str, fake_server: FakeServer
) -> None:
    class OldStyle:
        @hookimpl
        def discover_providers(self, settings: object) -> list[ProviderInfo]:
            return [ProviderInfo(name="oldish", display_name="Oldish", requires_api_key=False)]

        @hookimpl
        def fetch_models(self, provider: Provider) -> list[ModelRecord] | None:
            if provider.type != "oldish":
                return None
            return [ModelRecord(model_id=f"m{n}", raw={"id": f"m{n}", "n": n}) for n in range(5)]

    syncer = syncer_for(database_url, OldStyle())
    first = syncer.sync_models(["oldish"], force=True).results[0]
    again = syncer.sync_models(["oldish"], force=True).results[0]
    assert (first.added, again.added, again.changed) == (5, 0, 0)
    assert count(syncer, "SELECT COUNT(*) FROM models WHERE raw_digest IS NULL") == 5
    assert count(syncer, "SELECT COUNT(*) FROM models WHERE content_hash IS NULL") == 0


def test_the_stored_raw_text_is_the_canonical_text(database_url: str, plugin: Counting) -> None:
    syncer = syncer_for(database_url, plugin)
    sync(syncer)
    with syncer.engine().connect() as connection:
        raw = connection.execute(
            text(
                "SELECT raw FROM model_versions v JOIN models m ON m.id = v.model"
                " WHERE m.model_id = 'model-001'"
            )
        ).scalar()
    stored = raw if isinstance(raw, dict) else json.loads(raw)
    assert stored == entry(1)


def test_migration_0004_backfills_the_hot_path_and_goes_back(
    database_url: str, plugin: Counting
) -> None:
    from aisync.db.connect import open_engine
    from aisync.db.migrate import downgrade, upgrade

    syncer = syncer_for(database_url, plugin)
    sync(syncer)
    set_override(syncer.engine(), "rawish", "model-004", "context_window", 7)
    sync(syncer)
    columns = "model_id, version, content_hash, capabilities, enriched"
    query = f"SELECT {columns} FROM models ORDER BY model_id"
    with syncer.engine().connect() as connection:
        before = [tuple(row) for row in connection.execute(text(query))]
        seen = connection.execute(
            text("SELECT model_id, last_seen_at FROM current_models ORDER BY model_id")
        ).all()
    syncer.close()
    assert [row[0] for row in before if row[4]] == ["model-004"]
    assert {row[1] for row in before} == {1, 2}
    engine = open_engine(database_url)
    downgrade(engine, "0002")
    with engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT model_id, last_seen_at FROM current_models ORDER BY model_id")
            ).all()
            == seen
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert [tuple(row) for row in connection.execute(text(query))] == before
        assert (
            connection.execute(
                text("SELECT model_id, last_seen_at FROM current_models ORDER BY model_id")
            ).all()
            == seen
        )
        assert connection.execute(text("SELECT raw_digest FROM models")).scalars().all() == (
            [None] * MODELS
        )
    engine.dispose()
    plugin.mapped.clear()
    assert sync(syncer_for(database_url, plugin)).changed == 0
    assert len(plugin.mapped) == MODELS


class Pathed(Counting):
    """`Counting` listing the pages under its own path of the server."""

    def __init__(self, server: FakeServer, path: str) -> None:
        super().__init__(server)
        self.path = path

    def _pages(self, client: httpx.Client) -> Iterator[list[Any]]:
        yield json_body(client.get(f"{self.server.url}{self.path}"))["data"]


def test_a_listing_another_run_writes_during_the_fetch_is_read_again(
    database_url: str, fake_server: FakeServer
) -> None:
    """The write step reads the stored listing while the fetch runs; a forced run takes
    the provider's lock only after its fetch, so another run can write the provider in
    between. Diffing against the earlier read would number a version twice."""
    first = syncer_for(database_url, Pathed(fake_server, "/first"))
    fake_server.route("/first", Reply(body={"data": [entry(1)]}))
    sync(first)
    other = syncer_for(database_url, Pathed(fake_server, "/other"))
    fake_server.route("/other", Reply(body={"data": [entry(1, price=2.0), entry(2)]}))

    def slow(path: str) -> Reply:
        time.sleep(1.0)  # the run has read the stored listing by now
        sync(other)  # ... and another run writes model-001 version 2 and model-002
        return Reply(body={"data": [entry(1, price=3.0)]})

    fake_server.route_dynamic("/late", slow)
    late = sync(syncer_for(database_url, Pathed(fake_server, "/late")))
    assert (late.added, late.changed, late.removed) == (0, 1, 1)
    assert count(first, "SELECT MAX(version) FROM model_versions") == 3
    assert count(first, "SELECT COUNT(*) FROM current_models") == 1
