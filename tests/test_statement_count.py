"""The algorithmic promise behind big catalogs: an unchanged re-sync costs a fixed number of
SQL statements, whatever the size of the listing (no round trip per model).

Counted with SQLAlchemy's `before_cursor_execute` event on the syncer's own engine; an
executemany counts once, which is what it costs in round trips. Not timed: the timing lives
in `benchmarks/bench_big_catalog.py`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from aisync import Syncer, load_settings

SMALL = 20
LARGE = 10 * SMALL


def model_ids(count: int) -> str:
    return ",".join(f"model-{n:04d}" for n in range(count))


def unchanged_resync_statements(syncer: Syncer, provider: str) -> list[str]:
    """Sync once, then record every statement of a forced re-sync that changes nothing."""
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


def test_unchanged_resync_statements_do_not_grow_with_the_catalog(
    database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text('[providers.small]\ntype = "mock"\n\n[providers.large]\ntype = "mock"\n')
    settings = load_settings(
        {"database_url": database_url},
        environ={"AISYNC_SMALL_MODELS": model_ids(SMALL), "AISYNC_LARGE_MODELS": model_ids(LARGE)},
        config_path=config,
    )
    syncer = Syncer(settings=settings)
    try:
        small = unchanged_resync_statements(syncer, "small")
        large = unchanged_resync_statements(syncer, "large")
    finally:
        syncer.close()
    assert len(small) < SMALL, small
    assert large == small
