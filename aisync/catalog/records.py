"""The records `Catalog` returns: frozen dataclasses, never ORM objects bound to a session.

`ModelFields` is the one list of what a model version stores: the queries select its
fields, `aisync export` writes them and `models show` diffs them. A new `model_versions`
column becomes part of every report by adding it there. `field_sources` rides along with
every set of fields (it says where each value came from) but is not itself a field that
is diffed: a change of origin shows on the field whose origin changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class ModelFields:
    """What a provider says about a model, as one `model_versions` row stores it."""

    display_name: str | None = None
    context_window: int | None = None
    #: Kept apart from `context_window`: sources publish one, the other or both.
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    #: USD per million tokens, like every price.
    input_price_per_mtok: float | None = None
    output_price_per_mtok: float | None = None
    cache_read_price_per_mtok: float | None = None
    cache_write_price_per_mtok: float | None = None
    capabilities: tuple[str, ...] = ()
    release_date: date | None = None
    deprecation_date: date | None = None
    successor: str | None = None
    #: As precise as its source: `2024-09` or `2024-09-30`.
    knowledge_cutoff: str | None = None
    open_weights: bool | None = None
    #: Price tiers as a source publishes them (USD per million tokens).
    pricing: Mapping[str, Any] | None = None
    #: Field -> where its value came from: `api`, `models.dev`, `litellm`, `override`, or a
    #: plugin's source. A field that is missing here has no value.
    field_sources: Mapping[str, str] = field(default_factory=dict)


#: The `model_versions` columns every model report carries and diffs, in display order.
VERSION_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(ModelFields) if f.name != "field_sources"
)

#: What `Catalog.models(sort=...)` accepts (`-field` for descending).
SORT_FIELDS: tuple[str, ...] = (
    "provider",
    "model_id",
    "first_seen_at",
    "last_seen_at",
    *(name for name in VERSION_FIELDS if name not in ("capabilities", "pricing")),
)

#: The `sync_runs.status` values.
RUN_STATUSES: tuple[str, ...] = ("running", "succeeded", "partial", "failed", "aborted")


@dataclass(frozen=True, kw_only=True)
class CatalogModel(ModelFields):
    """A model with its latest version: one row of `current_models` (or a removed model)."""

    provider: str
    model_id: str
    version: int
    first_seen_at: datetime
    last_seen_at: datetime
    #: None while the provider lists the model.
    removed_at: datetime | None = None
    #: When the latest version was recorded.
    version_created_at: datetime | None = None


#: The fields of a `CatalogModel`, in the order `catalog_models` takes them.
CATALOG_MODEL_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CatalogModel))


def catalog_models(columns: Mapping[str, Sequence[Any]]) -> list[CatalogModel]:
    """`CatalogModel`s of a batch of catalog query rows given as its columns by name (other
    columns are left out): capabilities a tuple, no `field_sources` an empty dict."""
    found = dict(columns)
    found["capabilities"] = [tuple(value or ()) for value in found["capabilities"]]
    found["field_sources"] = [
        value if type(value) is dict else dict(value or {}) for value in found["field_sources"]
    ]
    values = zip(*(found[name] for name in CATALOG_MODEL_FIELDS), strict=True)
    return frozen_records(CatalogModel, CATALOG_MODEL_FIELDS, values)


def frozen_records(cls: type[T], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[T]:
    """Records of the frozen dataclass `cls` from rows of every field's value (in `names`
    order), equal to `cls(**dict(zip(names, row)))`.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`, which for
    the 23 fields of a `CatalogModel` is 15 µs; a streamed million of them add up. With no
    `__post_init__` and no default left to fill, setting the instance's dict at once makes
    the same record.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if sorted(names) != sorted(f.name for f in fields) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} cannot be built from {names}")
    new = object.__new__
    records = []
    for values in rows:
        record = new(cls)
        record.__dict__.update(zip(names, values, strict=True))
        records.append(record)
    return records


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions of a model, in value or in origin."""

    field: str
    old: Any
    new: Any
    #: Where each value came from (`api`, `models.dev`, `override`, ...); None for no value.
    old_source: str | None = None
    new_source: str | None = None


@dataclass(frozen=True)
class FieldProvenance:
    """One field of a model's latest version, where its value came from and who disagreed.

    `value` and `source` are both None when nothing (API, source or override) knows the
    field, which is how a reader tells "unknown" from "zero".
    """

    field: str
    value: Any
    source: str | None
    #: origin -> the value it offered that lost to `value` (a source the API overrules,
    #: the API under an override).
    others: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ModelVersionRecord(ModelFields):
    """One version of a model and what changed from the version before it."""

    version: int
    run_id: int
    created_at: datetime
    changes: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class ModelEventRecord:
    """An `added`, `changed` or `removed` event of one model."""

    change: str
    version: int
    run_id: int
    changed_at: datetime


@dataclass(frozen=True)
class ModelHistory:
    model: CatalogModel
    #: Oldest first; each version carries its differences from the previous one.
    versions: tuple[ModelVersionRecord, ...]
    #: Oldest first.
    events: tuple[ModelEventRecord, ...]


@dataclass(frozen=True)
class Change:
    """One line of the model changelog (`aisync changes`)."""

    changed_at: datetime
    run_id: int
    provider: str
    model_id: str
    #: added, changed or removed
    change: str
    version: int
    #: For `changed`: every field that differs from the previous version.
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class ProviderSyncRecord:
    """One provider's outcome within a run (a `provider_syncs` row)."""

    provider: str
    status: str
    reason: str | None
    error: str | None
    models_found: int | None
    models_added: int
    models_changed: int
    models_removed: int
    started_at: datetime
    finished_at: datetime
    duration_ms: int


@dataclass(frozen=True)
class RunRecord:
    """A sync run and its providers' outcomes."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    forced: bool
    requested_providers: tuple[str, ...] | None
    exit_code: int | None
    aisync_version: str
    providers: tuple[ProviderSyncRecord, ...] = ()

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


@dataclass(frozen=True)
class ProviderStatus:
    """A provider as `aisync providers` shows it: configuration and catalog in one place.

    Providers known only from the catalog (their plugin is gone) have `plugin` None and
    `configured` False; plugins that failed to load appear with `load_error`.
    """

    name: str
    display_name: str | None
    type: str | None
    plugin: str | None
    distribution: str | None
    distribution_version: str | None
    configured: bool
    credentials_present: bool
    #: Variables that can hold the key, strongest first (what to set when it is missing).
    credential_sources: tuple[str, ...]
    base_url: str | None
    enabled: bool
    last_synced_at: datetime | None
    models_listed: int
    #: The status of the latest attempt (synced, failed, skipped), None if never tried.
    last_status: str | None
    #: The error of the latest failed sync when no successful sync came after it.
    last_error: str | None
    load_error: str | None = None


@dataclass(frozen=True)
class StatsSnapshot:
    """The statistics one successful sync recorded for a provider, in recorded order."""

    provider: str
    run_id: int
    synced_at: datetime
    figures: Mapping[str, float] = field(default_factory=dict)


def as_dict(record: Any) -> Any:
    """A record as plain JSON data: ISO 8601 times (UTC) and dates, lists for tuples."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        values = {f.name: as_dict(getattr(record, f.name)) for f in dataclasses.fields(record)}
        if isinstance(record, RunRecord):
            values["duration_ms"] = record.duration_ms
        return values
    if isinstance(record, datetime | date):
        return record.isoformat()
    if isinstance(record, Mapping):
        return {str(k): as_dict(v) for k, v in record.items()}
    if isinstance(record, tuple | list):
        return [as_dict(v) for v in record]
    return record
