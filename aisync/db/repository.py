"""Every query the sync engine needs, in SQLAlchemy Core.

Writes for one provider are a handful of bulk statements whatever the size of its list
(executemany, never a round trip per model), inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from aisync.canonical import RawJSON
from aisync.db.bulk import BulkInsert, json_text
from aisync.db.tables import events, models, overrides, provider_syncs, runs, stats, versions
from aisync.db.values import (
    Diff,
    EnrichmentState,
    Previous,
    StoredModel,
    api_origins,
    enrichable_values,
    json_value,
)
from aisync.records import API, ENRICHABLE_FIELDS, ModelRecord

#: The `reason` of a synced provider some of whose statistics failed: its figures are not
#: all there (the message, naming the plugin, is in `error`).
STATS_FAILED = "stats_failed"


@dataclass(frozen=True)
class ProviderOutcome:
    """One provider's row in `provider_syncs`, as the engine decided it."""

    provider: str
    status: str
    reason: str | None
    error: str | None
    models_found: int | None
    added: int
    changed: int
    removed: int
    started_at: datetime
    finished_at: datetime
    duration_ms: int


def start_run(
    connection: Connection,
    *,
    started_at: datetime,
    forced: bool,
    requested: Sequence[str] | None,
    version: str,
) -> int:
    result = connection.execute(
        insert(runs).values(
            started_at=started_at,
            status="running",
            forced=forced,
            requested_providers=list(requested) if requested else None,
            aisync_version=version,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def finish_run(
    connection: Connection, run_id: int, *, status: str, exit_code: int, finished_at: datetime
) -> None:
    connection.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(status=status, exit_code=exit_code, finished_at=finished_at)
    )


def running_runs(connection: Connection, *, besides: int) -> list[tuple[int, datetime]]:
    """Runs other than `besides` still marked `running`: alive elsewhere, or crashed."""
    query = select(runs.c.id, runs.c.started_at).where(
        runs.c.status == "running", runs.c.id != besides
    )
    return [(row.id, row.started_at) for row in connection.execute(query)]


def mark_aborted(connection: Connection, run_id: int, *, finished_at: datetime) -> None:
    """Close a crashed run; a run that finished meanwhile keeps its own status."""
    connection.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.status == "running")
        .values(status="aborted", finished_at=finished_at)
    )


def last_successful_syncs(connection: Connection, providers: Iterable[str]) -> dict[str, datetime]:
    """When each provider last synced successfully (skips and failures do not count)."""
    names = list(providers)
    if not names:
        return {}
    query = (
        select(provider_syncs.c.provider, func.max(provider_syncs.c.finished_at))
        .where(provider_syncs.c.provider.in_(names), provider_syncs.c.status == "synced")
        .group_by(provider_syncs.c.provider)
    )
    return {name: when for name, when in connection.execute(query) if when is not None}


def listing_stamp(connection: Connection, provider: str) -> int | None:
    """The id of the provider's last successful sync: only such a sync writes its models
    (`write_listing`, in the transaction that records it), so a listing read while this
    was the stamp is still the stored one while it still is."""
    query = select(func.max(provider_syncs.c.id)).where(
        provider_syncs.c.provider == provider, provider_syncs.c.status == "synced"
    )
    return connection.execute(query).scalar()


def stored_listing(
    connection: Connection, provider: str
) -> tuple[dict[str, StoredModel], EnrichmentState]:
    """Every model the provider ever listed with its current version, content hash and raw
    digest, and what enrichment needs of the catalog.

    One read of the `models` rows, which carry a copy of their current version (migration
    0004); only the versions of models flagged `enriched` (a non-API origin or a
    disagreement) are read, in a second query. A row written without that copy (by hand,
    or by an application that inserts rows itself) sends the whole read through the
    versions, as before 0004.
    """
    query = select(
        models.c.id,
        models.c.model_id,
        models.c.version,
        models.c.content_hash,
        models.c.removed_at.is_not(None),
        models.c.raw_digest,
        models.c.enriched,
    ).where(models.c.provider == provider)
    stored: dict[str, StoredModel] = {}
    carried: list[int] = []
    for pk, model_id, version, digest, removed, raw_digest, enriched in connection.execute(query):
        if version is None or digest is None or enriched is None:
            return _stored_from_versions(connection, provider)
        stored[model_id] = StoredModel(pk, model_id, version, digest, removed, raw_digest, enriched)
        if enriched:
            carried.append(pk)
    state = EnrichmentState(
        previous=_carried_by_model(connection, provider, carried),
        overrides=provider_overrides(connection, provider),
    )
    return stored, state


