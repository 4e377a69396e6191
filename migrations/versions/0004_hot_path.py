"""Hot path: the current version's number, hashes and capabilities on the `models` row;
`last_seen_at` derived from the provider's last successful sync.

An unchanged re-sync then reads one table once (no join over every version) and writes
nothing: `models.last_seen_at` is no longer rewritten for every listed model. It is kept
up to date only for removed models (the last sync that listed them); the view
`current_models` derives it for listed ones from `provider_syncs`, so its columns and
their meaning stay as they were.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = (
    # The current version's number, content hash and capabilities (a copy).
    ("version", sa.Integer()),
    ("content_hash", sa.String(length=64)),
    # The digest of the raw item a raw-first plugin listed (NULL for other plugins).
    ("raw_digest", sa.String(length=64)),
    ("capabilities", sa.JSON()),
    # True when the current version has a value enrichment must see again (a non-API
    # origin or a disagreement).
    ("enriched", sa.Boolean()),
)

_ENRICHED_COLUMNS = (
    "max_input_tokens, cache_read_price_per_mtok, cache_write_price_per_mtok, successor,"
    " knowledge_cutoff, open_weights, pricing, field_sources, disagreements"
)

_LAST_SYNC = """(SELECT MAX(ps.finished_at) FROM provider_syncs ps
                 WHERE ps.provider = m.provider AND ps.status = 'synced')"""


def _current_models(derived: bool) -> str:
    """The `current_models` view after 0002 (stored `last_seen_at`) or after this revision."""
    last_seen = f"COALESCE({_LAST_SYNC}, m.last_seen_at)" if derived else "m.last_seen_at"
    extra = ", ".join(f"v.{name.strip()}" for name in _ENRICHED_COLUMNS.split(","))
    return f"""
    SELECT m.id, m.provider, m.model_id, v.version, v.display_name, v.context_window,
           v.max_output_tokens, v.input_price_per_mtok, v.output_price_per_mtok,
           v.capabilities, v.release_date, v.deprecation_date, v.raw, v.content_hash,
           m.first_seen_at, {last_seen} AS last_seen_at, v.created_at AS version_created_at,
           v.run_id AS version_run_id, {extra}
    FROM models m
    JOIN model_versions v ON v.model = m.id
    WHERE m.removed_at IS NULL
      AND v.version = (SELECT MAX(v2.version) FROM model_versions v2 WHERE v2.model = m.id)
"""


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS current_models")
    with op.batch_alter_table("models", schema=None) as batch_op:
        for name, type_ in NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    _backfill()
    op.execute(f"CREATE VIEW current_models AS {_current_models(derived=True)}")


def _backfill() -> None:
    """Copy each model's latest version onto its row, and say which ones enrichment must
    see (decided here in Python: JSON functions differ on every backend)."""
    op.execute(
        "UPDATE models SET version = "
        "(SELECT MAX(v.version) FROM model_versions v WHERE v.model = models.id)"
    )
    for column in ("content_hash", "capabilities"):
        op.execute(
            f"UPDATE models SET {column} = (SELECT v.{column} FROM model_versions v "
            "WHERE v.model = models.id AND v.version = models.version)"
        )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT m.id, v.field_sources, v.disagreements FROM models m "
            "JOIN model_versions v ON v.model = m.id AND v.version = m.version"
        )
    )
    enriched = [
        {"pk": pk} for pk, sources, disagreements in rows if _enriched(sources, disagreements)
    ]
    update = sa.text("UPDATE models SET enriched = :flag WHERE id = :pk")
    if enriched:
        bind.execute(update.bindparams(flag=True), enriched)
    bind.execute(
        sa.text("UPDATE models SET enriched = :flag WHERE enriched IS NULL"), {"flag": False}
    )


def _enriched(sources: object, disagreements: object) -> bool:
    """Whether a version has a non-API origin or a disagreement (JSON as the driver gives
    it: text, or already decoded)."""
    sources = json.loads(sources) if isinstance(sources, str) else sources
    disagreements = json.loads(disagreements) if isinstance(disagreements, str) else disagreements
    if disagreements:
        return True
    return isinstance(sources, dict) and any(origin != "api" for origin in sources.values())


def _model_changes() -> str:
    """The `model_changes` view of 0001, with `change` quoted as each dialect needs."""
    change = op.get_bind().dialect.identifier_preparer.quote("change")
    return f"""
    SELECT e.run_id, e.changed_at, m.provider, m.model_id, e.{change}, e.version
    FROM model_events e
    JOIN models m ON m.id = e.model
"""


def downgrade() -> None:
    """SQLite rebuilds `models` to drop the columns: both views that read it go first."""
    op.execute("DROP VIEW current_models")
    op.execute("DROP VIEW model_changes")
    # Listed models get their last_seen_at back from the provider's last successful sync.
    last_sync = _LAST_SYNC.replace("m.provider", "models.provider")
    op.execute(
        f"UPDATE models SET last_seen_at = COALESCE({last_sync}, last_seen_at)"
        " WHERE removed_at IS NULL"
    )
    # Not rebuilt on SQLite (3.35+ drops a plain column itself): the rebuild would drop a
    # table other tables' foreign keys point at, which SQLite refuses with data in them.
    with op.batch_alter_table("models", schema=None, recreate="never") as batch_op:
        for name, _ in reversed(NEW_COLUMNS):
            batch_op.drop_column(name)
    op.execute(f"CREATE VIEW current_models AS {_current_models(derived=False)}")
    op.execute(f"CREATE VIEW model_changes AS {_model_changes()}")
