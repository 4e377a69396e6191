"""`aisync export`: the current catalog as JSON, JSON Lines or CSV for other tools, or as
one self-contained HTML page for people (`--format html`)."""

from __future__ import annotations

import click

from aisync import __version__
from aisync.catalog.export import FORMATS, render_export
from aisync.catalog.page import page_data, render_page
from aisync.cli.browse import ask, provider_option
from aisync.cli.options import common_options
from aisync.cli.render import Output, plural


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
    with its recent history, and the last 30 days of changes, in one file.
    """
    if format_ == "html":
        page = ask(database_url, config_path, lambda catalog: page_data(catalog, provider=provider))
        count = len(page["models"])
        data = render_page(page, version=__version__).encode("utf-8")
    else:
        rows = ask(database_url, config_path, lambda c: c.export_rows(provider=provider))
        count = len(rows)
        data = render_export(rows, format_).encode("utf-8")
    if path is None:
        click.echo(data, nl=False)
        return 0
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        Output().error(f"Cannot write {path}: {exc.strerror}")
        return 1
    Output().err.print(f"Exported {plural(count, 'model')} to {path}", markup=False)
    return 0
