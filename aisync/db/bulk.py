"""Bulk inserts that cost about what the database costs: rows go to the driver as they are.

A first sync of a big catalog inserts hundreds of thousands of rows. Through
`connection.execute(insert(table), rows)` SQLAlchemy converts every value of every row in
Python (JSON encoding, datetime and date formatting) and reshapes every row, which cost
several times the database's own work. Here the statement is compiled once for the
connection's dialect and executed with `exec_driver_sql`; each value is converted by its
column type's own bind processor (so what is stored is exactly what SQLAlchemy stores),
but a value shared by every row is converted once, and JSON is encoded once per distinct
small value. Rows are sent in batches, so a big listing never has all its driver-ready
rows in memory at once.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import chain, islice
from typing import Any

from sqlalchemy import JSON, Connection, Date, Dialect, Table, insert

from aisync.canonical import RawJSON

#: Rows per executemany: round trips stop mattering well before this, memory does not.
BATCH_ROWS = 5_000


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a listing's objects pile up.

    Every few hundred new objects the collector runs, and every so often it walks every
    object still alive: for a 100,000-model listing (a record, its fields' dict and its
    payload per model, then a row per model and table, none of them in a cycle) that was
    about a second of a first sync. Cycles made meanwhile are collected once it resumes.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class BulkInsert:
    """An INSERT of some columns of `table`, fed rows of values in `columns` order.

    :param constants: columns whose value is the same in every row (a run id, the sync's
        time); converted once and left out of the rows.
    """

    def __init__(
        self,
        connection: Connection,
        table: Table,
        columns: Sequence[str],
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        self._connection = connection
        dialect = connection.dialect
        fixed = {
            name: _converter(table, name, dialect)(value)
            for name, value in (constants or {}).items()
        }
        names = [*columns, *fixed]
        compiled = insert(table).compile(dialect=dialect, column_keys=names, for_executemany=True)
        self._sql = str(compiled)
        self._copy = _copy_statement(table, names, dialect)
        converters = {index: _converter(table, name, dialect) for index, name in enumerate(columns)}
        if self._copy is not None:
            order, keys = names, None
        elif compiled.positional:
            order, keys = list(compiled.positiontup or ()), None
        else:
            order, keys = names, names
        self._row = _row_function(columns, converters, fixed, order, keys)

    def execute(self, rows: Iterable[Sequence[Any]]) -> None:
        """Insert every row, `BATCH_ROWS` at a time; rows may be produced lazily."""
        pending = iter(rows)
        if self._copy is not None:
            self._copy_in(pending)
            return
        convert = self._row
        while batch := list(islice(pending, BATCH_ROWS)):
            self._connection.exec_driver_sql(self._sql, list(map(convert, batch)))

    def _copy_in(self, rows: Iterable[Sequence[Any]]) -> None:
        """PostgreSQL's COPY, through psycopg on the connection's own transaction: its
        executemany spends several times the server's work in Python for every row."""
        assert self._copy is not None
        cursor = self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        convert = self._row
        with cursor.copy(self._copy) as copy:
            write = copy.write_row
            for row in rows:
                write(convert(row))


def _row_function(
    columns: Sequence[str],
    converters: Mapping[int, Callable[[Any], Any]],
    fixed: Mapping[str, Any],
    order: Sequence[str],
    keys: Sequence[str] | None,
) -> Callable[[Sequence[Any]], Any]:
    """One function from a row (values in `columns` order) to what the driver takes: the
    values converted, with the constants, in `order`; a dict by `keys` for a driver with
    named parameters, else a tuple.

    Written out as Python source and compiled once per statement, as `dataclasses` does
    for `__init__`: the general loop over columns and converters cost more than the
    conversions themselves, and runs once per row of a 100,000-model listing. Only
    indexes and column names go into the source; values and converters are its globals.
    """
    scope: dict[str, Any] = {}
    parts = []
    for position, name in enumerate(order):
        if name in fixed:
            scope[f"f_{position}"] = fixed[name]
            parts.append(f"f_{position}")
            continue
        index = columns.index(name)
        convert = scope[f"c_{index}"] = converters[index]
        if convert is _same:
            parts.append(f"row[{index}]")
        elif convert(None) is None:  # most values of a listing are None: not converted
            parts.append(f"(None if (v_{index} := row[{index}]) is None else c_{index}(v_{index}))")
        else:
            parts.append(f"c_{index}(row[{index}])")
    if keys is None:
        body = f"({', '.join(parts)},)"
    else:
        pairs = ", ".join(f"{key!r}: {part}" for key, part in zip(keys, parts, strict=True))
        body = f"{{{pairs}}}"
    exec(f"def row_values(row):\n    return {body}\n", scope)
    function: Callable[[Sequence[Any]], Any] = scope["row_values"]
    return function


