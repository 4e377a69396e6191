"""The catalog's tables in SQLAlchemy Core: a public, documented interface for SQL reporting.

Migrations own the schema (`migrations/`); these tables describe it for the bulk writes,
the reports and `alembic check`. They are Core, not ORM: the sync and every catalog
command work on them without importing SQLAlchemy's ORM, about 80 ms of each command's
start-up. `models.py` maps typed ORM classes onto the same tables for applications that
want them. Times are stored as naive UTC and read back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


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


class LongText(TypeDecorator[str]):
    """Text without MySQL's 64 KB limit of TEXT: LONGTEXT there, TEXT elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """The MySQL dialect is imported only on MySQL, as in `UTCDateTime`."""
        if dialect.name == "mysql":
            from sqlalchemy.dialects import mysql

            return dialect.type_descriptor(mysql.LONGTEXT())
        return self.impl_instance


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _when(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


def _json(name: str, *, nullable: bool = True) -> Column[Any]:
    """None is SQL NULL, not the JSON text `null`: `WHERE pricing IS NULL` must work."""
    return Column(name, JSON(none_as_null=True), nullable=nullable)


def _text(name: str, length: int = 255, *, nullable: bool = False) -> Column[str]:
    return Column(name, String(length), nullable=nullable)


def _int(name: str, *, nullable: bool = False, **kwargs: Any) -> Column[int]:
    return Column(name, Integer, nullable=nullable, **kwargs)


def _price(name: str) -> Column[float]:
    return Column(name, Double(), nullable=True)


#: One invocation of `sync-models` (or `Syncer.sync_models`).
runs = Table(
    "sync_runs",
    metadata,
    _id(),
    _when("started_at"),
    _when("finished_at", nullable=True),
    # running, succeeded, partial, failed, aborted
    _text("status", 16),
    Column("forced", Boolean, nullable=False),
    # The `--provider` names asked for, or NULL for "every available provider".
    _json("requested_providers"),
    _int("exit_code", nullable=True),
    _text("aisync_version", 32),
)

#: The outcome of one provider instance within one run.
provider_syncs = Table(
    "provider_syncs",
    metadata,
    _id(),
    Column("run_id", Integer, ForeignKey("sync_runs.id"), nullable=False, index=True),
    _text("provider", 100),
    # synced, skipped, failed
    _text("status", 16),
    # Why it was skipped or failed in one word (cache_valid); the message is in `error`.
    _text("reason", 32, nullable=True),
    Column("error", Text, nullable=True),
    _int("models_found", nullable=True),
    _int("models_added", default=0),
    _int("models_changed", default=0),
    _int("models_removed", default=0),
    _when("started_at"),
    _when("finished_at"),
    _int("duration_ms"),
    Index("ix_provider_syncs_provider_status", "provider", "status"),
)

#: A model a provider instance has listed at least once.
models = Table(
    "models",
    metadata,
    _id(),
    _text("provider", 100),
    _text("model_id"),
    _when("first_seen_at"),
    _when("last_seen_at"),
    # Set when a successful listing no longer has the model; NULL while it is listed.
    _when("removed_at", nullable=True),
    # A copy of the current version's number, content hash and capabilities, so that a
    # re-sync reads this table alone (migration 0004); NULL only in rows written by hand.
    _int("version", nullable=True),
    _text("content_hash", 64, nullable=True),
    # The digest of the raw item a raw-first plugin listed it with (`aisync.sync.raw`).
    _text("raw_digest", 64, nullable=True),
    _json("capabilities"),
    # Whether the current version holds something enrichment must see again: a value not
    # from the API, or a disagreement.
    Column("enriched", Boolean, nullable=True),
    UniqueConstraint("provider", "model_id"),
)

#: What a provider said about a model, one row per real change.
versions = Table(
    "model_versions",
    metadata,
    _id(),
    Column("model", Integer, ForeignKey("models.id"), nullable=False),
    _int("version"),
    Column("run_id", Integer, ForeignKey("sync_runs.id"), nullable=False, index=True),
    # sha256 over the normalized fields and the raw payload.
    _text("content_hash", 64),
    _text("display_name", nullable=True),
    _int("context_window", nullable=True),
    _int("max_output_tokens", nullable=True),
    _price("input_price_per_mtok"),
    _price("output_price_per_mtok"),
    _json("capabilities", nullable=False),
    Column("release_date", Date, nullable=True),
    Column("deprecation_date", Date, nullable=True),
    _json("raw", nullable=False),
    _when("created_at"),
    _int("max_input_tokens", nullable=True),
    _price("cache_read_price_per_mtok"),
    _price("cache_write_price_per_mtok"),
    _text("successor", nullable=True),
    # As precise as the source says: `2024-09` or `2024-09-30`.
    _text("knowledge_cutoff", 32, nullable=True),
    Column("open_weights", Boolean, nullable=True),
    # Price tiers (e.g. above 200k tokens of context), USD per million tokens.
    _json("pricing"),
    # Field -> where its value came from: `api`, `models.dev`, `litellm`, `override`, ...
    _json("field_sources"),
    # Field -> {origin: value} for values that lost to the one stored (e.g. a source that
    # disagrees with the API); shown by `aisync models show --sources`.
    _json("disagreements"),
    UniqueConstraint("model", "version"),
)

#: A user's correction of one field of one model; it beats the API and every source. Kept
#: in the catalog so every machine sharing it shares them; a row may name a model that is
#: not listed (yet): it applies when the model appears.
overrides = Table(
    "model_overrides",
    metadata,
    _id(),
    _text("provider", 100),
    _text("model_id"),
    _text("field", 64),
    # The value as JSON: a number, text, true/false, a date as `YYYY-MM-DD`, a list or table.
    Column("value", JSON, nullable=False),
    Column("note", Text, nullable=True),
    _when("created_at"),
    UniqueConstraint("provider", "model_id", "field"),
)

#: Every addition, change and removal, so history survives a model coming and going.
events = Table(
    "model_events",
    metadata,
    _id(),
    Column("run_id", Integer, ForeignKey("sync_runs.id"), nullable=False, index=True),
    Column("model", Integer, ForeignKey("models.id"), nullable=False, index=True),
    # added, changed, removed
    _text("change", 16),
    # The model's version after the event (for `removed`, the last version it had).
    _int("version"),
    _when("changed_at"),
    Index("ix_model_events_changed_at", "changed_at"),
)

#: The statistics `compute_stats` produced for a provider in a run.
stats = Table(
    "provider_stats",
    metadata,
    _id(),
    Column("run_id", Integer, ForeignKey("sync_runs.id"), nullable=False),
    _text("provider", 100),
    _text("name", 100),
    Column("value", Double(), nullable=False),
    UniqueConstraint("run_id", "provider", "name"),
)

#: The webhook outbox: one row per notification a closed run owes a receiver, written in
#: the transaction that closes the run and marked delivered once a receiver took it.
notifications = Table(
    "notifications",
    metadata,
    _id(),
    # Sent as `X-Aisync-Delivery` on every attempt, so a receiver can drop duplicates.
    _text("delivery_id", 36),
    Column("run_id", Integer, ForeignKey("sync_runs.id"), nullable=False, index=True),
    _text("url", 2048),
    # The name of the environment variable holding the signing secret, never the secret.
    _text("secret_env", nullable=True),
    # The exact JSON text that is posted and signed.
    Column("body", LongText(), nullable=False),
    _int("attempts"),
    Column("last_error", Text, nullable=True),
    _when("created_at"),
    _when("next_attempt_at"),
    _when("delivered_at", nullable=True),
    UniqueConstraint("delivery_id"),
    Index("ix_notifications_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),
)
