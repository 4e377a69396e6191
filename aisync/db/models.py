"""The catalog's tables: a public, documented interface for SQL reporting.

Migrations own the schema (`migrations/`); these models describe it for queries and for
`alembic check`. Times are stored as naive UTC and read back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database on every backend; aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Microseconds on MySQL/MariaDB too, whose DATETIME drops them by default.

        The MySQL dialect is imported here, not at the top: loading it costs every run
        ~25 ms, and only MySQL runs need it.
        """
        if dialect.name == "mysql":
            from sqlalchemy.dialects import mysql

            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("aisync stores aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        # None is SQL NULL, not the JSON text `null`: `WHERE pricing IS NULL` must work.
        dict[str, Any]: JSON(none_as_null=True),
        list[str]: JSON(none_as_null=True),
        float: Double(),
        str: String(255),
    }


class SyncRun(Base):
    """One invocation of `sync-models` (or `Syncer.sync_models`)."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    #: running, succeeded, partial, failed, aborted
    status: Mapped[str] = mapped_column(String(16))
    forced: Mapped[bool]
    #: The `--provider` names asked for, or NULL for "every available provider".
    requested_providers: Mapped[list[str] | None]
    exit_code: Mapped[int | None]
    aisync_version: Mapped[str] = mapped_column(String(32))


class ProviderSync(Base):
    """The outcome of one provider instance within one run."""

    __tablename__ = "provider_syncs"
    __table_args__ = (Index("ix_provider_syncs_provider_status", "provider", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    provider: Mapped[str] = mapped_column(String(100))
    #: synced, skipped, failed
    status: Mapped[str] = mapped_column(String(16))
    #: Why it was skipped or failed in one word (cache_valid); the message is in `error`.
    reason: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    models_found: Mapped[int | None]
    models_added: Mapped[int] = mapped_column(default=0)
    models_changed: Mapped[int] = mapped_column(default=0)
    models_removed: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    duration_ms: Mapped[int]


class Model(Base):
    """A model a provider instance has listed at least once."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("provider", "model_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    #: Set when a successful listing no longer has the model; NULL while it is listed.
    removed_at: Mapped[datetime | None]


class ModelVersion(Base):
    """What a provider said about a model, one row per real change."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[int] = mapped_column(ForeignKey("models.id"))
    version: Mapped[int]
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    #: sha256 over the normalized fields and the raw payload.
    content_hash: Mapped[str] = mapped_column(String(64))
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
    #: As precise as the source says: `2024-09` or `2024-09-30`.
    knowledge_cutoff: Mapped[str | None] = mapped_column(String(32))
    open_weights: Mapped[bool | None]
    #: Price tiers (e.g. above 200k tokens of context), USD per million tokens.
    pricing: Mapped[dict[str, Any] | None]
    #: Field -> where its value came from: `api`, `models.dev`, `litellm`, `override`, ...
    field_sources: Mapped[dict[str, Any] | None]
    #: Field -> {origin: value} for values that lost to the one stored (e.g. a source that
    #: disagrees with the API); shown by `aisync models show --sources`.
    disagreements: Mapped[dict[str, Any] | None]


class ModelOverride(Base):
    """A user's correction of one field of one model; it beats the API and every source.

    Kept in the catalog so every machine sharing it shares them; a row may name a model
    that is not listed (yet): it applies when the model appears.
    """

    __tablename__ = "model_overrides"
    __table_args__ = (UniqueConstraint("provider", "model_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str]
    field: Mapped[str] = mapped_column(String(64))
    #: The value as JSON: a number, text, true/false, a date as `YYYY-MM-DD`, a list or table.
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ModelEvent(Base):
    """Every addition, change and removal, so history survives a model coming and going."""

    __tablename__ = "model_events"
    __table_args__ = (Index("ix_model_events_changed_at", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    model: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    #: added, changed, removed
    change: Mapped[str] = mapped_column(String(16))
    #: The model's version after the event (for `removed`, the last version it had).
    version: Mapped[int]
    changed_at: Mapped[datetime]


class ProviderStat(Base):
    """The statistics `compute_stats` produced for a provider in a run."""

    __tablename__ = "provider_stats"
    __table_args__ = (UniqueConstraint("run_id", "provider", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))
    provider: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float]
