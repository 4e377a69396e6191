"""Models and their history as records: versions with what changed, events, the changelog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row

from aisync.catalog import queries
from aisync.catalog.records import (
    VERSION_FIELDS,
    CatalogModel,
    Change,
    FieldChange,
    ModelEventRecord,
    ModelHistory,
    ModelVersionRecord,
)
from aisync.errors import NotFound


def model_history(connection: Connection, provider: str, model_id: str) -> ModelHistory:
    """Every version of a model (with what changed from the one before) and its events."""
    rows = queries.catalog_models(
        connection, provider=provider, model_id=model_id, include_removed=True
    )
    if not rows:
        raise NotFound(f"No model '{model_id}' from provider '{provider}' in the catalog")
    pk = rows[0].pk
    version_rows = queries.model_versions(connection, pk)
    event_rows = queries.model_events(connection, pk)
    history: list[ModelVersionRecord] = []
    previous: Mapping[str, Any] | None = None
    for row in version_rows:
        current = _fields(row._mapping)
        history.append(
            ModelVersionRecord(
                version=row.version,
                run_id=row.run_id,
                created_at=row.created_at,
                changes=() if previous is None else field_changes(previous, current),
                **current,
            )
        )
        previous = current
    return ModelHistory(
        model=catalog_model(rows[0]),
        versions=tuple(history),
        events=tuple(
            ModelEventRecord(e.change, e.version, e.run_id, e.changed_at) for e in event_rows
        ),
    )


def check_known(connection: Connection, provider: str) -> None:
    """`models --provider opnai` is a typo to point out, not "No models match."""
    known = queries.known_providers(connection)
    if provider not in known:
        raise NotFound(f"Unknown provider '{provider}'. Known: {', '.join(known) or 'none'}")


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Every version field whose value or origin differs, in `VERSION_FIELDS` order.

    A value that moved from a source to the API (or to an override) is a change even when
    the number is the same: the version records who vouches for it.
    """
    old_sources, new_sources = old["field_sources"], new["field_sources"]
    return tuple(
        FieldChange(name, old[name], new[name], old_sources.get(name), new_sources.get(name))
        for name in VERSION_FIELDS
        if old[name] != new[name] or old_sources.get(name) != new_sources.get(name)
    )


def _fields(values: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """The version fields of a row, typed as `ModelFields` holds them."""
    result = {name: values[prefix + name] for name in VERSION_FIELDS}
    result["capabilities"] = tuple(result["capabilities"] or ())
    result["field_sources"] = dict(values[prefix + "field_sources"] or {})
    return result


def catalog_model(row: Row[Any]) -> CatalogModel:
    values = row._mapping
    return CatalogModel(
        provider=values["provider"],
        model_id=values["model_id"],
        version=values["version"],
        first_seen_at=values["first_seen_at"],
        last_seen_at=values["last_seen_at"],
        removed_at=values["removed_at"],
        version_created_at=values["version_created_at"],
        **_fields(values),
    )


def change_record(values: Mapping[Any, Any]) -> Change:
    fields: tuple[FieldChange, ...] = ()
    if values["change"] == "changed" and values["old_capabilities"] is not None:
        fields = field_changes(_fields(values, "old_"), _fields(values, "new_"))
    return Change(
        changed_at=values["changed_at"],
        run_id=values["run_id"],
        provider=values["provider"],
        model_id=values["model_id"],
        change=values["change"],
        version=values["version"],
        fields=fields,
    )