def _stored_from_versions(
    connection: Connection, provider: str
) -> tuple[dict[str, StoredModel], EnrichmentState]:
    """`stored_listing` read from the latest versions themselves: one pass over them,
    whatever the size.

    Only a version with a non-API origin or a disagreement has anything to carry forward,
    and only those versions' values are read, in a second query. The origins are read as
    JSON text and looked at undecoded: a big catalog synced without sources has 100,000
    versions whose every origin is the API.
    """
    latest = (
        select(versions.c.model, func.max(versions.c.version).label("version"))
        .join(models, models.c.id == versions.c.model)
        .where(models.c.provider == provider)
        .group_by(versions.c.model)
        .subquery()
    )
    query = (
        select(
            models.c.id,
            models.c.model_id,
            latest.c.version,
            versions.c.content_hash,
            models.c.removed_at.is_not(None),
            versions.c.id,
            type_coerce(versions.c.field_sources, Text),
            versions.c.disagreements.is_not(None),
        )
        .join(latest, latest.c.model == models.c.id)
        .join(
            versions,
            (versions.c.model == latest.c.model) & (versions.c.version == latest.c.version),
        )
        .where(models.c.provider == provider)
    )
    stored: dict[str, StoredModel] = {}
    carried: list[int] = []
    for (
        pk,
        model_id,
        version,
        digest,
        removed,
        version_pk,
        sources,
        disagrees,
    ) in connection.execute(query):
        enriched = bool(disagrees) or not _all_api(sources)
        stored[model_id] = StoredModel(pk, model_id, version, digest, removed, None, enriched)
        if enriched:
            carried.append(version_pk)
    state = EnrichmentState(
        previous=_carried_forward(connection, provider, carried),
        overrides=provider_overrides(connection, provider),
    )
    return stored, state


def write_listing(
    connection: Connection,
    *,
    provider: str,
    run_id: int,
    now: datetime,
    diff: Diff,
    last_listed: datetime | None = None,
) -> None:
    """Apply a diff: new models, new versions, removals, returns, events, and the copy of
    the current version on each `models` row that changed.

    An unchanged model's row is not touched: its `last_seen_at` is the provider's last
    successful sync (`current_models` derives it), and only a removed model keeps its own,
    `last_listed` (the previous successful sync, the last one that listed it).
    Version and event rows are produced lazily and inserted in batches (`bulk.BATCH_ROWS`),
    so a first sync of a big catalog never holds a row per model for all of them at once.
    """
    if diff.new:
        BulkInsert(
            connection,
            models,
            MODEL_COLUMNS,
            {
                "provider": provider,
                "first_seen_at": now,
                "last_seen_at": now,
                "removed_at": None,
                "version": 1,
            },
        ).execute(_model_row(record, diff) for record in diff.new)
    pks = _new_model_pks(connection, provider, diff)
    _set_removed_at(connection, [(m.pk, now) for m in diff.removed], last_listed)
    _set_removed_at(connection, [(known.pk, None) for known, _, _ in diff.returning])
    _set_current(connection, diff)
    if diff.new or diff.returning or diff.changed:
        BulkInsert(
            connection, versions, VERSION_COLUMNS, {"run_id": run_id, "created_at": now}
        ).execute(_version_rows(diff, pks))
    if not diff.is_empty:
        constants = {"run_id": run_id, "changed_at": now}
        BulkInsert(connection, events, ["model", "change", "version"], constants).execute(
            _event_rows(diff, pks)
        )


#: The columns of a new `models` row that vary by model, in `_model_row` order.
MODEL_COLUMNS = ("model_id", "content_hash", "raw_digest", "capabilities", "enriched")


def _model_row(record: ModelRecord, diff: Diff) -> tuple[Any, ...]:
    model_id = record.model_id
    return (
        model_id,
        diff.hashes[model_id],
        diff.raw_digests.get(model_id),
        record.capabilities,
        is_enriched(record),
    )


def is_enriched(record: ModelRecord) -> bool:
    """Whether a record holds a value enrichment must see again on the next sync: one not
    from the API (a source's, an override, a guess), or a disagreement."""
    return bool(record.disagreements) or any(o != API for o in record.field_sources.values())


