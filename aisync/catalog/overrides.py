"""User overrides: a correction of one field of one model that beats the API and every source.

Overrides live in the catalog (`model_overrides`), so every machine sharing a catalog shares
them. The enrichment step applies them at every sync of their provider, and a model
version records them (origin `override`) when they change what the catalog says. An
override may name a model that is not listed (yet): it is kept and applies when it appears.

    >>> engine = Syncer("sqlite:///catalog.db").engine()
    >>> set_override(engine, "openai", "gpt-4o", "context_window", 128000, note="docs")
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from aisync.bounds import free_text_problem, model_id_problem, text_problem
from aisync.db import repository
from aisync.db.ledger import guarded
from aisync.db.values import json_value
from aisync.errors import UsageError
from aisync.records import CAPABILITIES, ENRICHABLE_FIELDS
from aisync.sync.normalize import clean_field, decode, is_empty, unstorable

_CUTOFF = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


class OverrideError(UsageError):
    """An override names an unknown field or a value the field cannot hold."""


@dataclass(frozen=True)
class Override:
    provider: str
    model_id: str
    field: str
    value: Any
    note: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model_id": self.model_id,
            "field": self.field,
            "value": json_value(self.value),
            "note": self.note,
            "created_at": self.created_at.isoformat(),
        }


def split_target(target: str) -> tuple[str, str]:
    """`openai/gpt-4o` -> (`openai`, `gpt-4o`); the model id may hold slashes itself.

    Both must be what the catalog can store (`aisync.bounds`): an override of a model id
    no listing can hold would never apply, and one the database refuses would fail.
    """
    provider, _, model_id = target.partition("/")
    if not provider or not model_id:
        raise OverrideError(f"Invalid model {target!r}: use PROVIDER/MODEL, e.g. openai/gpt-4o")
    problem = text_problem(provider, "provider")
    if problem is not None:
        raise OverrideError(f"Invalid model {target!r}: a provider name {problem}")
    problem = model_id_problem(model_id)
    if problem is not None:
        raise OverrideError(f"Invalid model {target!r}: {problem}")
    return provider, model_id


def check_value(field: str, value: Any) -> Any:
    """`value` as `field` holds it; text is parsed (`128000`, `2.5`, `2025-01-31`,
    `true`, `vision,reasoning`, a JSON object). Raises `OverrideError` with the reason,
    which for a value of the right type the catalog cannot store is the bound it breaks."""
    if field not in ENRICHABLE_FIELDS:
        raise OverrideError(
            f"Unknown field {field!r}; fields that can be overridden: "
            f"{', '.join(ENRICHABLE_FIELDS)}"
        )
    parsed = _parse_text(field, value) if isinstance(value, str) else value
    cleaned = clean_field(field, parsed)
    if is_empty(cleaned) or (field == "knowledge_cutoff" and not _CUTOFF.match(cleaned)):
        problem = unstorable(field, parsed)
        shown = "" if field == "pricing" else f" {value!r}"
        raise OverrideError(
            f"Invalid value{shown} for {field}: {problem or 'expected ' + _EXPECTED[field]}"
        )
    return cleaned


def check_note(note: str | None) -> str | None:
    """The note, if the catalog can store it; raises `OverrideError` otherwise."""
    problem = None if note is None else free_text_problem(note)
    if problem is not None:
        raise OverrideError(f"Invalid note {note!r}: {problem}")
    return note


def set_override(
    engine: Engine,
    provider: str,
    model_id: str,
    field: str,
    value: Any,
    *,
    note: str | None = None,
) -> Override:
    """Store (or replace) an override; it applies at the provider's next sync.

    Everything is checked before the catalog is touched; a catalog that cannot be written
    (read-only, a full disk) is a `DatabaseError` with the database's one-line reason.
    """
    split_target(f"{provider}/{model_id}")
    checked = check_value(field, value)
    check_note(note)
    now = datetime.now(UTC)
    with guarded("Database error"), engine.begin() as connection:
        repository.save_override(
            connection,
            provider=provider,
            model_id=model_id,
            field=field,
            value=json_value(checked),
            note=note,
            now=now,
        )
    return Override(provider, model_id, field, checked, note, now)


def unset_override(engine: Engine, provider: str, model_id: str, field: str) -> None:
    """Remove an override; the API's or a source's value returns at the next sync."""
    with guarded("Database error"), engine.begin() as connection:
        found = repository.delete_override(
            connection, provider=provider, model_id=model_id, field=field
        )
    if not found:
        raise OverrideError(f"No override of {field} for {provider}/{model_id}")


def list_overrides(engine: Engine, provider: str | None = None) -> list[Override]:
    with guarded("Database error"), engine.connect() as connection:
        rows = repository.list_overrides(connection, provider)
    return [
        Override(
            row.provider,
            row.model_id,
            row.field,
            decode(row.field, row.value),
            row.note,
            row.created_at,
        )
        for row in rows
    ]


def _parse_text(field: str, text: str) -> Any:
    parser = _PARSERS.get(field)
    if parser is None:
        return text
    try:
        return parser(text.strip())
    except ValueError:
        return None


def _number(text: str) -> float:
    return float(text.replace("_", ""))


def _tokens(text: str) -> int:
    return int(text.replace("_", "").replace(",", ""))


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def _capabilities(text: str) -> tuple[str, ...]:
    words = [word.strip() for word in text.split(",") if word.strip()]
    unknown = [word for word in words if word not in CAPABILITIES]
    if unknown:
        raise OverrideError(
            f"Unknown capabilities: {', '.join(unknown)} (use: {', '.join(CAPABILITIES)})"
        )
    return tuple(words)


def _object(text: str) -> Any:
    """The JSON text parsed; nesting too deep for the parser is a ValueError like any
    other unreadable text (the bound on depth is `aisync.bounds.JSON_DEPTH`)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deep") from None


_TOKENS = "a whole number of tokens, like 128000"
_PRICE = "USD per million tokens, like 2.5"
_DATE = "a date, like 2025-01-31"
_PARSERS: dict[str, Callable[[str], Any]] = {
    "context_window": _tokens,
    "max_input_tokens": _tokens,
    "max_output_tokens": _tokens,
    "input_price_per_mtok": _number,
    "output_price_per_mtok": _number,
    "cache_read_price_per_mtok": _number,
    "cache_write_price_per_mtok": _number,
    "capabilities": _capabilities,
    "release_date": date.fromisoformat,
    "deprecation_date": date.fromisoformat,
    "open_weights": _flag,
    "pricing": _object,
}
_EXPECTED = {
    "context_window": _TOKENS,
    "max_input_tokens": _TOKENS,
    "max_output_tokens": _TOKENS,
    "input_price_per_mtok": _PRICE,
    "output_price_per_mtok": _PRICE,
    "cache_read_price_per_mtok": _PRICE,
    "cache_write_price_per_mtok": _PRICE,
    "capabilities": "capability words separated by commas, like vision,reasoning",
    "release_date": _DATE,
    "deprecation_date": _DATE,
    "successor": "a model id",
    "knowledge_cutoff": "a month or a date, like 2024-09 or 2024-09-30",
    "open_weights": "true or false",
    "pricing": 'a JSON object, like {"tiers": [...]}',
}
