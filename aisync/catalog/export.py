"""The export step: the current catalog in a stable, documented shape other tools can load.

One flat object per model with the keys of `EXPORT_FIELDS`: times in ISO 8601 UTC, dates
as `YYYY-MM-DD`, prices in USD per million tokens, `capabilities` a list, `pricing` and
`field_sources` objects. JSON is one UTF-8 array with sorted keys, JSON Lines one such
object per line, and CSV has a header row in `EXPORT_FIELDS` order, `;` between
capabilities, objects as compact JSON, `true`/`false`, and an empty cell for no value.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, BinaryIO, TypeVar

from aisync.catalog.records import VERSION_FIELDS, CatalogModel, as_dict

T = TypeVar("T")

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


#: How many rows a streamed export encodes and writes at once.
CHUNK_ROWS = 1_000


def export_row(model: CatalogModel) -> dict[str, Any]:
    values = as_dict(model)
    return {name: values[name] for name in EXPORT_FIELDS}


def export_record(values: Mapping[str, Any]) -> dict[str, Any]:
    """A `queries.catalog_models` row in the export shape: the dict `export_row` makes of
    the row's `CatalogModel`, without building the record (a million of them add up)."""
    row = dict(zip(EXPORT_FIELDS, _export_values(values), strict=True))
    for name in _DATE_FIELDS:
        if row[name] is not None:
            row[name] = row[name].isoformat()
    row["capabilities"] = list(row["capabilities"] or ())
    row["field_sources"] = dict(row["field_sources"] or {})
    return row


_export_values = operator.itemgetter(*EXPORT_FIELDS)
_DATE_FIELDS = (
    "release_date",
    "deprecation_date",
    "first_seen_at",
    "last_seen_at",
    "version_created_at",
)


def write_export(rows: Iterable[Mapping[str, Any]], format: str, stream: BinaryIO) -> int:
    """Write the export to a binary stream as the rows come, `CHUNK_ROWS` at a time, in
    UTF-8; the bytes are those of `render_export` of the same rows. Returns the row count."""
    if format not in _CHUNKED:
        found = list(rows)
        stream.write(render_export(found, format).encode("utf-8"))
        return len(found)
    count = 0
    for text, size in _CHUNKED[format](iter(rows)):
        stream.write(text.encode("utf-8"))
        count += size
    return count


def _batches(rows: Iterator[T]) -> Iterator[list[T]]:
    while batch := list(islice(rows, CHUNK_ROWS)):
        yield batch


def json_array_chunks(items: Iterable[Any]) -> Iterator[tuple[str, int]]:
    """`json.dumps(list(items), indent=2, sort_keys=True, ensure_ascii=False) + "\\n"`, a
    batch of items at a time, each piece with how many items it holds: a JSON array
    written as its items arrive, identical to the one written at once."""
    opening = "[\n  "
    for batch in _batches(iter(items)):
        yield opening + ",\n  ".join(indented(item, "  ") for item in batch), len(batch)
        opening = ",\n  "
    yield ("[]\n" if opening.startswith("[") else "\n]\n"), 0


def _jsonl_chunks(rows: Iterator[Mapping[str, Any]]) -> Iterator[tuple[str, int]]:
    for batch in _batches(rows):
        yield "".join(_LINE.encode(row) + "\n" for row in batch), len(batch)


def _csv_chunks(rows: Iterator[Mapping[str, Any]]) -> Iterator[tuple[str, int]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for batch in _batches(rows):
        writer.writerows([_cell(row[name]) for name in EXPORT_FIELDS] for row in batch)
        yield buffer.getvalue(), len(batch)
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue(), 0


_CHUNKED = {"json": json_array_chunks, "jsonl": _jsonl_chunks, "csv": _csv_chunks}
_LINE = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
_SCALAR = json.JSONEncoder(ensure_ascii=False)
#: The standard library's own quoting of a string (in C), as `ensure_ascii=False` writes it.
_text = json.encoder.encode_basestring


def indented(value: Any, indent: str = "") -> str:
    """`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`, nested at `indent`.

    The standard library encodes an indented document in pure Python, value by value,
    which is most of the time of a big export. Here an object's scalars go through its C
    encoder in one call, with the line break and indent as the separator between items
    (what indenting adds around a scalar), and only nested lists and objects, marked by a
    placeholder, are indented on their own and put in its place.
    """
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind in _SCALARS:
        return _SCALAR.encode(value)
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = indent + "  "
        items = [indented(item, inner) for item in value]
        return "[\n" + inner + (",\n" + inner).join(items) + "\n" + indent + "]"
    if not isinstance(value, Mapping):
        return _SCALAR.encode(value)  # what the standard library makes of it, or its error
    if not value:
        return "{}"
    inner = indent + "  "
    nested = [key for key, item in value.items() if type(item) not in _SCALARS]
    if len(value) <= _SMALL and all(type(key) is str for key in value):
        entries = [_text(key) + ": " + indented(value[key], inner) for key in sorted(value)]
        return "{\n" + inner + (",\n" + inner).join(entries) + "\n" + indent + "}"
    if not all(type(key) is str for key in nested):
        return _reindented(value, indent)
    flat = {**value, **dict.fromkeys(nested, _PLACEHOLDER)} if nested else value
    text = "{\n" + inner + _object_encoder(inner).encode(flat)[1:-1] + "\n" + indent + "}"
    for key in nested:
        entry = "\n" + inner + _text(key) + ": "
        text = text.replace(entry + _MARK, entry + indented(value[key], inner), 1)
    return text


#: Objects up to this size are cheaper to write item by item than through the encoder.
_SMALL = 4
#: The types the C encoder writes as an indented dump does (`repr` of numbers and all).
_SCALARS = frozenset((str, int, float, bool, type(None)))
#: Stands in for a nested value: a real string escapes NUL, and the search includes the
#: line break and key before it, which only the separators write unescaped.
_PLACEHOLDER = "\0"
_MARK = '"\\u0000"'


@functools.cache
def _object_encoder(inner: str) -> json.JSONEncoder:
    """The C encoder writing an object's items one per line at `inner`."""
    return json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",\n" + inner, ": "))


def _reindented(value: Any, indent: str) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return text.replace("\n", "\n" + indent)


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
