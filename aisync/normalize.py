"""The normalize step: make whatever a plugin returned safe to diff and store.

Plugins are external code and providers send messy lists (Mistral repeats ids). Here a
listing becomes one clean record per id with a stable capability order, and every problem
short of a wrong return type is a warning rather than a failed sync.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from aisync.canonical import EMPTY, RawJSON
from aisync.errors import BadResponse, ProviderError
from aisync.fields import token_count
from aisync.records import API, CAPABILITIES, ENRICHABLE_FIELDS, RULE, ModelRecord

_ORDER = {name: index for index, name in enumerate(CAPABILITIES)}
_DATE_FIELDS = frozenset({"release_date", "deprecation_date"})


def normalize(records: Iterable[Any]) -> tuple[list[ModelRecord], list[str]]:
    """Return the clean records (first occurrence of each id wins) and the warnings."""
    clean: dict[str, ModelRecord] = {}
    warnings: list[str] = []
    duplicates = 0
    for record in records:
        if not isinstance(record, ModelRecord):
            raise BadResponse(f"Plugin returned {type(record).__name__}, not a ModelRecord")
        fixed = _clean(record, warnings)
        if fixed is None:
            continue
        if fixed.model_id in clean:
            duplicates += 1
            continue
        clean[fixed.model_id] = fixed
    if duplicates:
        warnings.append(f"{duplicates} duplicate model id(s) in the listing; kept the first")
    return list(clean.values()), warnings


def _clean(record: ModelRecord, warnings: list[str]) -> ModelRecord | None:
    """The record with every field made safe; the record itself when it already was.

    Reusing a clean record (the usual case) keeps a 100,000-model listing from being copied,
    and only the fields that hold a value are looked at.
    """
    fields = record.__dict__
    model_id = record.model_id.strip() if isinstance(record.model_id, str) else ""
    if not model_id:
        warnings.append("a model without an id was ignored")
        return None
    changes: dict[str, Any] = {}
    if model_id != record.model_id:
        changes["model_id"] = model_id
    capabilities = fields["capabilities"]
    clean_capabilities = _clean_capabilities(capabilities)
    if clean_capabilities != capabilities or type(capabilities) is not tuple:
        unknown = sorted(str(c) for c in _words(capabilities) if not _known(c))
        if unknown:
            warnings.append(f"{model_id}: unknown capabilities ignored: {', '.join(unknown)}")
        changes["capabilities"] = clean_capabilities
    for name, cleaner in _SCALAR_CLEANERS:
        value = fields[name]
        if value is not None and (clean := cleaner(value)) is not value:
            changes[name] = clean
    if type(record.raw) is not RawJSON:
        changes["raw"] = _raw(record.raw, model_id)
    if record.field_sources or record.disagreements:
        changes.update(field_sources=_rule_origins(record, changes), disagreements={})
    return updated(record, changes) if changes else record


def _rule_origins(record: ModelRecord, changes: Mapping[str, Any]) -> dict[str, str]:
    """The origins of a record whose plugin marked fields as guessed (`RULE`): `rule` for
    those that hold a value, `api` for every other field with one; {} (all from the API)
    when no such field holds a value. Any other origin a plugin sets is not its to give."""
    values = {**record.__dict__, **changes}
    sources = record.field_sources if isinstance(record.field_sources, Mapping) else {}
    guessed = {
        name
        for name, origin in sources.items()
        if origin == RULE and name in ENRICHABLE_FIELDS and not is_empty(values[name])
    }
    if not guessed:
        return {}
    return {
        name: RULE if name in guessed else API
        for name in ENRICHABLE_FIELDS
        if not is_empty(values[name])
    }


def updated(record: ModelRecord, changes: Mapping[str, Any]) -> ModelRecord:
    """`dataclasses.replace` without re-running `__init__`, which only assigns: for values
    already cleaned (here, or by enrichment through `CLEANERS`), where a 100,000-model
    listing makes one of these per model."""
    clone = object.__new__(type(record))
    object.__setattr__(clone, "__dict__", {**record.__dict__, **changes})
    return clone


def _words(value: object) -> Iterable[Any]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        return ()
    return value


def _raw(value: object, model_id: str) -> RawJSON:
    """The payload as canonical text (`aisync.canonical`); anything but a JSON object is
    no payload. One that JSON cannot hold (a set, a loop) fails the provider: storing it
    would lose what the provider said."""
    if isinstance(value, RawJSON):
        return value
    if not isinstance(value, dict):
        return EMPTY
    try:
        return RawJSON.of(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ProviderError(
            f"Plugin returned a raw payload that is not JSON for {model_id}: {exc}"
        ) from None


def clean_field(name: str, value: object) -> Any:
    """`value` as the normalized field `name` holds it, or the field's empty value.

    The enrichment step passes every value a source offers through here, and overrides
    are checked with it, so a source or a user can never store what a provider could not.
    """
    return CLEANERS[name](value)


def is_empty(value: object) -> bool:
    """True for a field with nothing in it: None, or no capabilities."""
    return value is None or value == ()


def _capabilities(value: object) -> tuple[str, ...]:
    return tuple(sorted({c for c in _words(value) if _known(c)}, key=_ORDER.__getitem__))


def _known(word: object) -> bool:
    return isinstance(word, str) and word in _ORDER


def _clean_capabilities(value: object) -> tuple[str, ...]:
    """`_capabilities`, once per combination of a tuple: a listing (or a source) repeats a
    few combinations thousands of times."""
    if type(value) is tuple:
        try:
            return _known_capabilities(value)
        except TypeError:  # an unhashable item: not a word anyway
            pass
    return _capabilities(value)


@functools.lru_cache(maxsize=4096)
def _known_capabilities(value: tuple[Any, ...]) -> tuple[str, ...]:
    return _capabilities(value)


def _price(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _date(value: object) -> date | None:
    return value if isinstance(value, date) else None


def _name(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _object(value: object) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) and value else None


#: The cleaner of every normalized field a plugin, a source or an override can set.
CLEANERS: dict[str, Callable[[Any], Any]] = {
    "display_name": _name,
    "context_window": token_count,
    "max_input_tokens": token_count,
    "max_output_tokens": token_count,
    "input_price_per_mtok": _price,
    "output_price_per_mtok": _price,
    "cache_read_price_per_mtok": _price,
    "cache_write_price_per_mtok": _price,
    "capabilities": _clean_capabilities,
    "release_date": _date,
    "deprecation_date": _date,
    "successor": _text,
    "knowledge_cutoff": _text,
    "open_weights": _flag,
    "pricing": _object,
}

#: The cleaners of every field but `capabilities`: each turns None into None, so a field
#: without a value (most of a record's) is not even looked at.
_SCALAR_CLEANERS = tuple(
    (name, cleaner) for name, cleaner in CLEANERS.items() if name != "capabilities"
)


def encode(name: str, value: Any) -> Any:
    """A field value as JSON stores it (overrides, disagreements)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def decode(name: str, value: Any) -> Any:
    """A field value read back from JSON, cleaned like a fresh one; None if unusable."""
    if name in _DATE_FIELDS and isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return None
    return clean_field(name, value)
