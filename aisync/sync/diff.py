"""The diff step: decide, by content hash, what a fresh listing adds, changes and removes.

A model gets a new version only when what the catalog says about it really changed: the
hash covers every normalized field, the raw payload and where enriched values came from
(so a source's price change, or a value moving from a source to the API or from an id
rule's guess to a source, is a new version), while a reordered JSON object or an unchanged
re-sync writes nothing but `last_seen_at`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from aisync.canonical import RawJSON, dumps, dumps_normalized
from aisync.db.values import Diff, StoredModel
from aisync.records import API, ModelRecord

#: Fields that only enrichment (or a plugin that publishes them) fills.
_ENRICHMENT_ONLY = (
    "max_input_tokens",
    "cache_read_price_per_mtok",
    "cache_write_price_per_mtok",
    "successor",
    "knowledge_cutoff",
    "open_weights",
    "pricing",
)


#: The date fields among them.
_DATES = ("release_date", "deprecation_date")

#: The normalized fields every hash covers (with `raw`), whatever enrichment did.
_HASHED = (
    "display_name",
    "context_window",
    "max_output_tokens",
    "input_price_per_mtok",
    "output_price_per_mtok",
    "capabilities",
    "release_date",
    "deprecation_date",
)


def content_hash(record: ModelRecord) -> str:
    """sha256 of the record's canonical JSON (sorted keys, no spaces; tuples as arrays).

    The enrichment part is left out when empty: a catalog written before enrichment existed
    (or synced without it) keeps its hashes, so no model gets a version for nothing. `api`
    origins are implied by the values and left out too. The raw payload's canonical text
    is spliced in where `raw` sorts, rather than encoded again: the same bytes as encoding
    the whole object, for a fraction of the work. orjson writes the rest where that gives
    `json`'s bytes (`aisync.canonical.dumps_normalized`); a record with disagreements
    (values that lost, not cleaned like the fields: they may hold NaN) is left to `json`.
    """
    fields = record.__dict__
    hashed = {name: fields[name] for name in _HASHED}
    for name in _ENRICHMENT_ONLY:
        if fields[name] is not None:
            hashed[name] = fields[name]
    if record.field_sources:
        origins = {k: v for k, v in record.field_sources.items() if v != API}
        if origins:
            hashed["field_sources"] = origins
    raw = RawJSON.of(record.raw).text
    if not record.disagreements:
        fast = dumps_normalized({**hashed, **_dates(fields)}, raw)
        if fast is not None:
            return hashlib.sha256(fast).hexdigest()
    else:
        hashed["disagreements"] = record.disagreements
    before = {name: value for name, value in hashed.items() if name < "raw"}
    after = {name: value for name, value in hashed.items() if name > "raw"}
    # `capabilities` always sorts before `raw` and `release_date` after: neither part is empty.
    text = f'{dumps(before)[:-1]},"raw":{raw},{dumps(after)[1:]}'
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dates(fields: dict[str, Any]) -> dict[str, Any]:
    """The record's dates as `json` writes them (ISO text), for orjson, which writes
    none itself; any other value of a date field (a datetime) is left to fail there."""
    return {name: value.isoformat() for name in _DATES if type(value := fields[name]) is date}


def compute_diff(
    stored: Mapping[str, StoredModel],
    records: Iterable[ModelRecord],
    unchanged: Iterable[StoredModel] = (),
    raw_digests: Mapping[str, str] | None = None,
) -> Diff:
    """What `records` change in `stored`.

    :param unchanged: listed models the raw-first step found unchanged without a record.
    :param raw_digests: model id -> raw digest of each record of a raw-first listing: a
        model whose content is unchanged but whose stored digest differs gets the new one.
    """
    diff = Diff()
    for known in unchanged:
        diff.hashes[known.model_id] = known.content_hash
        diff.unchanged += 1
    digests = raw_digests or {}
    diff.raw_digests = dict(digests)
    for record in records:
        digest = content_hash(record)
        model_id = record.model_id
        diff.hashes[model_id] = digest
        known = stored.get(model_id)
        if known is None:
            diff.new.append(record)
        elif known.removed:
            diff.returning.append((known, record, known.content_hash != digest))
            if known.content_hash == digest and known.raw_digest != digests.get(model_id):
                diff.redigested.append((known.pk, digests.get(model_id)))
        elif known.content_hash != digest:
            diff.changed.append((known, record))
        else:
            diff.unchanged += 1
            if known.raw_digest != digests.get(model_id) and model_id in digests:
                diff.redigested.append((known.pk, digests[model_id]))
    diff.removed = [
        model
        for model in stored.values()
        if not model.removed and model.model_id not in diff.hashes
    ]
    diff.listed_before = sum(1 for model in stored.values() if not model.removed)
    return diff


def mass_removal(diff: Diff) -> str | None:
    """Why this listing looks like a provider glitch rather than real removals, if it does.

    An empty answer, or one that drops more than half of what was listed, is far more
    often an outage or a wrong account than a real retirement of models.
    """
    if not diff.listed_before or not diff.removed:
        return None
    if len(diff.hashes) == 0:
        return f"the provider listed no models (it listed {diff.listed_before} before)"
    if len(diff.removed) * 2 > diff.listed_before:
        return f"the listing would remove {len(diff.removed)} of {diff.listed_before} models"
    return None
