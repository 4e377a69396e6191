"""Read what the syncs recorded: providers, models and their history, runs, changes, stats.

`Catalog` is the read side of the public API and what every reporting command calls. It
never writes and never migrates: a catalog that does not exist yet is an error telling the
user to sync first, instead of an empty database created behind their back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.exc import SQLAlchemyError

from aisync.catalog import deprecations, provenance, queries
from aisync.catalog.deprecations import DeprecationReport
from aisync.catalog.export import export_columns, export_records, export_row
from aisync.catalog.history import change_record, check_known, model_history
from aisync.catalog.records import (
    RUN_STATUSES,
    SORT_FIELDS,
    CatalogModel,
    Change,
    FieldProvenance,
    ModelHistory,
    ProviderStatus,
    RunRecord,
    StatsSnapshot,
    catalog_models,
)
from aisync.catalog.runs import checked_id, run_records
from aisync.catalog.since import parse_since
from aisync.catalog.statuses import provider_statuses
from aisync.db.connect import describe, masked_url, open_engine, sqlite_path
from aisync.db.migrate import HEAD_REVISION, current_revision, refuse_unusable
from aisync.errors import DatabaseError, NotFound, UsageError
from aisync.records import CAPABILITIES
from aisync.settings import (
    Settings,
    load_settings,
)

T = TypeVar("T")


class Catalog:
    """Answers questions from a catalog database, as frozen records.

    >>> catalog = Catalog("sqlite:///catalog.db")
    >>> [m.model_id for m in catalog.models(provider="mock")]
    ['mock-advanced', 'mock-basic', 'mock-model']
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        plugins: Iterable[object] = (),
        entry_points: bool = True,
    ) -> None:
        """
        :param database_url: overrides the settings' database URL.
        :param settings: defaults to `load_settings()` (environment and config file).
        :param plugins: extra plugin modules or objects, for `providers()`.
        :param entry_points: load plugins from the `aisync` entry-point group for `providers()`.
        """
        base = settings or load_settings({"database_url": database_url})
        if database_url is not None:
            base = dataclasses.replace(base, database_url=database_url)
        self.settings = base
        self._plugins = tuple(plugins)
        self._entry_points = entry_points
        self._engine: Engine | None = None

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def providers(self) -> list[ProviderStatus]:
        """Every configured provider, every provider the catalog knows, every broken plugin."""
        from aisync.sync.discovery import discover
        from aisync.sync.plugins import get_plugin_manager

        plugins = get_plugin_manager(self._plugins, entry_points=self._entry_points)
        discovery = discover(plugins, self.settings)
        with self._connect() as connection:
            return provider_statuses(connection, discovery, plugins)

    def models(
        self,
        *,
        provider: str | None = None,
        capability: str | None = None,
        search: str | None = None,
        include_removed: bool = False,
        sort: str = "provider",
    ) -> list[CatalogModel]:
        """The current catalog (`current_models`), filtered and sorted.

        :param capability: a word of `aisync.CAPABILITIES`, e.g. `vision`.
        :param search: part of the model id or display name (A-Z match either case).
        :param include_removed: also the models providers no longer list.
        :param sort: a field of `SORT_FIELDS`; `-field` sorts descending. Missing values
            always come last.
        """
        return list(
            self.iter_models(
                provider=provider,
                capability=capability,
                search=search,
                include_removed=include_removed,
                sort=sort,
            )
        )

    def iter_models(
        self,
        *,
        provider: str | None = None,
        capability: str | None = None,
        search: str | None = None,
        include_removed: bool = False,
        sort: str = "provider",
        limit: int | None = None,
    ) -> Iterator[CatalogModel]:
        """`models()` one record at a time, as the database returns the rows: for catalogs
        too big to hold in memory. Sorted by the database, so the first record comes
        before the last row is read.

        The arguments are checked at once (`UsageError`); the query runs on the first
        `next()`, and a connection stays open until the iterator is exhausted or closed
        (use it in a `for` loop or close it). An unknown `provider` raises `NotFound`
        once no row came back.

        :param limit: at most this many models (after sorting).
        """
        query = self._models_query(provider, capability, search, include_removed, sort, limit)
        return self._stream(query, catalog_models, provider)

    def iter_export_rows(self, *, provider: str | None = None) -> Iterator[dict[str, Any]]:
        """`export_rows()` one dict at a time, streamed like `iter_models()`: what
        `aisync export` writes, in bounded memory whatever the size of the catalog."""
        query = self._models_query(provider, None, None, False, "provider", None)
        return self._stream(query, export_records, provider)

    def iter_export_columns(self, *, provider: str | None = None) -> Iterator[list[Sequence[Any]]]:
        """`iter_export_rows()` a batch at a time, each batch as its columns: the values of
        `EXPORT_FIELDS` in order, as `export_rows()` has them. For writers that need no
        dict per row (`aisync.catalog.export.write_export_columns`)."""
        query = self._models_query(provider, None, None, False, "provider", None)
        return self._batches(query, export_columns, provider)

    def _models_query(
        self,
        provider: str | None,
        capability: str | None,
        search: str | None,
        include_removed: bool,
        sort: str,
        limit: int | None,
    ) -> Select[Any]:
        if capability is not None and capability not in CAPABILITIES:
            raise UsageError(
                f"Unknown capability '{capability}'. Use one of: {', '.join(CAPABILITIES)}"
            )
        field, descending = sort.removeprefix("-"), sort.startswith("-")
        if field not in SORT_FIELDS:
            raise UsageError(f"Cannot sort by '{field}'. Use one of: {', '.join(SORT_FIELDS)}")
        if limit is not None:
            checked_id(limit, "limit")
        return queries.catalog_models_query(
            provider=provider,
            capability=capability,
            search=search,
            include_removed=include_removed,
            sort=field,
            descending=descending,
            limit=limit,
        )

    def _stream(
        self,
        query: Select[Any],
        convert: Callable[[dict[str, Sequence[Any]]], list[T]],
        provider: str | None,
    ) -> Iterator[T]:
        """The rows of a catalog query, read through one open connection and converted a
        batch at a time (`convert` gets the batch's columns by name)."""
        for batch in self._batches(query, convert, provider):
            yield from batch

    def _batches(
        self,
        query: Select[Any],
        convert: Callable[[dict[str, Sequence[Any]]], T],
        provider: str | None,
    ) -> Iterator[T]:
        """Each batch of a catalog query's rows, read through one open connection, as
        `convert` makes it of the batch's columns by name."""
        with self._connect() as connection:
            found = False
            for columns in queries.streamed_columns(connection, query):
                found = True
                yield convert(columns)
            if not found and provider is not None:
                check_known(connection, provider)

    def model(self, provider: str, model_id: str) -> CatalogModel:
        """One model with its latest version, listed or removed; `NotFound` if never seen."""
        return self.model_history(provider, model_id).model

    def model_history(self, provider: str, model_id: str) -> ModelHistory:
        """Every version of a model (with what changed from the one before) and its events."""
        with self._connect() as connection:
            return model_history(connection, provider, model_id)

    def runs(self, *, limit: int | None = 20, status: str | None = None) -> list[RunRecord]:
        """Sync runs, newest first, each with its providers' outcomes."""
        if status is not None and status not in RUN_STATUSES:
            choices = ", ".join(RUN_STATUSES)
            raise UsageError(f"Unknown run status '{status}'. Use one of: {choices}")
        if limit is not None:
            checked_id(limit, "limit")
        with self._connect() as connection:
            return run_records(
                connection, queries.sync_runs(connection, limit=limit, status=status)
            )

    def run(self, run_id: int) -> RunRecord:
        """One run with its providers' outcomes; `NotFound` if there is no such run."""
        checked_id(run_id, "run id")
        with self._connect() as connection:
            found = run_records(connection, queries.sync_runs(connection, run_id=run_id))
        if not found:
            raise NotFound(f"No sync run {run_id} in the catalog")
        return found[0]

    def changes(
        self,
        *,
        since: datetime | timedelta | str | None = None,
        provider: str | None = None,
        run_id: int | None = None,
        latest_per_model: int | None = None,
    ) -> list[Change]:
        """The model changelog, newest first: additions, changes (field by field), removals.

        :param since: a time (aware, or naive local time), an age (`timedelta`), or text:
            `7d`, `12h`, `30m` or an ISO date or time.
        :param latest_per_model: only each model's newest events, at most this many (the
            catalog page's history, bounded however long the catalog's history is).
        """
        cutoff = parse_since(since) if since is not None else None
        if run_id is not None:
            checked_id(run_id, "run id")
        if latest_per_model is not None:
            checked_id(latest_per_model, "limit")
        with self._connect() as connection:
            rows = queries.changes(
                connection,
                since=cutoff,
                provider=provider,
                run_id=run_id,
                latest=latest_per_model,
            )
        return [change_record(row._mapping) for row in rows]

    def stats(self, *, provider: str | None = None, history: bool = False) -> list[StatsSnapshot]:
        """Each provider's statistics from its latest successful sync, or from every
        successful sync with `history` (oldest first), grouped by provider."""
        with self._connect() as connection:
            rows = queries.provider_stats(connection, provider=provider, history=history)
        figures: dict[tuple[str, int], dict[str, float]] = {}
        synced_at: dict[tuple[str, int], datetime] = {}
        for row in rows:
            key = (row.provider, row.run_id)
            figures.setdefault(key, {})[row.name] = row.value
            synced_at[key] = row.finished_at
        return [StatsSnapshot(p, run, synced_at[(p, run)], f) for (p, run), f in figures.items()]

    def model_sources(self, provider: str, model_id: str) -> list[FieldProvenance]:
        """Per enrichable field of the model's latest version: its value, where it came from
        and what other origins offered that lost; `NotFound` if the model was never seen."""
        with self._connect() as connection:
            found = provenance.field_provenance(connection, provider, model_id)
        if found is None:
            raise NotFound(f"No model '{model_id}' from provider '{provider}' in the catalog")
        return found

    def deprecations(
        self,
        *,
        within: int | timedelta | str | None = None,
        providers: Iterable[str] = (),
        models: Iterable[str] | None = None,
        as_of: date | None = None,
    ) -> DeprecationReport:
        """Every listed model with a known deprecation date, soonest first, with days left,
        successor and where the date came from (`aisync.catalog.deprecations`).

        :param within: only dates at most this far ahead (past dates always count): days
            as an int or `timedelta`, or text `90d`, `12w`, `1y`.
        :param providers: only these provider instances.
        :param models: only these ids (`provider/id` or a bare id for any provider); ids no
            provider lists now are returned in `not_in_catalog`.
        :param as_of: the day to count from; today in UTC by default.
        """
        window = None if within is None else deprecations.parse_window(within)
        day = as_of or datetime.now(UTC).date()
        names = tuple(providers)
        with self._connect() as connection:
            for name in names:
                check_known(connection, name)
            rows = queries.deprecated_models(connection, names)
            chosen, missing = (
                (None, ())
                if models is None
                else deprecations.selected(tuple(models), queries.listed_model_ids(connection))
            )
        found = (
            deprecations.deprecation(
                row.provider,
                row.model_id,
                row.display_name,
                row.deprecation_date,
                row.successor,
                dict(row.field_sources or {}),
                day,
            )
            for row in rows
            if chosen is None or (row.provider, row.model_id) in chosen
        )
        return DeprecationReport(
            as_of=day,
            within_days=window,
            deprecations=tuple(d for d in found if window is None or d.days_left <= window),
            not_in_catalog=missing,
        )

    def export_rows(self, *, provider: str | None = None) -> list[dict[str, Any]]:
        """The current catalog in the documented export shape: one flat dict per model,
        times and dates in ISO 8601, capabilities a list (`aisync.catalog.export.EXPORT_FIELDS`)."""
        return [export_row(model) for model in self.models(provider=provider)]

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        engine = self._open()
        try:
            with engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise DatabaseError(f"Cannot read the catalog: {describe(exc)}") from None

    def _open(self) -> Engine:
        """The engine, after checking there is a catalog at the current schema revision."""
        if self._engine is not None:
            return self._engine
        url = self.settings.database_url
        path = sqlite_path(url)
        if path is not None and not path.is_file():
            raise DatabaseError(f"No catalog at {path}; run `aisync sync-models` first")
        engine = open_engine(url, create=False)
        try:
            with engine.connect() as connection:
                revision = current_revision(connection)
                refuse_unusable(connection, revision)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise DatabaseError(f"Cannot open the catalog: {describe(exc)}") from None
        except DatabaseError:
            engine.dispose()
            raise
        if revision != HEAD_REVISION:
            engine.dispose()
            raise DatabaseError(_revision_problem(revision, path or masked_url(url)))
        self._engine = engine
        return engine


def _revision_problem(revision: str | None, where: object) -> str:
    if revision is None:
        return f"No catalog at {where}; run `aisync sync-models` first"
    return (
        f"The catalog at {where} is at schema revision {revision}, this aisync reads "
        f"{HEAD_REVISION}: run `aisync db upgrade` (or upgrade aisync)"
    )
