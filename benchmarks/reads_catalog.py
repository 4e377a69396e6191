"""A synthetic 1,000,000-model catalog (one version each) for the read benchmarks, built once.

Syncing a million models through aisync would take many minutes and measure the write path,
which `bench_big_catalog.py` already does; this writes the rows straight into a migrated
database instead (ten providers of 100,000 models, realistic fields: prices, capabilities,
dates, field origins, a price tier on every tenth model). The result is cached: a SQLite
file under the temp directory and, on PostgreSQL, a database beside the one the URL names,
both keyed by the schema revision and dropped and rebuilt when incomplete.
"""

from __future__ import annotations

import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import harness
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from aisync.db.migrate import HEAD_REVISION
from aisync.db.tables import models, runs, versions

MODELS = 1_000_000
PROVIDERS = 10
BATCH = 20_000
CAPABILITY_SETS = (
    ["chat"],
    ["chat", "vision"],
    ["chat", "vision", "function_calling"],
    ["chat", "function_calling", "reasoning", "structured_output"],
    ["embedding"],
)
SYNCED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def sqlite_catalog() -> str:
    """The URL of the cached SQLite catalog, built on first use."""
    directory = Path(tempfile.gettempdir()) / f"aisync-bench-reads-{HEAD_REVISION}"
    directory.mkdir(exist_ok=True)
    path = directory / "catalog.db"
    url = f"sqlite:///{path}"
    if not _complete(url):
        path.unlink(missing_ok=True)
        _build(url)
    return url


def postgres_catalog(server_url: str) -> str:
    """The URL of the cached PostgreSQL catalog, a database named after the given one."""
    base = make_url(server_url)
    name = f"{base.database}_reads_{HEAD_REVISION}"
    url = base.set(database=name).render_as_string(hide_password=False)
    if _complete(url):
        return url
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _build(url)
    return url


def _complete(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(versions)).scalar()
            return count == MODELS
    except Exception:  # no database, no tables, an old schema: build it again
        return False
    finally:
        engine.dispose()


def _build(url: str) -> None:
    print(f"  (building the {MODELS:,}-model catalog once: {make_url(url).render_as_string()})")
    upgrade = harness.aisync_command("db", "upgrade", "--database-url", url)
    subprocess.run(upgrade, check=True, capture_output=True)
    engine = create_engine(url)
    try:
        _fill(engine)
    finally:
        engine.dispose()


def _fill(engine: Engine) -> None:
    with engine.begin() as connection:
        run_id = connection.execute(
            insert(runs).values(
                started_at=SYNCED_AT,
                finished_at=SYNCED_AT,
                status="succeeded",
                forced=False,
                aisync_version="bench",
            )
        ).inserted_primary_key[0]
        for start in range(0, MODELS, BATCH):
            numbers = range(start, min(start + BATCH, MODELS))
            connection.execute(insert(models), [_model(n) for n in numbers])
            connection.execute(insert(versions), [_version(n, run_id) for n in numbers])


def _model(n: int) -> dict[str, Any]:
    first_seen = SYNCED_AT - timedelta(days=n % 365)
    return {
        "id": n + 1,
        "provider": f"bench{n % PROVIDERS}",
        "model_id": f"model-{n:07d}",
        "first_seen_at": first_seen,
        "last_seen_at": SYNCED_AT,
        "removed_at": None,
    }


def _version(n: int, run_id: int) -> dict[str, Any]:
    capabilities = CAPABILITY_SETS[n % len(CAPABILITY_SETS)]
    sources = {"display_name": "api", "context_window": "api", "input_price_per_mtok": "models.dev"}
    return {
        "model": n + 1,
        "version": 1,
        "run_id": run_id,
        "content_hash": f"{n:064x}",
        "display_name": f"Bench Model {n} ✓",
        "context_window": 8_192 * (1 + n % 32),
        "max_input_tokens": None,
        "max_output_tokens": 4_096 * (1 + n % 4),
        "input_price_per_mtok": (n % 1000) / 100,
        "output_price_per_mtok": (n % 1000) / 25,
        "cache_read_price_per_mtok": None if n % 3 else 0.1,
        "cache_write_price_per_mtok": None,
        "capabilities": capabilities,
        "release_date": date(2024, 1, 1) + timedelta(days=n % 700),
        "deprecation_date": None,
        "successor": None,
        "knowledge_cutoff": "2024-09" if n % 2 else None,
        "open_weights": bool(n % 2) if n % 5 else None,
        "pricing": {"above_200k": {"input": 4.0, "output": 16.0}} if n % 10 == 0 else None,
        "field_sources": sources,
        "disagreements": None,
        "raw": {"id": f"model-{n:07d}", "object": "model", "owned_by": "bench"},
        "created_at": SYNCED_AT,
    }
