"""Tables for people: a rich table on a terminal, aligned plain text when piped.

Plain text keeps one row per line and `-` for an empty cell, so `grep`, `sort` and `awk`
work on the output; machines that want every field use `--json`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from itertools import islice
from typing import IO, Any

import click

from aisync.catalog.export import json_array_chunks
from aisync.catalog.records import as_dict
from aisync.cli.render import Output, ago, number

EMPTY = "-"
#: How many rows of a streamed table set its column widths.
WIDTH_SAMPLE = 1_000


def print_table(
    output: Output,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    solid: Sequence[str] = (),
    drop: Sequence[str] = (),
    short: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """On a terminal, a table that fits its width (`aisync.cli.fit.fitted`: `solid` columns
    never broken, `short` values and then `drop`ped columns before one block per record)."""
    if output.out.is_terminal:
        from aisync.cli.fit import fitted  # rich's tables: only for a terminal

        output.out.print(fitted(output.out, headers, rows, solid=solid, drop=drop, short=short))
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


def stream_table(headers: Sequence[str], rows: Iterator[Sequence[str]]) -> int:
    """Plain text (never a terminal) as the rows come: the columns are as wide as
    `print_table` makes them for the first `WIDTH_SAMPLE` rows, so a catalog of that size
    prints exactly as it always did; a longer cell further down widens its own line only.
    Returns the number of rows."""
    first = list(islice(rows, WIDTH_SAMPLE))
    if not first:
        return 0
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *first, strict=True)]
    click.echo(_lines([headers, *first], widths), nl=False)
    count = len(first)
    while batch := list(islice(rows, WIDTH_SAMPLE)):
        click.echo(_lines(batch, widths), nl=False)
        count += len(batch)
    return count


def _lines(rows: Iterable[Sequence[str]], widths: Sequence[int]) -> str:
    return "".join(
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        for row in rows
    )


def stream_json(records: Iterable[Any]) -> int:
    """`print_json` of the records, written as they come; returns how many there were."""
    count = 0
    for text, size in json_array_chunks(as_dict(record) for record in records):
        click.echo(text, nl=False)
        count += size
    return count


@contextmanager
def piped_output(stream: IO[Any]) -> Iterator[None]:
    """`aisync export | head`: a reader that stops early ends the command quietly (exit
    0), without a traceback or Python's "Exception ignored" when it flushes at exit."""
    try:
        yield
    except BrokenPipeError:
        with suppress(OSError, ValueError):  # not a real file (a test's buffer)
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        raise click.exceptions.Exit(0) from None


def print_fields(output: Output, fields: Sequence[tuple[str, str]]) -> None:
    """`Name: value` lines, for one record."""
    width = max(len(name) for name, _ in fields) + 1
    for name, value in fields:
        output.line(f"{name + ':':<{width}} {value}")


def print_json(data: Any) -> None:
    click.echo(json.dumps(as_dict(data), indent=2, sort_keys=True, ensure_ascii=False))


def when(moment: datetime | None) -> str:
    """A stored UTC time in local time with its age: `2026-11-25 11:39 (2 hours ago)`."""
    if moment is None:
        return "Never"
    return f"{moment.astimezone():%Y-%m-%d %H:%M} ({ago(moment)})"


def cell(value: object) -> str:
    if value is None or value == () or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int):
        return number(value)
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, datetime):
        return when(value)
    return str(value)


def duration(milliseconds: int | None) -> str:
    if milliseconds is None:
        return EMPTY
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    return f"{milliseconds / 1000:.1f} s"