def _set_current(connection: Connection, diff: Diff) -> None:
    """Copy each new version onto its model's row, and store the raw digests that changed
    while the content did not."""
    changed = [(known, record) for known, record in diff.changed]
    changed.extend((known, record) for known, record, moved in diff.returning if moved)
    if changed:
        connection.execute(
            update(models)
            .where(models.c.id == bindparam("pk"))
            .values(
                version=bindparam("v"),
                content_hash=bindparam("hash"),
                raw_digest=bindparam("raw"),
                capabilities=bindparam("caps", type_=models.c.capabilities.type),
                enriched=bindparam("flag"),
            ),
            [
                {
                    "pk": known.pk,
                    "v": known.version + 1,
                    "hash": diff.hashes[record.model_id],
                    "raw": diff.raw_digests.get(record.model_id),
                    "caps": list(record.capabilities),
                    "flag": is_enriched(record),
                }
                for known, record in changed
            ],
        )
    if diff.redigested:
        connection.execute(
            update(models)
            .where(models.c.id == bindparam("pk"))
            .values(raw_digest=bindparam("raw")),
            [{"pk": pk, "raw": digest} for pk, digest in diff.redigested],
        )


def _version_rows(diff: Diff, pks: Mapping[str, int]) -> Iterator[tuple[Any, ...]]:
    """(model, version, record) of every new version, as `VERSION_COLUMNS` rows."""
    for record in diff.new:
        yield _version_row(pks[record.model_id], 1, diff.hashes, record)
    for known, record, content_changed in diff.returning:
        if content_changed:
            yield _version_row(known.pk, known.version + 1, diff.hashes, record)
    for known, record in diff.changed:
        yield _version_row(known.pk, known.version + 1, diff.hashes, record)


def _event_rows(diff: Diff, pks: Mapping[str, int]) -> Iterator[tuple[int, str, int]]:
    """(model, change, version after it) of every event of the listing."""
    for record in diff.new:
        yield pks[record.model_id], "added", 1
    for known, _, content_changed in diff.returning:
        yield known.pk, "added", known.version + 1 if content_changed else known.version
    for known, _ in diff.changed:
        yield known.pk, "changed", known.version + 1
    for known in diff.removed:
        yield known.pk, "removed", known.version


def _new_model_pks(connection: Connection, provider: str, diff: Diff) -> dict[str, int]:
    if not diff.new:
        return {}
    wanted = {record.model_id for record in diff.new}
    rows = connection.execute(
        select(models.c.model_id, models.c.id).where(models.c.provider == provider)
    )
    return {model_id: pk for model_id, pk in rows if model_id in wanted}


def _set_removed_at(
    connection: Connection,
    changes: list[tuple[int, datetime | None]],
    last_listed: datetime | None = None,
) -> None:
    """Mark models removed (or listed again); a removed one keeps `last_listed` as the
    last time it was seen, when known."""
    if not changes:
        return
    values: dict[str, Any] = {"removed_at": bindparam("at")}
    if last_listed is not None:
        values["last_seen_at"] = last_listed
    connection.execute(
        update(models).where(models.c.id == bindparam("pk")).values(**values),
        [{"pk": pk, "at": at} for pk, at in changes],
    )


#: The columns of a version row that vary by model, in `_version_row` order.
VERSION_COLUMNS = (
    "model",
    "version",
    "content_hash",
    "display_name",
    "context_window",
    "max_output_tokens",
    "input_price_per_mtok",
    "output_price_per_mtok",
    "capabilities",
    "release_date",
    "deprecation_date",
    "raw",
    "max_input_tokens",
    "cache_read_price_per_mtok",
    "cache_write_price_per_mtok",
    "successor",
    "knowledge_cutoff",
    "open_weights",
    "pricing",
    "field_sources",
    "disagreements",
)


def _version_row(
    pk: int, version: int, hashes: Mapping[str, str], record: ModelRecord
) -> tuple[Any, ...]:
    return (
        pk,
        version,
        hashes[record.model_id],
        record.display_name,
        record.context_window,
        record.max_output_tokens,
        record.input_price_per_mtok,
        record.output_price_per_mtok,
        record.capabilities,
        record.release_date,
        record.deprecation_date,
        record.raw,
        record.max_input_tokens,
        record.cache_read_price_per_mtok,
        record.cache_write_price_per_mtok,
        record.successor,
        record.knowledge_cutoff,
        record.open_weights,
        _plain(record.pricing) if record.pricing is not None else None,
        _stored_origins(record),
        _encoded_disagreements(record.disagreements),
    )


