"""The normalize step: make whatever a plugin returned safe to diff and store.

Plugins are external code and providers send messy lists (Mistral repeats ids). Here a
listing becomes one clean record per id with a stable capability order, and every problem
short of a wrong return type is a warning rather than a failed sync.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from aisync.errors import BadResponse
from aisync.fields import token_count
from aisync.records import CAPABILITIES, ModelRecord

_ORDER = {name: index for index, name in enumerate(CAPABILITIES)}


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

    Reusing a clean record (the usual case) keeps a 100,000-model listing from being copied.
    """
    model_id = record.model_id.strip() if isinstance(record.model_id, str) else ""
    if not model_id:
        warnings.append("a model without an id was ignored")
        return None
    unknown = sorted(c for c in record.capabilities if c not in _ORDER)
    if unknown:
        warnings.append(f"{model_id}: unknown capabilities ignored: {', '.join(map(str, unknown))}")
    clean = {
        "model_id": model_id,
        "display_name": record.display_name if isinstance(record.display_name, str) else None,
        "context_window": token_count(record.context_window),
        "max_output_tokens": token_count(record.max_output_tokens),
        "input_price_per_mtok": _price(record.input_price_per_mtok),
        "output_price_per_mtok": _price(record.output_price_per_mtok),
        "capabilities": tuple(
            sorted({c for c in record.capabilities if c in _ORDER}, key=_ORDER.get)
        ),
        "release_date": _date(record.release_date),
        "deprecation_date": _date(record.deprecation_date),
        "raw": _raw(record.raw),
    }
    already_clean = clean["capabilities"] == record.capabilities and all(
        getattr(record, name) is value for name, value in clean.items() if name != "capabilities"
    )
    return record if already_clean else dataclasses.replace(record, **clean)


def _raw(value: object) -> dict[str, Any]:
    if type(value) is dict:
        return value
    return dict(value) if isinstance(value, dict) else {}


def _price(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _date(value: object) -> date | None:
    return value if isinstance(value, date) else None
