"""The export step: the current catalog in a stable, documented shape other tools can load.

One flat object per model with the keys of `EXPORT_FIELDS`: times in ISO 8601 UTC, dates
as `YYYY-MM-DD`, prices in USD per million tokens, `capabilities` a list, `pricing` and
`field_sources` objects. JSON is one UTF-8 array with sorted keys, JSON Lines one such
object per line, and CSV has a header row in `EXPORT_FIELDS` order, `;` between
capabilities, objects as compact JSON, `true`/`false`, and an empty cell for no value.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aisync.catalog.records import VERSION_FIELDS, CatalogModel, as_dict

FORMATS: tuple[str, ...] = ("json", "jsonl", "csv")

#: The keys of an exported model, in CSV column order.
EXPORT_FIELDS: tuple[str, ...] = (
    "provider",
    "model_id",
    *VERSION_FIELDS,
    "field_sources",
    "version",
    "first_seen_at",
    "last_seen_at",
    "version_created_at",
)


def export_row(model: CatalogModel) -> dict[str, Any]:
    values = as_dict(model)
    return {name: values[name] for name in EXPORT_FIELDS}


def render_export(rows: Sequence[Mapping[str, Any]], format: str) -> str:
    """The text of an export; encode it as UTF-8 whatever the terminal's encoding."""
    if format == "json":
        return json.dumps(list(rows), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if format == "jsonl":
        return "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    if format == "csv":
        return _csv(rows)
    raise ValueError(f"Unknown export format {format!r}; use one of {', '.join(FORMATS)}")


def _csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        writer.writerow([_cell(row[name]) for name in EXPORT_FIELDS])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(value)
