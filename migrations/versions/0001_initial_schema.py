"""Initial schema: runs, provider outcomes, models, their versions and events, statistics.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Naive UTC; with microseconds on MySQL/MariaDB, whose DATETIME drops them by default.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def _views() -> dict[str, str]:
    """The reporting views, with `change` quoted as each dialect needs (MySQL reserves it)."""
    change = op.get_bind().dialect.identifier_preparer.quote("change")
    return {
        "current_models": """
            SELECT m.id, m.provider, m.model_id, v.version, v.display_name, v.context_window,
                   v.max_output_tokens, v.input_price_per_mtok, v.output_price_per_mtok,
                   v.capabilities, v.release_date, v.deprecation_date, v.raw, v.content_hash,
                   m.first_seen_at, m.last_seen_at, v.created_at AS version_created_at,
                   v.run_id AS version_run_id
            FROM models m
            JOIN model_versions v ON v.model = m.id
            WHERE m.removed_at IS NULL
              AND v.version = (SELECT MAX(v2.version) FROM model_versions v2 WHERE v2.model = m.id)
        """,
        "model_changes": f"""
            SELECT e.run_id, e.changed_at, m.provider, m.model_id, e.{change}, e.version
            FROM model_events e
            JOIN models m ON m.id = e.model
        """,
    }


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model_id", sa.String(length=255), nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("removed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("provider", "model_id", name=op.f("uq_models_provider_model_id")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("requested_providers", sa.JSON(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("aisync_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["model"], ["models.id"], name=op.f("fk_model_events_model_models")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_model_events_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_events")),
    )
    with op.batch_alter_table("model_events", schema=None) as batch_op:
        batch_op.create_index("ix_model_events_changed_at", ["changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_events_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_events_run_id"), ["run_id"], unique=False)

    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("context_window", sa.Integer(), nullable=True),
        sa.Column("max_output_tokens", sa.Integer(), nullable=True),
        sa.Column("input_price_per_mtok", sa.Double(), nullable=True),
        sa.Column("output_price_per_mtok", sa.Double(), nullable=True),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("deprecation_date", sa.Date(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["model"], ["models.id"], name=op.f("fk_model_versions_model_models")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_model_versions_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model", "version", name=op.f("uq_model_versions_model_version")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_run_id"), ["run_id"], unique=False)

    op.create_table(
        "provider_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_provider_stats_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_stats")),
        sa.UniqueConstraint(
            "run_id", "provider", "name", name=op.f("uq_provider_stats_run_id_provider_name")
        ),
    )
    op.create_table(
        "provider_syncs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("models_found", sa.Integer(), nullable=True),
        sa.Column("models_added", sa.Integer(), nullable=False),
        sa.Column("models_changed", sa.Integer(), nullable=False),
        sa.Column("models_removed", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_provider_syncs_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_syncs")),
    )
    with op.batch_alter_table("provider_syncs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_provider_syncs_provider_status", ["provider", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_provider_syncs_run_id"), ["run_id"], unique=False)

    for name, query in _views().items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    """Drop views, then tables; a table's indexes go with it (MySQL refuses to drop an
    index a foreign key still needs)."""
    for name in _views():
        op.execute(f"DROP VIEW {name}")
    for table in (
        "provider_syncs",
        "provider_stats",
        "model_versions",
        "model_events",
        "sync_runs",
        "models",
    ):
        op.drop_table(table)
