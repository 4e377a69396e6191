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
from itertools import islice, repeat
from typing import Any, BinaryIO, TypeVar

import orjson

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


def export_columns(columns: Mapping[str, Sequence[Any]]) -> list[Sequence[Any]]:
    """A batch of `queries.catalog_models_query` rows, given as its columns by name
    (`queries.streamed_columns`), as the export's columns: `EXPORT_FIELDS` in order, each
    value as `export_row` writes it (ISO 8601 text, `capabilities` a list,
    `field_sources` an object), without building a `CatalogModel` per row."""
    found = dict(columns)
    for name in _DATE_FIELDS:  # few distinct values in a batch: each written once
        text = {value: None if value is None else value.isoformat() for value in set(found[name])}
        found[name] = list(map(text.__getitem__, found[name]))
    found["capabilities"] = [
        value if type(value) is list else list(value or ()) for value in found["capabilities"]
    ]
    found["field_sources"] = [
        value if type(value) is dict else dict(value or {}) for value in found["field_sources"]
    ]
    return [found[name] for name in EXPORT_FIELDS]


def export_records(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The dicts `export_row` makes, of a batch given as in `export_columns`."""
    return _records(export_columns(columns))


def _records(columns: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return list(map(dict, map(zip, repeat(EXPORT_FIELDS), zip(*columns, strict=True))))


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
    for data, size in _CHUNKED[format](iter(rows)):
        stream.write(data)
        count += size
    return count


def write_export_columns(
    batches: Iterable[Sequence[Sequence[Any]]], format: str, stream: BinaryIO
) -> int:
    """`write_export` of rows given a batch at a time as the export's columns
    (`export_columns`, `Catalog.iter_export_columns`): the same bytes, and CSV is written
    from the columns without a dict per row (a tenth of its time on a million rows)."""
    if format != "csv":
        rows = (row for columns in batches for row in _records(columns))
        return write_export(rows, format, stream)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for columns in batches:
        writer.writerows(_csv_cells(columns))
        stream.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
        count += len(columns[0])
    if buffer.tell():
        stream.write(buffer.getvalue().encode("utf-8"))
    return count


def _batches(rows: Iterator[T]) -> Iterator[list[T]]:
    while batch := list(islice(rows, CHUNK_ROWS)):
        yield batch


def _json_chunks(rows: Iterator[Mapping[str, Any]]) -> Iterator[tuple[bytes, int]]:
    """The export's JSON array (`render_export`), a batch of rows at a time."""
    opening = b"[\n"
    for batch in _batches(rows):
        yield opening + _json_items(batch), len(batch)
        opening = b",\n"
    yield (b"[]\n" if opening == b"[\n" else b"\n]\n"), 0


def _json_items(batch: list[Mapping[str, Any]]) -> bytes:
    """The items of the array as `json.dumps(..., indent=2, sort_keys=True,
    ensure_ascii=False)` nests them, separated by `,` and a line break.

    orjson writes the same JSON values in the same layout (keys sorted, two-space indent,
    UTF-8 unescaped), 10x faster than the standard library: numbers may be spelled
    differently (`1e-05` is `0.00001`) and non-finite ones, which JSON cannot hold, are
    null. What orjson refuses (a key that is not a string, an integer beyond 64 bits) is
    written by the standard library.
    """
    try:
        return orjson.dumps(batch, option=_INDENTED)[2:-2]
    except TypeError:  # orjson.JSONEncodeError is one
        return "".join(_items_text(batch)).encode("utf-8")


def _items_text(batch: list[Mapping[str, Any]]) -> Iterator[str]:
    separator = "  "
    for item in batch:
        yield separator + indented(item, "  ")
        separator = ",\n  "


_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def json_array_chunks(items: Iterable[Any]) -> Iterator[tuple[str, int]]:
    """`json.dumps(list(items), indent=2, sort_keys=True, ensure_ascii=False) + "\\n"`, a
    batch of items at a time, each piece with how many items it holds: a JSON array
    written as its items arrive, identical to the one written at once."""
    opening = "[\n  "
    for batch in _batches(iter(items)):
        yield opening + ",\n  ".join(indented(item, "  ") for item in batch), len(batch)
        opening = ",\n  "
    yield ("[]\n" if opening.startswith("[") else "\n]\n"), 0


def _jsonl_chunks(rows: Iterator[Mapping[str, Any]]) -> Iterator[tuple[bytes, int]]:
    for batch in _batches(rows):
        text = "".join(_LINE.encode(row) + "\n" for row in batch)
        yield text.encode("utf-8"), len(batch)


def _csv_chunks(rows: Iterator[Mapping[str, Any]]) -> Iterator[tuple[bytes, int]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for batch in _batches(rows):
        writer.writerows(_csv_rows(batch))
        yield buffer.getvalue().encode("utf-8"), len(batch)
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8"), 0


def _csv_rows(batch: list[Mapping[str, Any]]) -> Iterator[tuple[Any, ...]]:
    return _csv_cells(list(zip(*map(_export_values, batch), strict=True)))


def _csv_cells(columns: Sequence[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """The cells of each row (`_cell` of each value), a column at a time: the csv module
    writes None as an empty cell and numbers and strings as `str` does, so only the
    fields of other types (a list, objects, a boolean) are converted here."""
    cells = list(columns)
    for index, convert in _CONVERTED:
        cells[index] = convert(cells[index])
    return zip(*cells, strict=True)


_export_values = operator.itemgetter(*EXPORT_FIELDS)
_CHUNKED = {"json": _json_chunks, "jsonl": _jsonl_chunks, "csv": _csv_chunks}
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
        return b"".join(data for data, _ in _json_chunks(iter(rows))).decode("utf-8")
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
        return _compact(value)
    return str(value)


def _compact(value: dict[Any, Any]) -> str:
    """`json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`, by
    orjson where it can (the same JSON value, see `_json_items`)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _list_cells(values: Sequence[Any]) -> list[str]:
    return [";".join(map(str, v)) if type(v) is list else _cell(v) for v in values]


def _bool_cells(values: Sequence[Any]) -> list[str]:
    return ["true" if v is True else "false" if v is False else _cell(v) for v in values]


def _object_cells(values: Sequence[Any]) -> list[str]:
    return [_compact(v) if type(v) is dict else _cell(v) for v in values]


#: The columns whose values are not None, a number or a string, and their `_cell`s.
_CONVERTED = [
    (EXPORT_FIELDS.index("capabilities"), _list_cells),
    (EXPORT_FIELDS.index("open_weights"), _bool_cells),
    (EXPORT_FIELDS.index("pricing"), _object_cells),
    (EXPORT_FIELDS.index("field_sources"), _object_cells),
]
