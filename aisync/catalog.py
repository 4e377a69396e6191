"""Read what the syncs recorded: providers, models and their history, runs, changes, stats.

`Catalog` is the read side of the public API and what every reporting command calls. It
never writes and never migrates: a catalog that does not exist yet is an error telling the
user to sync first, instead of an empty database created behind their back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from aisync import provenance, queries
from aisync.catalog_records import (
    RUN_STATUSES,
    SORT_FIELDS,
    VERSION_FIELDS,
    CatalogModel,
    Change,
    FieldChange,
    FieldProvenance,
    ModelEventRecord,
    ModelHistory,
    ModelVersionRecord,
    ProviderStatus,
    ProviderSyncRecord,
    RunRecord,
    StatsSnapshot,
)
from aisync.db.connect import describe, masked_url, open_engine, sqlite_path
from aisync.db.migrate import HEAD_REVISION, current_revision, refuse_unusable
from aisync.errors import AisyncError, ConfigError, DatabaseError, UsageError
from aisync.export import export_row
from aisync.records import CAPABILITIES
from aisync.settings import (
    Settings,
    duration_seconds,
    load_settings,
    parse_duration,
    redact_userinfo,
)

#: The largest run id the catalog can hold (an INTEGER column), and the largest limit.
MAX_ID = 2**31 - 1


class NotFound(AisyncError):
    """The model or run asked for is not in the catalog."""


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
        from aisync.discovery import discover
        from aisync.plugins import get_plugin_manager

        plugins = get_plugin_manager(self._plugins, entry_points=self._entry_points)
        discovery = discover(plugins, self.settings)
        with self._connect() as connection:
            known = queries.known_providers(connection)
            listed = queries.listed_counts(connection)
            outcomes = _outcomes_by_provider(queries.latest_outcomes(connection))
        statuses = {}
        for provider in discovery.providers:
            plugin = discovery.origins.get(provider.type)
            dist = plugins.distributions.get(plugin or "")
            statuses[provider.name] = ProviderStatus(
                name=provider.name,
                display_name=provider.display_name,
                type=provider.type,
                plugin=plugin,
                distribution=dist[0] if dist else None,
                distribution_version=dist[1] if dist else None,
                configured=True,
                credentials_present=provider.credentials_present,
                credential_sources=provider.api_key_sources,
                base_url=provider.base_url and redact_userinfo(provider.base_url),
                enabled=provider.enabled,
                **_activity(provider.name, listed, outcomes),
            )
        for name in known:
            if name not in statuses:
                statuses[name] = _unconfigured(name, listed, outcomes)
        for skipped in discovery.skipped:
            statuses.setdefault(skipped.name, _broken(skipped.name, skipped.reason))
        return [statuses[name] for name in sorted(statuses)]

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
        if capability is not None and capability not in CAPABILITIES:
            raise UsageError(
                f"Unknown capability '{capability}'. Use one of: {', '.join(CAPABILITIES)}"
            )
        field, descending = sort.removeprefix("-"), sort.startswith("-")
        if field not in SORT_FIELDS:
            raise UsageError(f"Cannot sort by '{field}'. Use one of: {', '.join(SORT_FIELDS)}")
        with self._connect() as connection:
            rows = queries.catalog_models(
                connection,
                provider=provider,
                capability=capability,
                search=search,
                include_removed=include_removed,
                sort=field,
                descending=descending,
            )
            if not rows and provider is not None:
                _check_known(connection, provider)
        return [_model(row) for row in rows]

    def model(self, provider: str, model_id: str) -> CatalogModel:
        """One model with its latest version, listed or removed; `NotFound` if never seen."""
        return self.model_history(provider, model_id).model

    def model_history(self, provider: str, model_id: str) -> ModelHistory:
        """Every version of a model (with what changed from the one before) and its events."""
        with self._connect() as connection:
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
            model=_model(rows[0]),
            versions=tuple(history),
            events=tuple(
                ModelEventRecord(e.change, e.version, e.run_id, e.changed_at) for e in event_rows
            ),
        )

    def runs(self, *, limit: int | None = 20, status: str | None = None) -> list[RunRecord]:
        """Sync runs, newest first, each with its providers' outcomes."""
        if status is not None and status not in RUN_STATUSES:
            choices = ", ".join(RUN_STATUSES)
            raise UsageError(f"Unknown run status '{status}'. Use one of: {choices}")
        if limit is not None:
            _checked_id(limit, "limit")
        with self._connect() as connection:
            return _runs(connection, queries.sync_runs(connection, limit=limit, status=status))

    def run(self, run_id: int) -> RunRecord:
        """One run with its providers' outcomes; `NotFound` if there is no such run."""
        _checked_id(run_id, "run id")
        with self._connect() as connection:
            found = _runs(connection, queries.sync_runs(connection, run_id=run_id))
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
            _checked_id(run_id, "run id")
        if latest_per_model is not None:
            _checked_id(latest_per_model, "limit")
        with self._connect() as connection:
            rows = queries.changes(
                connection,
                since=cutoff,
                provider=provider,
                run_id=run_id,
                latest=latest_per_model,
            )
        return [_change(row._mapping) for row in rows]

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

    def export_rows(self, *, provider: str | None = None) -> list[dict[str, Any]]:
        """The current catalog in the documented export shape: one flat dict per model,
        times and dates in ISO 8601, capabilities a list (`aisync.export.EXPORT_FIELDS`)."""
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


