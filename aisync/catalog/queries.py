"""Every query the catalog's reports run, in SQLAlchemy Core.

The sync engine's queries live in `aisync.db.repository`; these are the read side. Each
report is one or two statements whatever the size of the catalog (never a round trip per
model), and every statement runs unchanged on SQLite, PostgreSQL and MariaDB/MySQL: no
dialect functions, JSON searched as text, NULLs ordered explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Dialect,
    Row,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.sql.sqltypes import NULLTYPE
from sqlalchemy.types import TypeDecorator

from aisync.catalog.records import VERSION_FIELDS
from aisync.db.tables import events, models, provider_syncs, runs, stats, versions
from aisync.records import ENRICHABLE_FIELDS

if TYPE_CHECKING:
    from typing import TypeAlias

    #: A result row of any shape (SQLAlchemy types rows by their columns).
    AnyRow: TypeAlias = Row[*tuple[Any, ...]]


#: Rows a streamed query fetches per round trip: big enough to amortise it, small enough
#: that a million-row export holds a few megabytes at a time.
STREAM_BATCH = 2_000

#: Converts one column of a batch of driver values.
ColumnConverter = Callable[[Sequence[Any]], Sequence[Any]]


def catalog_models(
    connection: Connection,
    *,
    provider: str | None = None,
    model_id: str | None = None,
    capability: str | None = None,
    search: str | None = None,
    include_removed: bool = False,
    sort: str = "provider",
    descending: bool = False,
) -> Sequence[AnyRow]:
    """Each model with its latest version: the rows of the view `current_models`, plus the
    removed models when asked. `capability` is a word of `CAPABILITIES`; `search` matches
    the id or display name, ignoring case."""
    query = catalog_models_query(
        provider=provider,
        model_id=model_id,
        capability=capability,
        search=search,
        include_removed=include_removed,
        sort=sort,
        descending=descending,
    )
    return connection.execute(query).all()


def streamed_columns(
    connection: Connection, query: Select[Any]
) -> Iterator[dict[str, Sequence[Any]]]:
    """The rows of `query` as SQLAlchemy types them, as the database hands them over,
    `STREAM_BATCH` at a time, each batch as its columns: name -> the rows' values.

    A server-side cursor on PostgreSQL and MariaDB/MySQL (`stream_results`), SQLite's own
    cursor (which steps through the result as it is read): memory stays flat however many
    rows match. The connection is busy until the iterator is exhausted or closed.

    For a million rows, SQLAlchemy's own result processing is most of the read: a `Row`
    per row with each value converted on its own, and JSON decoded by the standard
    library. Here the driver's values come through untyped, and each batch is converted
    a column at a time with the column type's own result processor, except that JSON text
    is decoded by orjson (the same values; the standard library where orjson refuses the
    text, as with `NaN`).
    """
    untyped = query.with_only_columns(
        *(type_coerce(column, NULLTYPE).label(column.name) for column in query.selected_columns)
    )
    options = connection.execution_options(stream_results=True, yield_per=STREAM_BATCH)
    with options.execute(untyped) as result:
        converters = _converters(query, connection.dialect, result.cursor.description)
        names = list(query.selected_columns.keys())
        for batch in result.partitions():
            columns: list[Sequence[Any]] = list(zip(*batch, strict=True))
            for index, convert in converters:
                columns[index] = convert(columns[index])
            yield dict(zip(names, columns, strict=True))


def _converters(
    query: Select[Any], dialect: Dialect, description: Sequence[Sequence[Any]]
) -> list[tuple[int, ColumnConverter]]:
    """(index, converter) of each column whose driver values SQLAlchemy would convert; the
    driver's type codes in `description` are what SQLAlchemy itself decides by."""
    found = []
    for index, column in enumerate(query.selected_columns):
        convert = _column_converter(column.type, dialect, description[index][1])
        if convert is not None:
            found.append((index, convert))
    return found


def _column_converter(column_type: Any, dialect: Dialect, code: Any) -> ColumnConverter | None:
    """What SQLAlchemy would make of a column's driver values, a whole column at once;
    None when the driver's values are already what SQLAlchemy returns."""
    process = column_type.dialect_impl(dialect).result_processor(dialect, code)
    if process is None:
        return None
    if isinstance(column_type, JSON):
        return _json_column(process)
    base = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    if isinstance(base, DateTime | Date):
        return _memoized(process)
    return lambda values: list(map(process, values))


