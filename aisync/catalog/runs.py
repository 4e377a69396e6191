"""Sync runs as records: each run with its providers' outcomes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row

from aisync.catalog import queries
from aisync.catalog.records import ProviderSyncRecord, RunRecord
from aisync.errors import UsageError

#: The largest run id the catalog can hold (an INTEGER column), and the largest limit.
MAX_ID = 2**31 - 1


def checked_id(value: int, what: str) -> int:
    """A run id or limit the database can compare: ids are 32-bit on PostgreSQL and
    MariaDB, and a bigger number would fail inside the driver."""
    if not 1 <= value <= MAX_ID:
        raise UsageError(f"Invalid {what}: {value} (use a number from 1 to {MAX_ID})")
    return value


def run_records(connection: Connection, rows: Iterable[Row[Any]]) -> list[RunRecord]:
    runs = list(rows)
    outcomes: dict[int, list[ProviderSyncRecord]] = {run.id: [] for run in runs}
    for row in queries.provider_outcomes(connection, list(outcomes)):
        outcomes[row.run_id].append(
            ProviderSyncRecord(
                provider=row.provider,
                status=row.status,
                reason=row.reason,
                error=row.error,
                models_found=row.models_found,
                models_added=row.models_added,
                models_changed=row.models_changed,
                models_removed=row.models_removed,
                started_at=row.started_at,
                finished_at=row.finished_at,
                duration_ms=row.duration_ms,
            )
        )
    return [
        RunRecord(
            id=run.id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=run.status,
            forced=bool(run.forced),
            requested_providers=(
                None if run.requested_providers is None else tuple(run.requested_providers)
            ),
            exit_code=run.exit_code,
            aisync_version=run.aisync_version,
            providers=tuple(outcomes[run.id]),
        )
        for run in runs
    ]