def _copy_statement(table: Table, names: Sequence[str], dialect: Dialect) -> str | None:
    """`COPY table (columns) FROM STDIN` where the driver is psycopg, else None."""
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return None
    quote = dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    return f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"


def _converter(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any]:
    """The column's bind processing as one function; JSON and dates remember repeated
    values."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return _JSONText(none_as_null=column_type.none_as_null)
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return _same
    if isinstance(column_type, Date):
        return _dates_remembered(process)
    return process


def _dates_remembered(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process` (SQLite formats dates in Python) once per date: a listing's release
    dates are a few hundred days."""
    memo: dict[date, Any] = {}

    def convert(value: Any) -> Any:
        if type(value) is not date:
            return process(value)
        converted = memo.get(value)
        if converted is None:
            converted = process(value)
            if len(memo) < _JSONText.MEMO_SIZE:
                memo[value] = converted
        return converted

    return convert


def _same(value: Any) -> Any:
    return value


#: `json.dumps`'s own encoder (the text SQLAlchemy's JSON type writes) without the check for
#: circular references, which costs a third of encoding; every value written was already
#: encoded once for its content hash, so none of them loops.
_ENCODER = json.JSONEncoder(check_circular=False)


def json_text(value: Any) -> str:
    """`value` as JSON text the way SQLAlchemy's JSON type writes it (`json.dumps`)."""
    return _ENCODER.encode(value)


class _JSONText:
    """JSON text as SQLAlchemy's JSON type writes it (`json.dumps`; None is SQL NULL for a
    `none_as_null` column, JSON `null` otherwise).

    A raw payload is already JSON text (`RawJSON`), written as it is. Capabilities and
    field origins repeat across a listing, so the text of a tuple of text, or of an object
    of text to text, is remembered (up to `MEMO_SIZE` of them) under the tuple, or the
    object's items, itself. Only text is remembered: `1`, `1.0` and `true` are equal keys
    but different JSON. A column whose values cannot be keys (nested: raw payloads, price
    tiers) stops trying at its first such value.
    """

    MEMO_SIZE = 1024

    def __init__(self, *, none_as_null: bool) -> None:
        self._none = None if none_as_null else "null"
        self._memo: dict[tuple[Any, ...], str] | None = {}
        self._objects: dict[tuple[Any, ...], str] | None = {}

    def __call__(self, value: Any) -> str | None:
        if value is None:
            return self._none
        kind = type(value)
        if kind is RawJSON:
            return value.text
        if kind is tuple:
            return self._remembered(self._memo, value, value, value)
        if kind is dict:
            key = tuple(value.items())
            return self._remembered(self._objects, key, value, chain.from_iterable(key))
        return _ENCODER.encode(value)

    def _remembered(
        self,
        memo: dict[tuple[Any, ...], str] | None,
        key: tuple[Any, ...],
        value: Any,
        texts: Iterable[Any],
    ) -> str:
        """The text of `value` from `memo`, by `key`; remembered there when `texts` (its
        items, or an object's keys and values) are all text."""
        if memo is None:
            return _ENCODER.encode(value)
        try:
            text = memo.get(key)
        except TypeError:  # nested: no key
            if memo is self._memo:
                self._memo = None
            else:
                self._objects = None
            return _ENCODER.encode(value)
        if text is None:
            text = _ENCODER.encode(value)
            if len(memo) < self.MEMO_SIZE and all(type(item) is str for item in texts):
                memo[key] = text
        return text
