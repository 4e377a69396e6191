"""Where each field of a model's current version came from, for `aisync models show --sources`.

For one model: per field its value, its origin (`api`, `rule`, `models.dev`, `litellm`,
`override`, a plugin's source) and what other origins offered instead. A field no source
matched has no value and no origin, which is how a reader tells "unknown" from "zero".
`Catalog.model_sources` asks the same question of a catalog URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine

from aisync.catalog import queries
from aisync.catalog.records import FieldProvenance
from aisync.records import ENRICHABLE_FIELDS
from aisync.sync.normalize import decode


def model_sources(engine: Engine, provider: str, model_id: str) -> list[FieldProvenance] | None:
    """Every enrichable field of the model's latest version, or None for an unknown model."""
    with engine.connect() as connection:
        return field_provenance(connection, provider, model_id)


def field_provenance(
    connection: Connection, provider: str, model_id: str
) -> list[FieldProvenance] | None:
    """`model_sources` inside the caller's connection."""
    row = queries.model_provenance(connection, provider, model_id)
    if row is None:
        return None
    values = row._mapping
    sources: Mapping[str, str] = values["field_sources"] or {}
    disagreements: Mapping[str, Any] = values["disagreements"] or {}
    return [
        FieldProvenance(
            name,
            decode(name, values[name]),
            sources.get(name),
            _offers(name, disagreements.get(name)),
        )
        for name in ENRICHABLE_FIELDS
    ]


def _offers(name: str, offers: Any) -> dict[str, Any]:
    """What each losing origin offered, typed like the field (dates back from JSON text)."""
    if not isinstance(offers, Mapping):
        return {}
    return {origin: decode(name, value) for origin, value in offers.items()}