def _memoized(process: Callable[[Any], Any]) -> ColumnConverter:
    """Each distinct value converted once: a batch's times and dates repeat (every model a
    sync added has the same `first_seen_at`), and converting one costs more than a lookup."""

    def convert(values: Sequence[Any]) -> Sequence[Any]:
        converted = {value: process(value) for value in set(values)}
        return list(map(converted.__getitem__, values))

    return convert


def _json_column(process: Callable[[Any], Any]) -> ColumnConverter:
    """JSON text decoded by orjson; by the type's own processor if orjson refuses any of it."""

    def convert(values: Sequence[Any]) -> Sequence[Any]:
        try:
            return [None if value is None else orjson.loads(value) for value in values]
        except orjson.JSONDecodeError:
            return [process(value) for value in values]

    return convert


def catalog_models_query(
    *,
    provider: str | None = None,
    model_id: str | None = None,
    capability: str | None = None,
    search: str | None = None,
    include_removed: bool = False,
    sort: str = "provider",
    descending: bool = False,
    limit: int | None = None,
) -> Select[Any]:
    """The statement of `catalog_models`, sorted in SQL (so a stream comes out in order),
    with at most `limit` rows."""
    last_syncs = _last_syncs(provider)
    query = _with_latest_version(
        models.c.id.label("pk"),
        models.c.provider,
        models.c.model_id,
        models.c.first_seen_at,
        last_seen_at(last_syncs),
        models.c.removed_at,
        versions.c.version,
        versions.c.created_at.label("version_created_at"),
        *(versions.c[name] for name in VERSION_FIELDS),
        versions.c.field_sources,
    ).outerjoin(last_syncs, last_syncs.c.provider == models.c.provider)
    if not include_removed:
        query = query.where(models.c.removed_at.is_(None))
    if provider is not None:
        query = query.where(models.c.provider == provider)
    if model_id is not None:
        query = query.where(models.c.model_id == model_id)
    if capability is not None:
        query = query.where(has_capability(capability))
    if search:
        query = query.where(
            or_(
                models.c.model_id.icontains(search, autoescape=True),
                versions.c.display_name.icontains(search, autoescape=True),
            )
        )
    column = query.selected_columns[sort]
    order = column.desc() if descending else column.asc()
    if getattr(column, "nullable", True):
        query = query.order_by(_nulls_last(column))
    # The ties after the sort field, not the field again: ORDER BY provider, model_id is the
    # order of the unique index, which the database then reads instead of sorting.
    ties = [c for c in (models.c.provider, models.c.model_id) if c.name != sort]
    query = query.order_by(order, *ties)
    return query if limit is None else query.limit(limit)


def last_seen_at(last_syncs: Subquery) -> ColumnElement[Any]:
    """When a model was last listed: for a listed one, its provider's last successful sync
    (a sync does not rewrite every row, migration 0004); for a removed one, its own column.
    The column stands in where no sync is recorded (rows written by hand).

    `last_syncs` (`_last_syncs`) is joined on the provider: the view `current_models`
    says the same with a subquery per row, which scans every successful sync of the
    provider again for each of its models (with 2,000 syncs per provider, reading 100,000
    models took 100 s that way on SQLite, 0.8 s joined).
    """
    listed = func.coalesce(
        last_syncs.c.finished_at, models.c.last_seen_at, type_=models.c.last_seen_at.type
    )
    return case((models.c.removed_at.is_(None), listed), else_=models.c.last_seen_at).label(
        "last_seen_at"
    )


def _last_syncs(provider: str | None) -> Subquery:
    """Each provider's last successful sync (only `provider`'s when given), one row each."""
    query = (
        select(
            provider_syncs.c.provider, func.max(provider_syncs.c.finished_at).label("finished_at")
        )
        .where(provider_syncs.c.status == "synced")
        .group_by(provider_syncs.c.provider)
    )
    if provider is not None:
        query = query.where(provider_syncs.c.provider == provider)
    return query.subquery("last_syncs")


def model_provenance(connection: Connection, provider: str, model_id: str) -> AnyRow | None:
    """The latest version of one model (listed or removed) with its enrichable fields,
    their origins (`field_sources`) and what other origins offered (`disagreements`)."""
    query = _with_latest_version(
        *(versions.c[name] for name in ENRICHABLE_FIELDS),
        versions.c.field_sources,
        versions.c.disagreements,
    ).where(models.c.provider == provider, models.c.model_id == model_id)
    return connection.execute(query).first()


