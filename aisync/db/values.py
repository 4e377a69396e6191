"""The plain values storage reads and writes: what the sync steps hand it and get back.

Defined on the storage side so that `aisync.db` imports nothing of the engine: the diff
step fills a `Diff`, the enrichment step reads an `EnrichmentState`, and the values in it
are JSON as stored (the enrichment step cleans them like fresh ones).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from aisync.records import API, ENRICHABLE_FIELDS, ModelRecord


class StoredModel(NamedTuple):
    """What the database holds about one model of a provider.

    A named tuple rather than a dataclass: a re-sync builds one per stored model (100,000
    for a big catalog), and a tuple is built several times faster.
    """

    pk: int
    model_id: str
    version: int
    content_hash: str
    removed: bool
    #: The digest of the raw item it was last listed with (`aisync.sync.raw`), if any.
    raw_digest: str | None = None
    #: Whether its current version holds a value enrichment must see again (a non-API
    #: origin, a disagreement): such a model is never skipped at the raw level.
    enriched: bool = False


@dataclass
class Diff:
    #: Models never seen before.
    new: list[ModelRecord] = field(default_factory=list)
    #: Models that were removed and are listed again: (stored, record, content changed).
    returning: list[tuple[StoredModel, ModelRecord, bool]] = field(default_factory=list)
    #: Listed models whose content changed.
    changed: list[tuple[StoredModel, ModelRecord]] = field(default_factory=list)
    #: Models listed before and missing now.
    removed: list[StoredModel] = field(default_factory=list)
    unchanged: int = 0
    hashes: dict[str, str] = field(default_factory=dict)
    #: model id -> raw digest, for the models of a raw-first listing that were looked at
    #: beyond their digest (new, changed, or with a digest that differs from the stored one).
    raw_digests: dict[str, str] = field(default_factory=dict)
    #: Listed models whose content is unchanged but whose stored raw digest is not the
    #: listing's (a reordered JSON object, a catalog from before raw digests): (pk, digest).
    redigested: list[tuple[int, str | None]] = field(default_factory=list)
    #: How many models the provider listed before this listing.
    listed_before: int = 0

    @property
    def added_count(self) -> int:
        return len(self.new) + len(self.returning)

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.returning or self.changed or self.removed)


@dataclass(frozen=True)
class Previous:
    """What the latest stored version of a model says, for carrying values forward.

    Values are as stored; the enrichment step cleans them (`normalize.decode`).
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    disagreements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class EnrichmentState:
    """What the catalog holds for one provider: previous versions and the user's overrides."""

    previous: Mapping[str, Previous] = field(default_factory=dict)
    #: model id -> field -> value, as stored.
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def json_value(value: Any) -> Any:
    """A field value as a JSON column stores it (overrides, disagreements)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


_enrichable_values = operator.itemgetter(*ENRICHABLE_FIELDS)


def enrichable_values(record: ModelRecord) -> tuple[Any, ...]:
    """The record's values of `ENRICHABLE_FIELDS`, in their order."""
    values: tuple[Any, ...] = _enrichable_values(record.__dict__)
    return values


def api_origins(record: ModelRecord) -> dict[str, str]:
    """`api` for every field the record has a value in: the origins of a record that
    enrichment passed on untouched (its `field_sources` empty), as the catalog stores them."""
    values = zip(ENRICHABLE_FIELDS, enrichable_values(record), strict=True)
    return {name: API for name, value in values if value is not None and value != ()}
