"""What the catalog can store: the one place for the bounds of every value aisync writes.

A value outside them does not fail in Python but in the database, at write time, as an
unexpected error that ends the whole run: a token count beyond PostgreSQL's and MariaDB's
32-bit INTEGER, a lone surrogate (UTF-8 cannot encode it: SQLite refuses it, MariaDB's JSON
check too), a NUL byte (PostgreSQL text refuses it), text longer than its column, `NaN` in
JSON (PostgreSQL and MariaDB refuse it) or JSON nested deeper than MariaDB accepts. The
normalize step checks every field a provider or a source offers against these rules and
`aisync override set` checks every value a user offers, so no one can store what the
catalog cannot hold. The lengths are those of `aisync.db.tables`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

#: The largest value of an INTEGER column: 32 bits on PostgreSQL and MariaDB/MySQL.
INTEGER_MAX = 2**31 - 1
#: The most characters a text column holds (`aisync.db.tables`).
TEXT_LENGTHS: dict[str, int] = {
    "provider": 100,
    "model_id": 255,
    "display_name": 255,
    "successor": 255,
    "knowledge_cutoff": 32,
}
#: The deepest nesting of objects and arrays stored as JSON (a model's raw payload, price
#: tiers): MariaDB refuses documents deeper than 32 levels; the top object is level 1.
JSON_DEPTH = 30

#: Characters no text column may hold: NUL (PostgreSQL) and lone surrogates (UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: Characters a model id may not hold, beyond those: a model id is one line of printable
#: text, shown one per line by `aisync models` and used as a key in scripts.
_NOT_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
#: JSON's scalars; a float is one too once it is finite.
_SCALARS = (str, int, float, bool, type(None))

#: The normalized fields stored in INTEGER columns.
INTEGER_FIELDS = frozenset({"context_window", "max_input_tokens", "max_output_tokens"})


def model_id_problem(value: object) -> str | None:
    """Why `value` cannot be a model id, or None if it can (the caller strips it first)."""
    if not isinstance(value, str) or not value:
        return "no model id"
    if _NOT_IN_ID.search(value):
        return "a model id with control characters, a line break or a lone surrogate"
    if len(value) > TEXT_LENGTHS["model_id"]:
        return f"a model id longer than {TEXT_LENGTHS['model_id']} characters"
    return None


def field_problem(name: str, value: Any) -> str | None:
    """Why the catalog cannot store `value`, already of the field's type, in the normalized
    field `name`; None if it can."""
    if name in INTEGER_FIELDS:
        return integer_problem(value)
    if isinstance(value, str):
        return text_problem(value, name)
    if name == "pricing":
        return json_problem(value)
    return None


def text_problem(value: str, column: str) -> str | None:
    """Why the text column `column` cannot hold `value`, or None if it can."""
    if _UNSTORABLE.search(value):
        return "a NUL byte or a lone surrogate"
    limit = TEXT_LENGTHS.get(column)
    if limit is not None and len(value) > limit:
        return f"longer than {limit} characters"
    return None


def text_fits(value: str, limit: int) -> bool:
    """`text_problem` for the normalize step, which asks for every name of every model."""
    return len(value) <= limit and not _UNSTORABLE.search(value)


def free_text_problem(value: str) -> str | None:
    """Why an unbounded text column (a note) cannot hold `value`, or None if it can."""
    return "a NUL byte or a lone surrogate" if _UNSTORABLE.search(value) else None


def integer_problem(value: int) -> str | None:
    """Why an INTEGER column cannot hold `value`, or None if it can."""
    if not -INTEGER_MAX - 1 <= value <= INTEGER_MAX:
        return f"beyond {INTEGER_MAX}, the largest number the catalog stores"
    return None


def json_problem(value: Any, depth: int = 1) -> str | None:
    """Why `value` cannot be stored as JSON, or None if it can: only objects with text
    keys, arrays, text, finite numbers, true/false/null; no deeper than `JSON_DEPTH`."""
    if isinstance(value, float):
        return None if math.isfinite(value) else "a number that is not finite (NaN, Infinity)"
    if isinstance(value, str):
        return "a lone surrogate" if _surrogate(value) else None
    if isinstance(value, _SCALARS):
        return None
    if depth > JSON_DEPTH:
        return f"nested deeper than {JSON_DEPTH} levels"
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return "an object key that is not text"
            problem = json_problem(key) or json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, list | tuple):
        for item in value:
            problem = json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"a {type(value).__name__}, which JSON cannot hold"


def storable_json(value: Any, depth: int = 1) -> tuple[Any, set[str]]:
    """`value` with what JSON in the catalog cannot hold replaced, and what was replaced.

    For a raw payload, which must keep all the rest of what the provider said: a number
    that is not finite becomes null, a lone surrogate U+FFFD, and what is nested deeper than
    `JSON_DEPTH` null. Anything else JSON cannot hold (a set) is left for the encoder to
    refuse.
    """
    fixed: set[str] = set()
    return _storable(value, depth, fixed), fixed


def raw_may_need_fixing(text: str) -> bool:
    """Whether canonical JSON text may hold what `storable_json` replaces: a cheap look at
    the text, so the usual payload is never walked. Lone surrogates stand escaped
    (`\\udc80`, as do the pairs of emoji), non-finite numbers as `NaN` or `Infinity`, and
    a payload with no more brackets than `JSON_DEPTH` cannot be nested deeper."""
    return (
        "\\ud" in text
        or "NaN" in text
        or "Infinity" in text
        or text.count("[") + text.count("{") > JSON_DEPTH
    )


def _storable(value: Any, depth: int, fixed: set[str]) -> Any:
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        fixed.add("non-finite numbers (NaN, Infinity) as null")
        return None
    if isinstance(value, str):
        return _without_surrogates(value, fixed)
    if isinstance(value, _SCALARS) or not isinstance(value, Mapping | list | tuple):
        return value
    if depth > JSON_DEPTH:
        fixed.add(f"what is nested deeper than {JSON_DEPTH} levels as null")
        return None
    if isinstance(value, Mapping):
        return {
            _without_surrogates(k, fixed) if isinstance(k, str) else k: _storable(
                v, depth + 1, fixed
            )
            for k, v in value.items()
        }
    return [_storable(item, depth + 1, fixed) for item in value]


def _surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text) if not text.isascii() else False


def _without_surrogates(text: str, fixed: set[str]) -> str:
    if not _surrogate(text):
        return text
    fixed.add("lone surrogates as U+FFFD")
    return re.sub("[\ud800-\udfff]", "\ufffd", text)
