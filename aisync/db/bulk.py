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

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, Table, insert

from aisync.canonical import RawJSON

#: Rows per executemany: round trips stop mattering well before this, memory does not.
BATCH_ROWS = 5_000


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
        self._fixed = list(fixed.values())
        converters = [
            (index, convert)
            for index, name in enumerate(columns)
            if (convert := _converter(table, name, dialect)) is not _same
        ]
        #: Most values of a listing are None, which most converters leave as it is.
        self._convert = [(i, convert) for i, convert in converters if convert(None) is None]
        self._convert_none = [
            (i, convert) for i, convert in converters if convert(None) is not None
        ]
        self._copy = _copy_statement(table, names, dialect)
        if compiled.positional:
            order = [names.index(name) for name in compiled.positiontup or ()]
            self._shape: Callable[[list[Any]], Any] = _positional(order)
        else:
            self._shape = _named(names)

    def execute(self, rows: Iterable[Sequence[Any]]) -> None:
        """Insert every row, `BATCH_ROWS` at a time; rows may be produced lazily."""
        pending = iter(rows)
        if self._copy is not None:
            self._copy_in(pending)
            return
        while batch := list(islice(pending, BATCH_ROWS)):
            self._connection.exec_driver_sql(
                self._sql, [self._shape(self._values(row)) for row in batch]
            )

    def _copy_in(self, rows: Iterable[Sequence[Any]]) -> None:
        """PostgreSQL's COPY, through psycopg on the connection's own transaction: its
        executemany spends several times the server's work in Python for every row."""
        assert self._copy is not None
        cursor = self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(self._copy) as copy:
            for row in rows:
                copy.write_row(self._values(row))

    def _values(self, row: Sequence[Any]) -> list[Any]:
        """The row and the constants, converted, in `columns` order then the constants'."""
        values = [*row, *self._fixed]
        for index, convert in self._convert:
            if (value := values[index]) is not None:
                values[index] = convert(value)
        for index, convert in self._convert_none:
            values[index] = convert(values[index])
        return values


def _copy_statement(table: Table, names: Sequence[str], dialect: Dialect) -> str | None:
    """`COPY table (columns) FROM STDIN` where the driver is psycopg, else None."""
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return None
    quote = dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    return f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"


def _positional(order: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    if len(order) == 1:
        return lambda values: (values[order[0]],)
    return itemgetter(*order)


def _named(names: list[str]) -> Callable[[list[Any]], dict[str, Any]]:
    return lambda values: dict(zip(names, values, strict=True))


def _converter(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any]:
    """The column's bind processing as one function; JSON remembers repeated small values."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return _JSONText(none_as_null=column_type.none_as_null)
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


#: `json.dumps`'s own encoder (the text SQLAlchemy's JSON type writes) without the check for
#: circular references, which costs a third of encoding; every value written was already
#: encoded once for its content hash, so none of them loops.
_ENCODER = json.JSONEncoder(check_circular=False)


class _JSONText:
    """JSON text as SQLAlchemy's JSON type writes it (`json.dumps`; None is SQL NULL for a
    `none_as_null` column, JSON `null` otherwise).

    A raw payload is already JSON text (`RawJSON`), written as it is. Capabilities and
    field origins repeat across a listing, so the text of a flat list or
    object is remembered (up to `MEMO_SIZE` of them); a column whose values are nested
    (raw payloads) stops trying at its first such value.
    """

    MEMO_SIZE = 1024

    def __init__(self, *, none_as_null: bool) -> None:
        self._none = None if none_as_null else "null"
        self._memo: dict[tuple[Any, ...], str] | None = {}

    def __call__(self, value: Any) -> str | None:
        if value is None:
            return self._none
        if type(value) is RawJSON:
            return value.text
        if self._memo is None:
            return _ENCODER.encode(value)
        try:
            key = (type(value), *(value.items() if isinstance(value, dict) else value))
            text = self._memo.get(key)
        except TypeError:
            self._memo = None
            return _ENCODER.encode(value)
        if text is None:
            text = _ENCODER.encode(value)
            if len(self._memo) < self.MEMO_SIZE:
                self._memo[key] = text
        return text