def parse_since(value: datetime | timedelta | str, now: datetime | None = None) -> datetime:
    """The UTC time meant by `7d`, `12h`, `30m`, an ISO date or time, or a `timedelta` ago.

    Times without a zone are local time, as a person typing `--since 2026-11-01` means.
    """
    now = now or datetime.now(UTC)
    if isinstance(value, timedelta):
        return now - value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    text = value.strip()
    try:
        duration_seconds(text)
    except ConfigError:
        return _moment(text)
    try:
        return now - timedelta(seconds=parse_duration(text, "time"))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _moment(text: str) -> datetime:
    """The UTC time of an ISO date or time (local time unless it names a zone)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"Invalid time: {text!r} (use 7d, 12h, 30m or an ISO date like 2026-11-01)"
        ) from None
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        # Year 1 or 9999 seen from another zone has no UTC time Python can hold.
        raise UsageError(f"Invalid time: {text!r} (out of range)") from None


def _check_known(connection: Connection, provider: str) -> None:
    """`models --provider opnai` is a typo to point out, not "No models match."""
    known = queries.known_providers(connection)
    if provider not in known:
        raise NotFound(f"Unknown provider '{provider}'. Known: {', '.join(known) or 'none'}")


def _checked_id(value: int, what: str) -> int:
    """A run id or limit the database can compare: ids are 32-bit on PostgreSQL and
    MariaDB, and a bigger number would fail inside the driver."""
    if not 1 <= value <= MAX_ID:
        raise UsageError(f"Invalid {what}: {value} (use a number from 1 to {MAX_ID})")
    return value


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


def _revision_problem(revision: str | None, where: object) -> str:
    if revision is None:
        return f"No catalog at {where}; run `aisync sync-models` first"
    return (
        f"The catalog at {where} is at schema revision {revision}, this aisync reads "
        f"{HEAD_REVISION}: run `aisync db upgrade` (or upgrade aisync)"
    )


def _fields(values: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """The version fields of a row, typed as `ModelFields` holds them."""
    result = {name: values[prefix + name] for name in VERSION_FIELDS}
    result["capabilities"] = tuple(result["capabilities"] or ())
    result["field_sources"] = dict(values[prefix + "field_sources"] or {})
    return result


def _model(row: Row[Any]) -> CatalogModel:
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


def _change(values: Mapping[Any, Any]) -> Change:
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


def _runs(connection: Connection, rows: Iterable[Row[Any]]) -> list[RunRecord]:
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


def _outcomes_by_provider(rows: Iterable[Row[Any]]) -> dict[str, dict[str, Row[Any]]]:
    """provider -> status -> its latest `provider_syncs` row with that status."""
    result: dict[str, dict[str, Row[Any]]] = {}
    for row in rows:
        result.setdefault(row.provider, {})[row.status] = row
    return result


def _activity(
    name: str, listed: Mapping[str, int], outcomes: Mapping[str, Mapping[str, Row[Any]]]
) -> dict[str, Any]:
    latest = outcomes.get(name, {})
    synced, failed = latest.get("synced"), latest.get("failed")
    last = max(latest.values(), key=lambda row: row.id, default=None)
    current_failure = failed is not None and (synced is None or failed.id > synced.id)
    return {
        "last_synced_at": synced.finished_at if synced is not None else None,
        "models_listed": listed.get(name, 0),
        "last_status": last.status if last is not None else None,
        "last_error": failed.error if current_failure and failed is not None else None,
    }


def _unconfigured(
    name: str, listed: Mapping[str, int], outcomes: Mapping[str, Mapping[str, Row[Any]]]
) -> ProviderStatus:
    return ProviderStatus(
        name=name,
        display_name=None,
        type=None,
        plugin=None,
        distribution=None,
        distribution_version=None,
        configured=False,
        credentials_present=False,
        credential_sources=(),
        base_url=None,
        enabled=False,
        **_activity(name, listed, outcomes),
    )


def _broken(name: str, reason: str) -> ProviderStatus:
    return ProviderStatus(
        name=name,
        display_name=None,
        type=None,
        plugin=name,
        distribution=None,
        distribution_version=None,
        configured=False,
        credentials_present=False,
        credential_sources=(),
        base_url=None,
        enabled=False,
        last_synced_at=None,
        models_listed=0,
        last_status=None,
        last_error=None,
        load_error=reason,
    )
