"""The algorithmic promise behind big catalogs: an unchanged re-sync costs a fixed number of
SQL statements, whatever the size of the listing (no round trip per model).

Counted with SQLAlchemy's `before_cursor_execute` event on the syncer's own engine; an
executemany counts once, which is what it costs in round trips. Not timed: the timing lives
in `benchmarks/bench_big_catalog.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from aisync import Syncer, load_settings
from aisync.catalog.overrides import set_override
from aisync.db import repository

SMALL = 20
LARGE = 10 * SMALL


def model_ids(count: int) -> str:
    return ",".join(f"model-{n:04d}" for n in range(count))


def unchanged_resync_statements(syncer: Syncer, provider: str, *, first: bool = True) -> list[str]:
    """Sync once (unless `first` is off), then record every statement of a forced re-sync
    that changes nothing."""
    if first:
        assert syncer.sync_models([provider]).exit_code == 0
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(" ".join(statement.split()))

    engine = syncer.engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        report = syncer.sync_models([provider], force=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    (result,) = report.results
    assert (result.status, result.added, result.changed, result.removed) == ("synced", 0, 0, 0)
    return statements


def small_and_large(database_url: str, tmp_path: Path) -> Syncer:
    """A syncer with two mock providers, `small` and `large`, of SMALL and LARGE models."""
    config = tmp_path / "aisync.toml"
    config.write_text('[providers.small]\ntype = "mock"\n\n[providers.large]\ntype = "mock"\n')
    settings = load_settings(
        {"database_url": database_url},
        environ={"AISYNC_SMALL_MODELS": model_ids(SMALL), "AISYNC_LARGE_MODELS": model_ids(LARGE)},
        config_path=config,
    )
    return Syncer(settings=settings)


def test_unchanged_resync_statements_do_not_grow_with_the_catalog(
    database_url: str, tmp_path: Path
) -> None:
    syncer = small_and_large(database_url, tmp_path)
    try:
        small = unchanged_resync_statements(syncer, "small")
        large = unchanged_resync_statements(syncer, "large")
    finally:
        syncer.close()
    assert len(small) < SMALL, small
    assert_same_work(small, large)


#: The write step reads the stored listing while a fetch still runs, when there is time:
#: the listing's stamp, read again before the write, and the overrides, read again.
PRELOAD = 3


def assert_same_work(small: list[str], large: list[str]) -> None:
    """The same statements, but for the preload's fixed few when only one run had time for
    it (a mock provider answers at once)."""
    different = set(small) ^ set(large)
    assert all("max(provider_syncs.id)" in s for s in different), different
    assert abs(len(large) - len(small)) <= PRELOAD, (small, large)


def test_carried_forward_provenance_costs_no_statement_per_model(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every model has an override, so every version has something to carry forward: the
    small provider's are read by id, the large one's (past the by-id limit) in one read."""
    monkeypatch.setattr(repository, "_IDS_PER_QUERY", SMALL)
    syncer = small_and_large(database_url, tmp_path)
    try:
        for provider, count in (("small", SMALL), ("large", LARGE)):
            assert syncer.sync_models([provider]).exit_code == 0
            for n in range(count):
                set_override(syncer.engine(), provider, f"model-{n:04d}", "context_window", 1000)
            (overridden,) = syncer.sync_models([provider], force=True).results
            assert overridden.changed == count
        small = unchanged_resync_statements(syncer, "small", first=False)
        large = unchanged_resync_statements(syncer, "large", first=False)
    finally:
        syncer.close()
    # Read by id or all at once: other statements, as many (but for the preload).
    assert abs(len(large) - len(small)) <= PRELOAD, large
