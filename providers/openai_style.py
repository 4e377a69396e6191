"""The OpenAI-shaped model listing, and the id rules its thin entries call for.

OpenAI, xAI, Groq and DeepSeek answer `GET {base}/models` with
`{"object": "list", "data": [{"id": ..., "object": "model", "created": ..., "owned_by": ...}]}`
in one page. Most entries say nothing about what a model can do, so each of those
providers infers capabilities and families from the id with a table of rules; the helpers
that apply such tables live here so that every provider reads them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from aisync.errors import BadResponse
from aisync.fields import epoch_date
from aisync.jsontext import json_body
from aisync.records import CAPABILITIES, ModelRecord, Provider

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

#: One rule of a capability table: an id pattern (`re.search`) and what a match means.
CapabilityRule = tuple[str, tuple[str, ...]]
#: One rule of a family table: a statistic name and the id pattern (`re.search`) it counts.
FamilyRule = tuple[str, str]

_ORDER = {name: index for index, name in enumerate(CAPABILITIES)}

#: What an entry without a string id is read as: its record has no model id.
UNREADABLE: dict[str, Any] = {"id": ""}
#: The record of an entry a provider cannot read (not an object, no string id), handed on
#: rather than dropped by every built-in provider, so that the normalize step counts it
#: and fails a listing of nothing else (`Malformed listing`).
UNREADABLE_RECORD = ModelRecord(model_id="")


def fetch_listing(client: httpx.Client, provider: Provider, path: str = "/models") -> Any:
    """GET `{base}{path}` with the provider's Bearer key and return the parsed JSON."""
    base = (provider.base_url or "").rstrip("/")
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    return json_body(client.get(f"{base}{path}", headers=headers))


def listing_entries(body: Any, key: str = "data") -> list[dict[str, Any]]:
    """The model objects of a listing, each with a string id.

    An entry that is not an object with a string id stands as `UNREADABLE` (an empty id),
    so the record made of it reaches the normalize step, which counts and reports it (and
    fails the provider when no entry could be read) instead of the entry vanishing.
    Raises `BadResponse` when the body is not an object or `key` does not hold a list.
    """
    if not isinstance(body, dict):
        raise BadResponse(f"Model list is not a JSON object (got {type(body).__name__})")
    entries = body.get(key)
    if not isinstance(entries, list):
        raise BadResponse(f"Model list has no '{key}' array")
    return [
        e if isinstance(e, dict) and isinstance(e.get("id"), str) else UNREADABLE for e in entries
    ]


def first_of_each(records: Iterable[ModelRecord]) -> list[ModelRecord]:
    """The first record of each model id, in listing order, and every unreadable one.

    For a listing that repeats ids as a matter of course (Mistral's aliases, OpenRouter's
    pages), where a warning per sync would be noise; the unreadable records all share the
    empty id and must each reach the normalize step to be counted.
    """
    seen: set[str] = set()
    kept: list[ModelRecord] = []
    for record in records:
        if record.model_id and record.model_id in seen:
            continue
        seen.add(record.model_id)
        kept.append(record)
    return kept


def created_date(entry: Mapping[str, Any]) -> date | None:
    """The UTC date of the entry's `created` epoch seconds, or None when absent or unusable."""
    return epoch_date(entry.get("created"))


def capabilities_for(model_id: str, rules: Sequence[CapabilityRule]) -> tuple[str, ...]:
    """The capabilities of the first rule whose pattern matches the id (lower-cased), else ()."""
    lowered = model_id.lower()
    for pattern, capabilities in rules:
        if re.search(pattern, lowered):
            return in_vocabulary_order(capabilities)
    return ()


def in_vocabulary_order(capabilities: Iterable[str]) -> tuple[str, ...]:
    """Deduplicate and order capabilities as `records.CAPABILITIES` lists them."""
    return tuple(sorted({c for c in capabilities if c in _ORDER}, key=_ORDER.__getitem__))


def family_counts(model_ids: Iterable[str], families: Sequence[FamilyRule]) -> dict[str, float]:
    """How many ids each family pattern matches (lower-cased); families with none are left out.

    Like the core's capability counts, an empty family is not reported.
    """
    lowered = [model_id.lower() for model_id in model_ids]
    counts = {
        name: sum(1 for model_id in lowered if re.search(pattern, model_id))
        for name, pattern in families
    }
    return {name: float(count) for name, count in counts.items() if count}
