"""Tables for people: a rich table on a terminal, aligned plain text when piped.

Plain text keeps one row per line and `-` for an empty cell, so `grep`, `sort` and `awk`
work on the output; machines that want every field use `--json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click

from aisync.catalog.records import as_dict
from aisync.cli.fit import fitted
from aisync.cli.render import Output, ago, number

EMPTY = "-"


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
        output.out.print(fitted(output.out, headers, rows, solid=solid, drop=drop, short=short))
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


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
