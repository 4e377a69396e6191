"""What a dry run shows: the ids a sync would add, remove and change, and for a changed
model the fields with their stored and new values, so `--dry-run` answers "what would
this do?" rather than only "how many"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aisync.catalog.records import VERSION_FIELDS, CatalogModel, as_dict
from aisync.db.values import Diff
from aisync.records import ModelRecord
from aisync.report import DryRunChanges
from aisync.settings import Settings


def dry_run_changes(settings: Settings, provider: str, diff: Diff) -> DryRunChanges:
    """The ids of `diff` by kind; the stored fields of changed models are read from the
    catalog (one query), which a diff by content hash does not hold."""
    added = [r.model_id for r in diff.new] + [r.model_id for _, r, _ in diff.returning]
    changed: dict[str, dict[str, tuple[Any, Any]]] = {}
    if diff.changed:
        from aisync.catalog.catalog import Catalog

        with Catalog(settings=settings) as catalog:
            current = {m.model_id: m for m in catalog.models(provider=provider)}
        for _, record in diff.changed:
            changed[record.model_id] = _changed_fields(current.get(record.model_id), record)
    return DryRunChanges(
        added=tuple(sorted(added)),
        removed=tuple(sorted(s.model_id for s in diff.removed)),
        changed=dict(sorted(changed.items())),
    )


def _changed_fields(stored: CatalogModel | None, record: ModelRecord) -> dict[str, tuple[Any, Any]]:
    """Field -> (stored, new) as JSON values, for the fields whose values differ."""
    found = {}
    for name in sorted(VERSION_FIELDS):
        old = _plain(getattr(stored, name, None))
        new = _plain(getattr(record, name, None))
        if old != new:
            found[name] = (old, new)
    return found


def _plain(value: Any) -> Any:
    """A value as JSON data, numbers as the catalog compares them (`1` == `1.0`)."""
    if isinstance(value, Decimal):
        return float(value)
    return as_dict(value)