#: The stored `field_sources` of records enrichment left untouched (`api` for each field
#: with a value), as JSON text, by which enrichable fields are empty: a listing has a
#: handful of such combinations, and building and encoding the same object for each of
#: 100,000 versions cost more than the rest of their row.
_API_ORIGINS: dict[tuple[bool, ...], RawJSON | None] = {}


def _stored_origins(record: ModelRecord) -> Any:
    """The record's `field_sources` as the `field_sources` column stores them."""
    if record.field_sources:
        return _plain(record.field_sources)
    empty = tuple([value is None or value == () for value in enrichable_values(record)])
    try:
        return _API_ORIGINS[empty]
    except KeyError:
        origins = api_origins(record)
        stored = _API_ORIGINS[empty] = RawJSON(json_text(origins)) if origins else None
        return stored


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A dict for the JSON encoder, copied only when it is some other mapping."""
    return mapping if type(mapping) is dict else dict(mapping)


def _encoded_disagreements(disagreements: Mapping[str, Mapping[str, Any]]) -> Any:
    if not disagreements:
        return None
    return {
        name: {origin: json_value(value) for origin, value in offers.items()}
        for name, offers in disagreements.items()
    }


#: What enrichment reads of a model's latest version: its values, their origins and the
#: values that lost (never the raw payload, the largest column by far).
_PROVENANCE_COLUMNS = (*ENRICHABLE_FIELDS, "field_sources", "disagreements")

#: Up to this many versions carried forward are read by id (`IN (...)`, well under every
#: backend's limit on bound parameters); more are picked out of one read of them all.
_IDS_PER_QUERY = 1_000


def _carried_forward(
    connection: Connection, provider: str, version_pks: Sequence[int]
) -> dict[str, Previous]:
    """The provenance columns of these versions, by model id, in one statement whatever
    their number: a re-sync must not cost a round trip per so many models."""
    if not version_pks:
        return {}
    query = select(
        models.c.model_id, versions.c.id, *(versions.c[name] for name in _PROVENANCE_COLUMNS)
    ).join(models, models.c.id == versions.c.model)
    if len(version_pks) <= _IDS_PER_QUERY:
        rows = connection.execute(query.where(versions.c.id.in_(version_pks)))
        return {row.model_id: _previous(row._mapping) for row in rows}
    newer = versions.alias("newer")
    latest = select(func.max(newer.c.version)).where(newer.c.model == versions.c.model)
    rows = connection.execute(
        query.where(models.c.provider == provider, versions.c.version == latest.scalar_subquery())
    )
    wanted = set(version_pks)
    return {row.model_id: _previous(row._mapping) for row in rows if row.id in wanted}


def _carried_by_model(
    connection: Connection, provider: str, model_pks: Sequence[int]
) -> dict[str, Previous]:
    """`_carried_forward` for the current versions of these models, found through the
    version number on their rows."""
    if not model_pks:
        return {}
    query = select(
        models.c.model_id, models.c.id, *(versions.c[name] for name in _PROVENANCE_COLUMNS)
    ).join(versions, (versions.c.model == models.c.id) & (versions.c.version == models.c.version))
    if len(model_pks) <= _IDS_PER_QUERY:
        rows = connection.execute(query.where(models.c.id.in_(model_pks)))
        return {row.model_id: _previous(row._mapping) for row in rows}
    wanted = set(model_pks)
    rows = connection.execute(query.where(models.c.provider == provider))
    return {row.model_id: _previous(row._mapping) for row in rows if row.id in wanted}


def _all_api(sources: object) -> bool:
    """Whether every origin of a version's `field_sources` is the API.

    The value is JSON text (`{"context_window": "api", ...}`), or a dict where the driver
    decodes JSON itself (psycopg). In the text, each field has one colon and neither field
    names nor `"api"` hold one, so equal counts mean every origin is `"api"`; any other
    origin, even one with a colon in its name, makes the counts differ.
    """
    if sources is None:
        return True
    if isinstance(sources, str):
        return sources.count(":") == sources.count(f'"{API}"')
    return isinstance(sources, dict) and all(origin == API for origin in sources.values())


def _previous(row: RowMapping) -> Previous:
    disagreements = row["disagreements"] or {}
    return Previous(
        values={name: row[name] for name in ENRICHABLE_FIELDS},
        sources=dict(row["field_sources"] or {}),
        disagreements={
            name: dict(offers)
            for name, offers in disagreements.items()
            if name in ENRICHABLE_FIELDS and isinstance(offers, dict)
        },
    )


def provider_overrides(connection: Connection, provider: str) -> dict[str, dict[str, Any]]:
    """model id -> field -> value, for every override of `provider`."""
    result: dict[str, dict[str, Any]] = {}
    query = select(overrides.c.model_id, overrides.c.field, overrides.c.value).where(
        overrides.c.provider == provider
    )
    for model_id, name, value in connection.execute(query):
        if name in ENRICHABLE_FIELDS:
            result.setdefault(model_id, {})[name] = value
    return result


def list_overrides(connection: Connection, provider: str | None = None) -> list[Any]:
    """Every override (of one provider when given), ordered by provider, model and field."""
    query = select(overrides).order_by(
        overrides.c.provider, overrides.c.model_id, overrides.c.field
    )
    if provider is not None:
        query = query.where(overrides.c.provider == provider)
    return list(connection.execute(query))


def save_override(
    connection: Connection,
    *,
    provider: str,
    model_id: str,
    field: str,
    value: Any,
    note: str | None,
    now: datetime,
) -> None:
    """Insert or replace the override of one field of one model."""
    delete_override(connection, provider=provider, model_id=model_id, field=field)
    connection.execute(
        insert(overrides).values(
            provider=provider,
            model_id=model_id,
            field=field,
            value=value,
            note=note,
            created_at=now,
        )
    )


def delete_override(connection: Connection, *, provider: str, model_id: str, field: str) -> bool:
    """Remove one override; False when there was none."""
    result = connection.execute(
        delete(overrides).where(
            overrides.c.provider == provider,
            overrides.c.model_id == model_id,
            overrides.c.field == field,
        )
    )
    return bool(result.rowcount)


def record_provider_sync(connection: Connection, run_id: int, outcome: ProviderOutcome) -> None:
    connection.execute(
        insert(provider_syncs).values(
            run_id=run_id,
            provider=outcome.provider,
            status=outcome.status,
            reason=outcome.reason,
            error=outcome.error,
            models_found=outcome.models_found,
            models_added=outcome.added,
            models_changed=outcome.changed,
            models_removed=outcome.removed,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            duration_ms=outcome.duration_ms,
        )
    )


def last_stats(connection: Connection, provider: str) -> dict[str, float] | None:
    """The figures of the provider's last successful sync, in the order they were given,
    or None when that sync left none, or not all of them (a plugin's statistics failed:
    `STATS_FAILED`), or there was none."""
    last_run = (
        select(func.max(provider_syncs.c.run_id))
        .where(provider_syncs.c.provider == provider, provider_syncs.c.status == "synced")
        .scalar_subquery()
    )
    failed = select(provider_syncs.c.id).where(
        provider_syncs.c.provider == provider,
        provider_syncs.c.run_id == last_run,
        provider_syncs.c.reason == STATS_FAILED,
    )
    query = (
        select(stats.c.name, stats.c.value)
        .where(stats.c.provider == provider, stats.c.run_id == last_run, ~failed.exists())
        .order_by(stats.c.id)
    )
    figures = {name: value for name, value in connection.execute(query)}
    return figures or None


#: The fields of a version, as `ModelRecord` names them.
_RECORD_COLUMNS = (
    *(column.name for column in versions.c if column.name in ModelRecord.__dataclass_fields__),
)


def current_versions(connection: Connection, model_pks: Sequence[int]) -> list[dict[str, Any]]:
    """The current version of each of these models as `ModelRecord` field -> stored value
    (the model id included), `_IDS_PER_QUERY` models a statement."""
    query = select(models.c.model_id, *(versions.c[name] for name in _RECORD_COLUMNS)).join(
        versions, (versions.c.model == models.c.id) & (versions.c.version == models.c.version)
    )
    found: list[dict[str, Any]] = []
    for start in range(0, len(model_pks), _IDS_PER_QUERY):
        chunk = model_pks[start : start + _IDS_PER_QUERY]
        rows = connection.execute(query.where(models.c.id.in_(chunk)))
        found.extend(dict(row._mapping) for row in rows)
    return found


def record_stats(
    connection: Connection, run_id: int, provider: str, figures: Mapping[str, float]
) -> None:
    if figures:
        connection.execute(
            insert(stats),
            [
                {"run_id": run_id, "provider": provider, "name": name, "value": value}
                for name, value in figures.items()
            ],
        )
