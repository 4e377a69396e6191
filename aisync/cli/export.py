"""`aisync export`: the current catalog as JSON, JSON Lines or CSV for other tools, or as
one self-contained HTML page for people (`--format html`)."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from aisync import __version__
from aisync.catalog.export import FORMATS, write_export_columns
from aisync.catalog.page import page_data, render_page
from aisync.cli.browse import ask, provider_option
from aisync.cli.options import common_options
from aisync.cli.render import Output, plural
from aisync.cli.tables import piped_output

if TYPE_CHECKING:
    from aisync.catalog.catalog import Catalog


@click.command()
@click.option(
    "--format", "format_", type=click.Choice((*FORMATS, "html")), default="json", show_default=True
)
@provider_option
@click.option(
    "--output",
    "-o",
    "path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of stdout.",
)
@common_options
def export(
    format_: str,
    provider: str | None,
    path: str | None,
    database_url: str | None,
    config_path: str | None,
) -> int:
    """Export the current catalog (shape documented in the README), UTF-8 always.

    `html` is a page to open in a browser: the models in a sortable, filterable table, each
    with its recent history, and the last 30 days of changes, in one file. The other
    formats stream: rows are written as the database returns them, so memory stays flat on
    a catalog of any size.
    """
    if path is None:
        stdout = sys.stdout.buffer
        with piped_output(stdout):
            ask(database_url, config_path, partial(_write, provider, format_, stdout))
        return 0
    try:
        with open(path, "wb") as handle:
            count = ask(database_url, config_path, partial(_write, provider, format_, handle))
    except OSError as exc:
        Output().error(f"Cannot write {path}: {exc.strerror}")
        return 1
    except click.exceptions.Exit:
        Path(path).unlink(missing_ok=True)  # no catalog, or it failed midway: no half file
        raise
    Output().err.print(f"Exported {plural(count, 'model')} to {path}", markup=False)
    return 0


def _write(provider: str | None, format_: str, stream: BinaryIO, catalog: Catalog) -> int:
    if format_ == "html":
        page = page_data(catalog, provider=provider)
        stream.write(render_page(page, version=__version__).encode("utf-8"))
        return len(page["models"])
    from aisync.cli.collector import STREAM, rare_collections  # not needed for --help

    with rare_collections(STREAM):
        return write_export_columns(catalog.iter_export_columns(provider=provider), format_, stream)
