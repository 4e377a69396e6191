"""Typed ORM classes over the catalog's tables, for applications that query it that way.

The schema itself is described once, in Core (`tables.py`): aisync's own code never
imports this module, so the ORM costs nothing at start-up. The annotations are for type
checkers; the columns, their types and nullability come from the tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped

from aisync.db import tables


class Base(DeclarativeBase):
    metadata = tables.metadata


class SyncRun(Base):
    """One invocation of `sync-models` (or `Syncer.sync_models`)."""

    __table__ = tables.runs

    id: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str]
    forced: Mapped[bool]
    requested_providers: Mapped[list[str] | None]
    exit_code: Mapped[int | None]
    aisync_version: Mapped[str]


class ProviderSync(Base):
    """The outcome of one provider instance within one run."""

    __table__ = tables.provider_syncs

    id: Mapped[int]
    run_id: Mapped[int]
    provider: Mapped[str]
    status: Mapped[str]
    reason: Mapped[str | None]
    error: Mapped[str | None]
    models_found: Mapped[int | None]
    models_added: Mapped[int]
    models_changed: Mapped[int]
    models_removed: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    duration_ms: Mapped[int]


class Model(Base):
    """A model a provider instance has listed at least once."""

    __table__ = tables.models

    id: Mapped[int]
    provider: Mapped[str]
    model_id: Mapped[str]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
    version: Mapped[int | None]
    content_hash: Mapped[str | None]
    raw_digest: Mapped[str | None]
    capabilities: Mapped[list[str] | None]
    enriched: Mapped[bool | None]


class ModelVersion(Base):
    """What a provider said about a model, one row per real change."""

    __table__ = tables.versions

    id: Mapped[int]
    model: Mapped[int]
    version: Mapped[int]
    run_id: Mapped[int]
    content_hash: Mapped[str]
    display_name: Mapped[str | None]
    context_window: Mapped[int | None]
    max_output_tokens: Mapped[int | None]
    input_price_per_mtok: Mapped[float | None]
    output_price_per_mtok: Mapped[float | None]
    capabilities: Mapped[list[str]]
    release_date: Mapped[date | None]
    deprecation_date: Mapped[date | None]
    raw: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    max_input_tokens: Mapped[int | None]
    cache_read_price_per_mtok: Mapped[float | None]
    cache_write_price_per_mtok: Mapped[float | None]
    successor: Mapped[str | None]
    knowledge_cutoff: Mapped[str | None]
    open_weights: Mapped[bool | None]
    pricing: Mapped[dict[str, Any] | None]
    field_sources: Mapped[dict[str, Any] | None]
    disagreements: Mapped[dict[str, Any] | None]


class ModelOverride(Base):
    """A user's correction of one field of one model."""

    __table__ = tables.overrides

    id: Mapped[int]
    provider: Mapped[str]
    model_id: Mapped[str]
    field: Mapped[str]
    value: Mapped[Any]
    note: Mapped[str | None]
    created_at: Mapped[datetime]


class ModelEvent(Base):
    """An addition, change or removal of a model."""

    __table__ = tables.events

    id: Mapped[int]
    run_id: Mapped[int]
    model: Mapped[int]
    change: Mapped[str]
    version: Mapped[int]
    changed_at: Mapped[datetime]


class ProviderStat(Base):
    """A statistic `compute_stats` produced for a provider in a run."""

    __table__ = tables.stats

    id: Mapped[int]
    run_id: Mapped[int]
    provider: Mapped[str]
    name: Mapped[str]
    value: Mapped[float]


class Notification(Base):
    """A webhook notification a run owes, and how its delivery went."""

    __table__ = tables.notifications

    id: Mapped[int]
    delivery_id: Mapped[str]
    run_id: Mapped[int]
    url: Mapped[str]
    secret_env: Mapped[str | None]
    body: Mapped[str]
    attempts: Mapped[int]
    last_error: Mapped[str | None]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
