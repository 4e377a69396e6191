"""The normalize step: make whatever a plugin returned safe to diff and store.

Plugins are external code and providers send messy lists (Mistral repeats ids). Here a
listing becomes one clean record per id with a stable capability order, and every problem
short of a wrong return type is a warning rather than a failed sync.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aisync.bounds import (
    INTEGER_MAX,
    TEXT_LENGTHS,
    field_problem,
    json_problem,
    model_id_problem,
    raw_may_need_fixing,
    storable_json,
    text_fits,
)
from aisync.canonical import EMPTY, RawJSON
from aisync.db.bulk import cycle_collection_paused
from aisync.errors import BadResponse, ProviderError
from aisync.fields import token_count
from aisync.records import API, CAPABILITIES, ENRICHABLE_FIELDS, RULE, ModelRecord

_ORDER = {name: index for index, name in enumerate(CAPABILITIES)}
_DATE_FIELDS = frozenset({"release_date", "deprecation_date"})


def normalize(records: Iterable[Any]) -> tuple[list[ModelRecord], list[str]]:
    """Return the clean records (first occurrence of each id wins) and the warnings.

    An entry without a usable model id (`aisync.bounds.model_id_problem`) is skipped and
    counted in one warning; a listing of entries none of which could be read is no
    listing but a malformed answer, and fails the provider (BadResponse).
    """
    clean: dict[str, ModelRecord] = {}
    found = _Found()
    with cycle_collection_paused():
        for record in records:
            if not isinstance(record, ModelRecord):
                raise BadResponse(f"Plugin returned {type(record).__name__}, not a ModelRecord")
            found.entries += 1
            fixed = _clean(record, found)
            if fixed is None:
                continue
            if fixed.model_id in clean:
                found.duplicates += 1
                continue
            clean[fixed.model_id] = fixed
    if found.skipped and not clean:
        raise BadResponse(
            f"Malformed listing: none of its {found.entries} entries could be read "
            f"({_counts(found.skipped)})"
        )
    return list(clean.values()), found.summary()


@dataclass
class _Found:
    """What normalizing a listing met, told in one warning per kind, however many times
    it was met: a hostile listing of 100,000 bad entries gives a few lines, not 100,000."""

    entries: int = 0
    duplicates: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Why entries were skipped -> how many.
    skipped: Counter[str] = field(default_factory=Counter)
    #: Field -> how many of its values were dropped: the catalog cannot store them.
    dropped: Counter[str] = field(default_factory=Counter)
    #: What was replaced in raw payloads -> in how many.
    raw_fixes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> list[str]:
        warnings = list(self.warnings)
        if self.skipped:
            skipped = sum(self.skipped.values())
            warnings.append(f"{skipped} of {self.entries} entries skipped: {_counts(self.skipped)}")
        if self.dropped:
            warnings.append(
                f"values the catalog cannot store were dropped: {_counts(self.dropped)}"
            )
        for fix, count in sorted(self.raw_fixes.items()):
            warnings.append(f"raw payload of {count} model(s) stored with {fix}")
        if self.duplicates:
            warnings.append(
                f"{self.duplicates} duplicate model id(s) in the listing; kept the first"
            )
        return warnings


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in sorted(counter.items()))


def _clean(record: ModelRecord, found: _Found) -> ModelRecord | None:
    """The record with every field made safe; the record itself when it already was; None
    for a record without a usable id.

    Reusing a clean record (the usual case) keeps a 100,000-model listing from being copied,
    and only the fields that hold a value are looked at.
    """
    fields = record.__dict__
    model_id = record.model_id.strip() if isinstance(record.model_id, str) else None
    problem = model_id_problem(model_id)
    if problem is not None or model_id is None:
        found.skipped[problem or "no model id"] += 1
        return None
    changes: dict[str, Any] = {}
    if model_id != record.model_id:
        changes["model_id"] = model_id
    capabilities = fields["capabilities"]
    clean_capabilities = _clean_capabilities(capabilities)
    if clean_capabilities != capabilities or type(capabilities) is not tuple:
        unknown = sorted(str(c) for c in _words(capabilities) if not _known(c))
        if unknown:
            found.warnings.append(f"{model_id}: unknown capabilities ignored: {', '.join(unknown)}")
        changes["capabilities"] = clean_capabilities
    for name, cleaner in _SCALAR_CLEANERS:
        value = fields[name]
        if value is not None and (clean := cleaner(value)) is not value:
            if clean is None and _TYPED[name](value) is not None:
                found.dropped[name] += 1
            changes[name] = clean
    if type(record.raw) is not RawJSON:
        changes["raw"] = _raw(record.raw, model_id, found)
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


def _raw(value: object, model_id: str, found: _Found) -> RawJSON:
    """The payload as canonical text (`aisync.canonical`); anything but a JSON object is
    no payload. What the catalog's JSON cannot hold (`aisync.bounds.storable_json`) is
    replaced and counted; a payload JSON cannot hold at all (a set, a loop) fails the
    provider: storing it would lose what the provider said."""
    if isinstance(value, RawJSON):
        return value
    if not isinstance(value, dict):
        return EMPTY
    try:
        raw = RawJSON.of(value)
        if not raw_may_need_fixing(raw.text):
            return raw
        storable, fixes = storable_json(value)
        found.raw_fixes.update(fixes)
        return RawJSON.of(storable) if fixes else raw
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


def unstorable(name: str, value: object) -> str | None:
    """Why the catalog cannot store `value` in the field `name` although it has the
    field's type (`aisync.bounds`), or None: what `CLEANERS` turns into None for that
    reason, told to a user whose override is refused."""
    typed = _TYPED[name](value)
    return None if typed is None else field_problem(name, typed)


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


#: Each field's value of the right type, before the catalog's bounds are applied.
_TYPED: dict[str, Callable[[Any], Any]] = {
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


def _tokens(value: object) -> int | None:
    count = token_count(value)
    return count if count is None or count <= INTEGER_MAX else None


def _bounded_text(column: str, typed: Callable[[Any], str | None]) -> Callable[[Any], Any]:
    """`typed`, then None for text the column cannot hold (`aisync.bounds.text_fits`)."""
    limit = TEXT_LENGTHS[column]

    def clean(value: Any) -> str | None:
        text = typed(value)
        return text if text is None or text_fits(text, limit) else None

    return clean


def _pricing(value: object) -> dict[str, Any] | None:
    tiers = _object(value)
    return tiers if tiers is None or json_problem(tiers) is None else None


#: The cleaner of every normalized field a plugin, a source or an override can set: a value
#: of the field's type within the catalog's bounds (`aisync.bounds`), or None. The bounded
#: ones are written out rather than wrapped: they run for most fields of every model.
CLEANERS: dict[str, Callable[[Any], Any]] = {
    **_TYPED,
    "display_name": _bounded_text("display_name", _name),
    "context_window": _tokens,
    "max_input_tokens": _tokens,
    "max_output_tokens": _tokens,
    "successor": _bounded_text("successor", _text),
    "knowledge_cutoff": _bounded_text("knowledge_cutoff", _text),
    "pricing": _pricing,
}

#: The cleaners of every field but `capabilities`: each turns None into None, so a field
#: without a value (most of a record's) is not even looked at.
_SCALAR_CLEANERS = tuple(
    (name, cleaner) for name, cleaner in CLEANERS.items() if name != "capabilities"
)


def decode(name: str, value: Any) -> Any:
    """A field value read back from JSON, cleaned like a fresh one; None if unusable."""
    if name in _DATE_FIELDS and isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return None
    return clean_field(name, value)


def stored_record(values: Mapping[str, Any]) -> ModelRecord:
    """The record a stored version holds, from its columns (`ModelRecord` field -> value
    as read): the fields cleaned like fresh ones, the payload and provenance as they are."""
    fields = {
        name: decode(name, value) if name in CLEANERS else value
        for name, value in values.items()
        if name != "capabilities"
    }
    fields["capabilities"] = decode("capabilities", values.get("capabilities")) or ()
    fields["raw"] = fields.get("raw") or {}
    fields["field_sources"] = fields.get("field_sources") or {}
    fields["disagreements"] = fields.get("disagreements") or {}
    return ModelRecord(**fields)