def _with_latest_version(*columns: ColumnElement[Any]) -> Select[Any]:
    """`columns` of each model joined to its latest version.

    The latest version is a correlated MAX per model, which the unique index on
    (model, version) answers at once: a filter on the models (one provider) then reads only
    their versions, where a grouped subquery would aggregate the whole history first.
    """
    newer = versions.alias("newer")
    latest = select(func.max(newer.c.version)).where(newer.c.model == models.c.id).scalar_subquery()
    return (
        select(*columns)
        .select_from(models)
        .join(versions, and_(versions.c.model == models.c.id, versions.c.version == latest))
    )


def has_capability(capability: str) -> ColumnElement[bool]:
    """`capabilities` (a JSON list) holds the word: a text search every backend runs the same.

    CHAR(n) is the one string type all three accept in a CAST; the quotes keep `chat` from
    matching inside another word.
    """
    return cast(versions.c.capabilities, String(1000)).contains(f'"{capability}"', autoescape=True)


def _nulls_last(column: ColumnElement[object]) -> ColumnElement[int]:
    """`NULLS LAST` without the syntax MySQL lacks (SQLite and MySQL sort NULL first)."""
    return case((column.is_(None), 1), else_=0)


def model_versions(connection: Connection, model_pk: int) -> Sequence[AnyRow]:
    """Every version of one model, oldest first."""
    query = (
        select(
            versions.c.version,
            versions.c.run_id,
            versions.c.created_at,
            *(versions.c[name] for name in VERSION_FIELDS),
            versions.c.field_sources,
        )
        .where(versions.c.model == model_pk)
        .order_by(versions.c.version)
    )
    return connection.execute(query).all()


def model_events(connection: Connection, model_pk: int) -> Sequence[AnyRow]:
    """Every event of one model, oldest first."""
    query = (
        select(events.c.change, events.c.version, events.c.run_id, events.c.changed_at)
        .where(events.c.model == model_pk)
        .order_by(events.c.id)
    )
    return connection.execute(query).all()


def changes(
    connection: Connection,
    *,
    since: datetime | None = None,
    provider: str | None = None,
    run_id: int | None = None,
    latest: int | None = None,
) -> Sequence[AnyRow]:
    """Every event, newest first, with both versions' fields for `changed` events.

    Columns `new_<field>` and `old_<field>` hold the version after and before a change (NULL
    for other events), so the changelog needs this one statement. `latest` keeps each
    model's newest events only (a window function: SQLite 3.25, MariaDB 10.2).
    """
    new = versions.alias("new")
    old = versions.alias("old")
    is_change = events.c.change == "changed"
    query = (
        select(
            events.c.changed_at,
            events.c.run_id,
            models.c.provider,
            models.c.model_id,
            events.c.change,
            events.c.version,
            *(new.c[name].label(f"new_{name}") for name in (*VERSION_FIELDS, "field_sources")),
            *(old.c[name].label(f"old_{name}") for name in (*VERSION_FIELDS, "field_sources")),
        )
        .join(models, models.c.id == events.c.model)
        .outerjoin(
            new, and_(is_change, new.c.model == events.c.model, new.c.version == events.c.version)
        )
        .outerjoin(
            old,
            and_(is_change, old.c.model == events.c.model, old.c.version == events.c.version - 1),
        )
        .order_by(events.c.changed_at.desc(), models.c.provider, models.c.model_id, events.c.id)
    )
    if since is not None:
        query = query.where(events.c.changed_at >= since)
    if provider is not None:
        query = query.where(models.c.provider == provider)
    if run_id is not None:
        query = query.where(events.c.run_id == run_id)
    if latest is not None:
        query = query.where(events.c.id.in_(_newest_events(latest)))
    return connection.execute(query).all()


def _newest_events(count: int) -> Select[Any]:
    """The ids of each model's `count` newest events."""
    rank = func.row_number().over(
        partition_by=events.c.model, order_by=(events.c.changed_at.desc(), events.c.id.desc())
    )
    ranked = select(events.c.id, rank.label("rank")).subquery()
    return select(ranked.c.id).where(ranked.c.rank <= count)


def dated_arrivals(connection: Connection, run_id: int) -> Sequence[AnyRow]:
    """The models run `run_id` added with a deprecation date in a version it wrote (a new
    model, or one listed again with new content), with the date of the version before, if
    any: a date that arrives with its model is announced as one that changes."""
    new = versions.alias("new")
    old = versions.alias("old")
    query = (
        select(
            models.c.provider,
            models.c.model_id,
            old.c.deprecation_date.label("old_date"),
            new.c.deprecation_date.label("new_date"),
        )
        .select_from(events)
        .join(models, models.c.id == events.c.model)
        .join(new, and_(new.c.model == events.c.model, new.c.version == events.c.version))
        .outerjoin(old, and_(old.c.model == events.c.model, old.c.version == events.c.version - 1))
        .where(
            events.c.run_id == run_id,
            events.c.change == "added",
            new.c.run_id == run_id,
            new.c.deprecation_date.is_not(None),
        )
    )
    return connection.execute(query).all()


