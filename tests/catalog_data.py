"""A catalog filled by real syncs of the mock provider, for the catalog and README tests.

Two instances (`mock` and `mock-eu`, declared in a config file) sync three times with
additions, changes, removals, a model coming back and a failure between the runs. The
first run is then moved ten days into the past, so "since 7d" and "this month" questions
have something to leave out.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, select, update

from aisync.db.models import Model, ModelEvent, ModelVersion, ProviderSync, SyncRun
from aisync.settings import load_settings
from aisync.sync.engine import Syncer

A = {"id": "alpha", "display_name": "Alpha", "context_window": 8192, "max_output_tokens": 2048}
VISION = ["chat", "vision", "function_calling"]

#: What each instance lists in each run; None makes that instance fail.
RUNS: list[dict[str, list[dict[str, Any]] | None]] = [
    {
        "mock": [
            {
                **A,
                "input_price_per_mtok": 1.0,
                "output_price_per_mtok": 2.0,
                "capabilities": VISION,
            },
            {"id": "beta", "display_name": "Beta", "input_price_per_mtok": 0.5},
            {"id": "gamma", "display_name": "Modèle γ", "context_window": 4096},
        ],
        "mock-eu": [{"id": "eu-one", "context_window": 1000}],
    },
    {
        "mock": [
            {
                **A,
                "input_price_per_mtok": 2.0,
                "output_price_per_mtok": 2.0,
                "capabilities": VISION,
            },
            {"id": "gamma", "display_name": "Modèle γ", "context_window": 4096},
            {"id": "delta", "input_price_per_mtok": 0.25, "capabilities": VISION},
        ],
        "mock-eu": [{"id": "eu-one", "context_window": 2000}],
    },
    {
        "mock": [
            {
                **A,
                "input_price_per_mtok": 2.0,
                "output_price_per_mtok": 2.0,
                "capabilities": VISION,
            },
            {"id": "beta", "display_name": "Beta", "input_price_per_mtok": 0.5},
            {"id": "delta", "input_price_per_mtok": 0.25, "capabilities": ["chat", "vision"]},
        ],
        "mock-eu": None,
    },
]

SHIFT = timedelta(days=10)


def fill(database_url: str, directory: Path) -> dict[str, str]:
    """Run the syncs; return the environment that points the CLI at the result."""
    config = directory / "aisync.toml"
    files = {name: directory / f"{name}.json" for name in ("mock", "mock-eu")}
    config.write_text(
        f'[providers.mock-eu]\ntype = "mock"\noptions = {{ models = "{files["mock-eu"]}" }}\n',
        encoding="utf-8",
    )
    environ = {"AISYNC_MOCK_MODELS": str(files["mock"])}
    settings = load_settings({"database_url": database_url}, environ=environ, config_path=config)
    syncer = Syncer(settings=settings)
    for listings in RUNS:
        for name, models in listings.items():
            files[name].unlink(missing_ok=True)
            if models is not None:
                files[name].write_text(json.dumps(models), encoding="utf-8")
        syncer.sync_models(["mock", "mock-eu"], force=True)
    syncer.close()
    _move_first_run_back(database_url)
    return {
        "AISYNC_DATABASE_URL": database_url,
        "AISYNC_CONFIG": str(config),
        "AISYNC_MOCK_MODELS": str(files["mock"]),
    }


def _move_first_run_back(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        _shift(connection, SyncRun.__table__, ("started_at", "finished_at"), "id")
        _shift(connection, ProviderSync.__table__, ("started_at", "finished_at"), "run_id")
        _shift(connection, ModelEvent.__table__, ("changed_at",), "run_id")
        _shift(connection, ModelVersion.__table__, ("created_at",), "run_id")
        first = ModelEvent.__table__.c
        added_first = select(first.model).where(first.run_id == 1, first.change == "added")
        models = Model.__table__
        for row in connection.execute(select(models).where(models.c.id.in_(added_first))):
            connection.execute(
                update(models)
                .where(models.c.id == row.id)
                .values(first_seen_at=row.first_seen_at - SHIFT)
            )
    engine.dispose()


def _shift(connection: Any, table: Table, columns: tuple[str, ...], run_column: str) -> None:
    for row in connection.execute(select(table).where(table.c[run_column] == 1)).all():
        values = {name: row._mapping[name] - SHIFT for name in columns if row._mapping[name]}
        connection.execute(update(table).where(table.c.id == row.id).values(**values))
