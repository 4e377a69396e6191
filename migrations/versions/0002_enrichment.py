"""Enrichment: the new model fields, per-field provenance, and user overrides.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Naive UTC; with microseconds on MySQL/MariaDB, whose DATETIME drops them by default.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")

NEW_COLUMNS = (
    ("max_input_tokens", sa.Integer()),
    ("cache_read_price_per_mtok", sa.Double()),
    ("cache_write_price_per_mtok", sa.Double()),
    ("successor", sa.String(length=255)),
    ("knowledge_cutoff", sa.String(length=32)),
    ("open_weights", sa.Boolean()),
    ("pricing", sa.JSON()),
    ("field_sources", sa.JSON()),
    ("disagreements", sa.JSON()),
)

_CURRENT_MODELS = """
    SELECT m.id, m.provider, m.model_id, v.version, v.display_name, v.context_window,
           v.max_output_tokens, v.input_price_per_mtok, v.output_price_per_mtok,
           v.capabilities, v.release_date, v.deprecation_date, v.raw, v.content_hash,
           m.first_seen_at, m.last_seen_at, v.created_at AS version_created_at,
           v.run_id AS version_run_id{extra}
    FROM models m
    JOIN model_versions v ON v.model = m.id
    WHERE m.removed_at IS NULL
      AND v.version = (SELECT MAX(v2.version) FROM model_versions v2 WHERE v2.model = m.id)
"""


def _current_models(enriched: bool) -> str:
    """The `current_models` view before (0001) or after this revision."""
    extra = "".join(f", v.{name}" for name, _ in NEW_COLUMNS) if enriched else ""
    return _CURRENT_MODELS.format(extra=extra)


def upgrade() -> None:
    """Tolerates what aisync before transactional migrations left when killed in here (each
    statement was committed on its own): the view gone, some columns or the table there."""
    # The view reads model_versions: drop it while the table changes (SQLite rebuilds it).
    op.execute("DROP VIEW IF EXISTS current_models")
    inspector = sa.inspect(op.get_bind())
    present = {column["name"] for column in inspector.get_columns("model_versions")}
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        for name, type_ in NEW_COLUMNS:
            if name not in present:
                batch_op.add_column(sa.Column(name, type_, nullable=True))
    if not inspector.has_table("model_overrides"):
        _create_overrides()
    op.execute(f"CREATE VIEW current_models AS {_current_models(enriched=True)}")


def _create_overrides() -> None:
    op.create_table(
        "model_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model_id", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_overrides")),
        sa.UniqueConstraint(
            "provider", "model_id", "field", name=op.f("uq_model_overrides_provider_model_id_field")
        ),
    )


def downgrade() -> None:
    op.execute("DROP VIEW current_models")
    op.drop_table("model_overrides")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        for name, _ in reversed(NEW_COLUMNS):
            batch_op.drop_column(name)
    op.execute(f"CREATE VIEW current_models AS {_current_models(enriched=False)}")
