"""Tables that fit the terminal without breaking what people copy and grep for.

A model id, a provider name or a status folded mid-word (`succee`/`ded`) cannot be copied
or read. Each table names its solid columns (never broken), values it can shorten and the
columns that give way first; the first variant whose narrowest layout fits is printed,
and when none does, each record becomes a block of `NAME: value` lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

#: A cell of a wrapping column needs at most this much: a longer word (a URL) may fold.
LONGEST_WORD = 24
Rows = Sequence[Sequence[str]]


def fitted(
    console: Console,
    headers: Sequence[str],
    rows: Rows,
    *,
    solid: Sequence[str] = (),
    drop: Sequence[str] = (),
    short: Mapping[str, Sequence[str]] | None = None,
) -> RenderableType:
    """The widest variant of the table that fits `console.width`, else one block per row.

    :param solid: headers of the columns whose cells are never broken.
    :param drop: headers of the columns that give way, least useful first.
    :param short: header -> a shorter cell per row, tried before any column is dropped.
    """
    for variant_headers, variant_rows in _variants(headers, rows, drop, short or {}):
        if _narrowest(variant_headers, variant_rows, solid) <= console.width:
            return _table(variant_headers, variant_rows, solid, console.width)
    return _blocks(headers, rows)


def _variants(
    headers: Sequence[str], rows: Rows, drop: Sequence[str], short: Mapping[str, Sequence[str]]
) -> Iterator[tuple[list[str], list[list[str]]]]:
    current_headers, current_rows = list(headers), [list(row) for row in rows]
    yield current_headers, current_rows
    for header, values in short.items():
        index = current_headers.index(header)
        current_rows = [
            [*r[:index], v, *r[index + 1 :]] for r, v in zip(current_rows, values, strict=True)
        ]
        yield current_headers, current_rows
    for header in drop:
        index = current_headers.index(header)
        current_headers = [h for i, h in enumerate(current_headers) if i != index]
        current_rows = [[c for i, c in enumerate(r) if i != index] for r in current_rows]
        yield current_headers, current_rows


def _narrowest(headers: Sequence[str], rows: Rows, solid: Sequence[str]) -> int:
    """The least width the table needs: solid cells whole, other cells their longest word
    (up to `LONGEST_WORD`); each column adds two cells of padding and one of border."""
    total = 1
    for index, header in enumerate(headers):
        total += _least_width(header in solid, [header, *(row[index] for row in rows)]) + 3
    return total


def _longest_word(value: str) -> int:
    return max((cell_len(word) for word in value.split()), default=0)


def _table(headers: Sequence[str], rows: Rows, solid: Sequence[str], width: int) -> Table:
    table = Table(box=box.SIMPLE_HEAD, highlight=False)
    for header, column_width in zip(headers, _widths(headers, rows, solid, width), strict=True):
        table.add_column(
            header, no_wrap=header in solid, overflow="fold", width=column_width, max_width=None
        )
    for row in rows:
        table.add_row(*row)
    return table


def _widths(headers: Sequence[str], rows: Rows, solid: Sequence[str], width: int) -> list[int]:
    """Each column's width: its least, then the room left shared among the wrapping
    columns in proportion to what more they could use (rich's own squeeze would cut the
    solid columns as readily as the others)."""
    columns = [[header, *(row[index] for row in rows)] for index, header in enumerate(headers)]
    least = [_least_width(h in solid, cells) for h, cells in zip(headers, columns, strict=True)]
    wanted = [max(cell_len(value) for value in cells) for cells in columns]
    spare = width - (3 * len(headers) + 1) - sum(least)
    more = [w - n for w, n in zip(wanted, least, strict=True)]
    total_more = sum(more)
    if total_more <= spare:
        return wanted
    return [n + (spare * m) // total_more for n, m in zip(least, more, strict=True)]


def _least_width(solid: bool, cells: Sequence[str]) -> int:
    """A solid column's widest cell; another's longest word, up to `LONGEST_WORD`."""
    if solid:
        return max(cell_len(value) for value in cells)
    return max(min(_longest_word(value), LONGEST_WORD) for value in cells)


def _blocks(headers: Sequence[str], rows: Rows) -> Group:
    """The last resort: `HEADER: value` lines per record, a blank line between records;
    a value wider than the terminal is left to the terminal to wrap, never cut."""
    width = max(cell_len(header) for header in headers) + 1
    lines: list[RenderableType] = []
    for number, row in enumerate(rows):
        if number:
            lines.append(Text(""))
        for header, value in zip(headers, row, strict=True):
            lines.append(Text(f"{header + ':':<{width}} {value}", no_wrap=True, overflow="ignore"))
    return Group(*lines)
