"""The model id normalizations every enrichment source matches on, and nothing more.

Matching is exact: the provider type picks the source's section, and the model id is
compared after these documented normalizations only: case, Gemini's `models/` prefix and
Ollama's `:latest` tag. A dated snapshot (`gpt-4o-2024-08-06`) therefore matches its own
entry, never its alias's, whose price may differ; an unmatched model stays unenriched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from aisync.records import ModelRecord

Entry = TypeVar("Entry")


def model_key(provider_type: str, model_id: str) -> str:
    """The key a source entry must have to describe `model_id` of a `provider_type`."""
    return model_keys(provider_type, [model_id])[0]


def model_keys(provider_type: str, model_ids: Sequence[str]) -> list[str]:
    """`model_key` of every id of a listing, in order: keyed in one pass, because a sync
    keys thousands of ids per source and a call per id was a sizeable part of its cost."""
    keys = [model_id.lower().removeprefix("models/") for model_id in model_ids]
    if provider_type == "ollama":
        return [key.removesuffix(":latest") for key in keys]
    return keys


def matches(
    entries: Mapping[str, Entry], provider_type: str, models: Sequence[ModelRecord]
) -> dict[str, Entry]:
    """Model id -> its entry in `entries` (a source's section, by `model_key`), for the
    models that have one: the only entries whose fields a source then works out."""
    ids = [model.model_id for model in models]
    found = zip(ids, map(entries.get, model_keys(provider_type, ids)), strict=True)
    return {model_id: entry for model_id, entry in found if entry is not None}


def capabilities_from_flags(flags: dict[str, bool]) -> tuple[str, ...]:
    """The capability words whose flag is True, in the order given."""
    return tuple([name for name, value in flags.items() if value is True])
