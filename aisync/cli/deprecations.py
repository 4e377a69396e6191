"""`aisync deprecations`: which listed models retire when, for people and for CI.

`--fail-within` turns the list into a check: exit 4 (`EXIT_DEPRECATION_DUE`) when a model
the project uses retires that soon or has already retired, after printing the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Any

import click

from aisync.catalog.deprecations import (
    Deprecation,
    DeprecationReport,
    parse_model_list,
    parse_window,
)
from aisync.cli.browse import ask, json_option, show
from aisync.cli.options import TEXT, common_options
from aisync.cli.render import Output, plural
from aisync.cli.tables import EMPTY, print_json, print_table
from aisync.errors import UsageError
from aisync.report import EXIT_DEPRECATION_DUE, EXIT_OK


class Window(click.ParamType):  # type: ignore[type-arg]  # generic in newer clicks only
    """Whole days: `90d`, `12w`, `1y` (365 days) or a bare number of days."""

    name = "90d|12w|1y"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        try:
            return parse_window(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


class Day(click.ParamType):  # type: ignore[type-arg]  # generic in newer clicks only
    """An ISO date, `2026-12-01`."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-12-01", param, ctx)


@click.command()
@click.option(
    "--within",
    type=Window(),
    metavar="Nd|Nw|Ny",
    help="Only dates at most this far ahead (past dates always show).",
)
@click.option(
    "--provider",
    "providers",
    type=TEXT,
    metavar="NAME",
    multiple=True,
    help="Only this provider instance (repeatable).",
)
@click.option(
    "--models",
    "model_list",
    type=TEXT,
    metavar="ID,...",
    help="Only these models: provider/id or a bare id, comma-separated.",
)
@click.option(
    "--models-file",
    type=click.Path(dir_okay=False),
    help="Only the models of this file: one id per line, # comments.",
)
@click.option(
    "--fail-within",
    type=Window(),
    metavar="Nd|Nw|Ny",
    help="Exit 4 when a listed model retires at most this far ahead, or already has.",
)
@click.option("--as-of", type=Day(), help="Count days from this date instead of today (UTC).")
@json_option
@common_options
def deprecations(
    within: int | None,
    providers: tuple[str, ...],
    model_list: str | None,
    models_file: str | None,
    fail_within: int | None,
    as_of: date | None,
    as_json: bool,
    database_url: str | None,
    config_path: str | None,
) -> int:
    """Listed models with a known deprecation date: days left, successor, date's origin."""
    wanted = _wanted(model_list, models_file)
    report = ask(
        database_url,
        config_path,
        lambda c: c.deprecations(within=within, providers=providers, models=wanted, as_of=as_of),
    )
    output = Output()
    if report.not_in_catalog:
        output.err.print(
            f"Not in the catalog (no provider lists them now): {', '.join(report.not_in_catalog)}",
            markup=False,
        )
    if as_json:
        print_json(report)
    else:
        show(report.deprecations, False, _empty(report), partial(render, report.deprecations))
    return _verdict(report, fail_within, output)


def _wanted(model_list: str | None, models_file: str | None) -> tuple[str, ...] | None:
    """The ids of `--models` and `--models-file` together; None when neither is given."""
    if model_list is None and models_file is None:
        return None
    ids = [part.strip() for part in (model_list or "").split(",") if part.strip()]
    if models_file is not None:
        try:
            with open(models_file, encoding="utf-8") as handle:
                ids.extend(parse_model_list(handle.read()))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise click.BadParameter(f"cannot read {models_file}: {reason}") from None
    return tuple(ids)


def _empty(report: DeprecationReport) -> str:
    if report.within_days is None:
        return "No listed model has a known deprecation date."
    return f"No listed model retires within {plural(report.within_days, 'day')}."


def _verdict(report: DeprecationReport, fail_within: int | None, output: Output) -> int:
    """Exit 4, with one line on stderr, when a model is due within `--fail-within` days."""
    if fail_within is None:
        return EXIT_OK
    due = report.due_within(fail_within)
    if not due:
        return EXIT_OK
    names = ", ".join(f"{d.provider}/{d.model_id}" for d in due)
    output.error(
        f"Retiring within {plural(fail_within, 'day')} of {report.as_of.isoformat()} "
        f"or retired: {names}"
    )
    return EXIT_DEPRECATION_DUE


def days_left(days: int) -> str:
    """`in 12 days`, `today`, `retired 3 days ago`."""
    if days == 0:
        return "today"
    unit = "day" if abs(days) == 1 else "days"
    return f"in {days} {unit}" if days > 0 else f"retired {-days} {unit} ago"


def render(found: Sequence[Deprecation], output: Output) -> None:
    headers = ("PROVIDER", "MODEL", "DATE", "LEFT", "SUCCESSOR", "SOURCE")
    rows = [
        (
            d.provider,
            d.model_id,
            d.deprecation_date.isoformat(),
            days_left(d.days_left),
            d.successor or EMPTY,
            d.source,
        )
        for d in found
    ]
    short = {"LEFT": [_short_left(d.days_left) for d in found]}
    solid = ("PROVIDER", "MODEL", "DATE")
    print_table(output, headers, rows, solid=solid, drop=("SOURCE", "SUCCESSOR"), short=short)


def _short_left(days: int) -> str:
    """`12d`, `-3d`: the LEFT column when the table is tight."""
    return f"{days}d"