def sync_runs(
    connection: Connection,
    *,
    limit: int | None = None,
    status: str | None = None,
    run_id: int | None = None,
) -> Sequence[AnyRow]:
    """Runs, newest first."""
    query = select(runs).order_by(runs.c.id.desc())
    if status is not None:
        query = query.where(runs.c.status == status)
    if run_id is not None:
        query = query.where(runs.c.id == run_id)
    if limit is not None:
        query = query.limit(limit)
    return connection.execute(query).all()


def provider_outcomes(connection: Connection, run_ids: Sequence[int]) -> Sequence[AnyRow]:
    """The `provider_syncs` rows of the given runs, in the order they were recorded."""
    if not run_ids:
        return []
    query = (
        select(provider_syncs)
        .where(provider_syncs.c.run_id.in_(run_ids))
        .order_by(provider_syncs.c.id)
    )
    return connection.execute(query).all()


def latest_outcomes(connection: Connection) -> Sequence[AnyRow]:
    """Per provider, its latest `provider_syncs` row of each status (synced, failed, skipped)."""
    latest = select(func.max(provider_syncs.c.id)).group_by(
        provider_syncs.c.provider, provider_syncs.c.status
    )
    query = (
        select(provider_syncs)
        .where(provider_syncs.c.id.in_(latest.scalar_subquery()))
        .order_by(provider_syncs.c.id)
    )
    return connection.execute(query).all()


def listed_counts(connection: Connection) -> dict[str, int]:
    """How many models each provider lists now."""
    query = (
        select(models.c.provider, func.count())
        .where(models.c.removed_at.is_(None))
        .group_by(models.c.provider)
    )
    return {provider: int(count) for provider, count in connection.execute(query)}


def known_providers(connection: Connection) -> list[str]:
    """Every provider the catalog has a model or a sync attempt of."""
    query = select(models.c.provider).union(select(provider_syncs.c.provider))
    return sorted(connection.execute(query).scalars())


def provider_stats(
    connection: Connection, *, provider: str | None = None, history: bool = False
) -> Sequence[AnyRow]:
    """The statistics of successful syncs: each provider's latest, or all with `history`.

    Ordered by provider, then oldest run first, then in the order the figures were recorded
    (`Total` first, as the plugins merged them).
    """
    synced = provider_syncs.alias("synced")
    query = (
        select(stats.c.provider, stats.c.run_id, synced.c.finished_at, stats.c.name, stats.c.value)
        .join(
            synced,
            and_(
                synced.c.run_id == stats.c.run_id,
                synced.c.provider == stats.c.provider,
                synced.c.status == "synced",
            ),
        )
        .order_by(stats.c.provider, stats.c.run_id, stats.c.id)
    )
    if not history:
        latest = (
            select(provider_syncs.c.provider, func.max(provider_syncs.c.run_id).label("run_id"))
            .where(provider_syncs.c.status == "synced")
            .group_by(provider_syncs.c.provider)
            .subquery("latest")
        )
        query = query.join(
            latest, and_(latest.c.provider == stats.c.provider, latest.c.run_id == stats.c.run_id)
        )
    if provider is not None:
        query = query.where(stats.c.provider == provider)
    return connection.execute(query).all()


def deprecated_models(connection: Connection, providers: Sequence[str] = ()) -> Sequence[AnyRow]:
    """Every listed model whose latest version has a deprecation date, soonest first."""
    query = (
        _with_latest_version(
            models.c.provider,
            models.c.model_id,
            versions.c.display_name,
            versions.c.deprecation_date,
            versions.c.successor,
            versions.c.field_sources,
        )
        .where(models.c.removed_at.is_(None), versions.c.deprecation_date.is_not(None))
        .order_by(versions.c.deprecation_date, models.c.provider, models.c.model_id)
    )
    if providers:
        query = query.where(models.c.provider.in_(providers))
    return connection.execute(query).all()


def listed_model_ids(connection: Connection) -> list[tuple[str, str]]:
    """(provider, model id) of every model some provider lists now."""
    query = select(models.c.provider, models.c.model_id).where(models.c.removed_at.is_(None))
    return [(provider, model_id) for provider, model_id in connection.execute(query)]
