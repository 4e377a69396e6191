"""Where each field of a model's current version came from, for `aisync models show --sources`.

For one model: per field its value, its origin (`api`, `models.dev`, `litellm`,
`override`, a plugin's source) and what other origins offered instead. A field no source
matched has no value and no origin, which is how a reader tells "unknown" from "zero".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from aisync.db import repository
from aisync.enrich import encode
from aisync.records import ENRICHABLE_FIELDS


@dataclass(frozen=True)
class FieldProvenance:
    field: str
    value: Any
    #: None when nothing (API, source or override) gave the field a value.
    source: str | None
    #: origin -> the value it offered that lost to `value` (a source the API overrules).
    others: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": encode(self.field, self.value),
            "source": self.source,
            "others": {k: encode(self.field, v) for k, v in self.others.items()},
        }


def model_sources(engine: Engine, provider: str, model_id: str) -> list[FieldProvenance] | None:
    """Every enrichable field of the model's latest version, or None for an unknown model."""
    with engine.connect() as connection:
        latest = repository.model_provenance(connection, provider, model_id)
    if latest is None:
        return None
    return [
        FieldProvenance(
            name,
            latest.values.get(name),
            latest.sources.get(name),
            dict(latest.disagreements.get(name, {})),
        )
        for name in ENRICHABLE_FIELDS
    ]
