"""`aisync providers | models | runs | changes | stats`: questions answered from the catalog.

Each command parses its options, asks `aisync.Catalog`, and renders the records: a table
for people, `--json` for machines. A missing catalog or an unknown model is one line on
stderr and exit 1; a bad option value exits 64.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from aisync.catalog.records import RUN_STATUSES, SORT_FIELDS
from aisync.cli import FullHelpGroup, catalog_render
from aisync.cli.collector import STREAM, rare_collections
from aisync.cli.options import TEXT, common_options, settings_from
from aisync.cli.render import Output
from aisync.cli.tables import piped_output, print_json, stream_json
from aisync.errors import AisyncError, UsageError
from aisync.records import CAPABILITIES

if TYPE_CHECKING:
    from aisync.catalog.catalog import Catalog
    from aisync.catalog.records import CatalogModel

T = TypeVar("T")
#: `changes --format`: the feeds of `aisync.catalog.feeds`.
CHANGES_FORMATS = ("atom", "jsonfeed")

#: How many models `aisync models` shows in a table on a terminal without `--limit`: more
#: scroll past unread, and the table must be built whole before it is printed.
TERMINAL_LIMIT = 500

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the records as JSON on stdout."
)
provider_option = click.option(
    "--provider", type=TEXT, metavar="NAME", help="Only this provider instance."
)


class Since(click.ParamType):  # type: ignore[type-arg]  # generic in newer clicks only
    """`7d`, `12h`, `30m` or an ISO date or time (local unless it has a zone)."""

    name = "7d|12h|30m|DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from aisync.catalog.since import parse_since

        if isinstance(value, datetime):
            return value
        try:
            return parse_since(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


class SortField(click.ParamType):  # type: ignore[type-arg]  # generic in newer clicks only
    """`FIELD` or `-FIELD`: the help lists the fields once, grouped, not every field twice."""

    name = "[-]FIELD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if str(value).removeprefix("-") not in SORT_FIELDS:
            self.fail(f"{value!r} is not a field to sort by: {', '.join(SORT_FIELDS)}", param, ctx)
        return str(value)


def ask(database_url: str | None, config_path: str | None, question: Callable[[Catalog], T]) -> T:
    """Open the catalog, ask, close: errors become one line (exit 1) or a usage error (64)."""
    from aisync.catalog.catalog import Catalog

    try:
        settings = settings_from(config_path, database_url=database_url)
        with Catalog(settings=settings) as catalog:
            return question(catalog)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except AisyncError as exc:
        Output().error(str(exc))
        raise click.exceptions.Exit(1) from None


def show(records: Any, as_json: bool, empty: str, render: Callable[[Output], None]) -> int:
    """Print JSON, or the table, or (nothing to show) a note on stderr; stdout stays clean."""
    output = Output()
    if as_json:
        print_json(records)
    elif not records:
        output.err.print(empty, markup=False)
    else:
        render(output)
    return 0


@click.command()
@click.option(
    "--available",
    is_flag=True,
    help="Every provider type aisync can sync, its key variables, whether it is set up here.",
)
@json_option
@common_options
def providers(
    available: bool, as_json: bool, database_url: str | None, config_path: str | None
) -> int:
    """Every provider: plugin, credentials, base URL, last sync, models listed, last error."""
    missing = _missing_catalog(database_url, config_path)
    if available or missing is not None:
        note = None
        if missing is not None and not available:
            note = (
                f"No catalog at {missing} yet: these are the provider types aisync can sync. "
                "Set a key variable, then run `aisync sync-models`."
            )
        return available_providers(as_json, config_path, note)
    found = ask(database_url, config_path, lambda catalog: catalog.providers())
    return show(found, as_json, "No providers.", partial(catalog_render.render_providers, found))


def _missing_catalog(database_url: str | None, config_path: str | None) -> Path | None:
    """The SQLite file of a catalog not created yet: before the first sync, `providers`
    answers from the plugins alone instead of failing."""
    from sqlalchemy.exc import ArgumentError

    from aisync.db.connect import sqlite_path

    try:
        path = sqlite_path(settings_from(config_path, database_url=database_url).database_url)
    except (AisyncError, ArgumentError):
        return None  # `ask` reports it as it does for every command
    return path if path is not None and not path.exists() else None


def available_providers(as_json: bool, config_path: str | None, note: str | None = None) -> int:
    """`providers --available`: from the plugins and the settings alone, no catalog (with
    `note` on stderr once the listing is sure to come: before the first sync)."""
    from aisync.sync.discovery import available_types, discover
    from aisync.sync.plugins import get_plugin_manager

    try:
        settings = settings_from(config_path)
        found = available_types(discover(get_plugin_manager(), settings), settings)
    except AisyncError as exc:
        Output().error(str(exc))
        raise click.exceptions.Exit(1) from None
    if note is not None:
        Output().err.print(note, markup=False)
    render = partial(catalog_render.render_available, found)
    return show(found, as_json, "No provider types.", render)


@click.group(cls=FullHelpGroup, invoke_without_command=True)
@provider_option
@click.option(
    "--capability",
    type=click.Choice(CAPABILITIES),
    metavar="CAP",
    help=f"Only models with it: {', '.join(CAPABILITIES)}.",
)
@click.option(
    "--search", type=TEXT, metavar="TEXT", help="Part of the model id or name (A-Z in either case)."
)
@click.option("--include-removed", is_flag=True, help="Also models no longer listed.")
@click.option(
    "--sort",
    type=SortField(),
    default="provider",
    show_default=True,
    help="Sort by FIELD; a leading - sorts descending; missing values come last. "
    f"FIELD: {', '.join(SORT_FIELDS[:4])}; or a version field: "
    f"{', '.join(SORT_FIELDS[4:])}.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    metavar="N",
    help=f"At most N models, 0 for all. Default: all when piped or with --json (streamed), "
    f"the first {TERMINAL_LIMIT} in a table on a terminal.",
)
@json_option
@common_options
@click.pass_context
def models(
    ctx: click.Context,
    provider: str | None,
    capability: str | None,
    search: str | None,
    include_removed: bool,
    sort: str,
    limit: int | None,
    as_json: bool,
    database_url: str | None,
    config_path: str | None,
) -> int | None:
    """The current catalog; `models show PROVIDER/MODEL_ID` for one model's history.

    A terminal gets a table of the first `--limit` models; piped output and `--json` are
    written as the database returns the rows, so a catalog of any size streams through.
    """
    if ctx.invoked_subcommand is not None:
        return None
    output = Output()
    table = not as_json and output.out.is_terminal
    if limit is None and table:
        limit = TERMINAL_LIMIT
    elif limit == 0:
        limit = None

    def query(catalog: Catalog, limit: int | None) -> Iterator[CatalogModel]:
        return catalog.iter_models(
            provider=provider,
            capability=capability,
            search=search,
            include_removed=include_removed,
            sort=sort,
            limit=limit,
        )

    if table:
        more = None if limit is None else limit + 1
        found = ask(database_url, config_path, lambda c: list(query(c, more)))
        if limit is not None and len(found) > limit:
            del found[limit:]
            output.err.print(
                f"Showing the first {limit} models: --limit N for more (0 for all), "
                "or pipe the output or use --json for every model.",
                markup=False,
            )
        render = partial(catalog_render.render_models, found, removed=include_removed)
        return show(found, False, "No models match.", render)
    with piped_output(sys.stdout), rare_collections(STREAM):
        if as_json:
            ask(database_url, config_path, lambda c: stream_json(query(c, limit)))
            return 0
        count = ask(
            database_url,
            config_path,
            lambda c: catalog_render.stream_models(query(c, limit), removed=include_removed),
        )
    if not count:
        output.err.print("No models match.", markup=False)
    return 0


@models.command("show")
@click.argument("model", type=TEXT, metavar="PROVIDER/MODEL_ID")
@click.option(
    "--sources", is_flag=True, help="Per field: its value, its origin, what other origins offered."
)
@json_option
@common_options
def show_model(
    model: str, sources: bool, as_json: bool, database_url: str | None, config_path: str | None
) -> int:
    """One model: its latest fields, every version with what changed, and its events."""
    provider, slash, model_id = model.partition("/")
    if not (provider and slash and model_id):
        raise click.BadParameter(f"{model!r} is not PROVIDER/MODEL_ID", param_hint="MODEL")
    if sources:
        found = ask(database_url, config_path, lambda c: c.model_sources(provider, model_id))
        return show(found, as_json, "", partial(catalog_render.render_sources, found))
    history = ask(database_url, config_path, lambda c: c.model_history(provider, model_id))
    return show(history, as_json, "", partial(catalog_render.render_history, history))


@click.group(cls=FullHelpGroup, invoke_without_command=True)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N runs."
)
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@json_option
@common_options
@click.pass_context
def runs(
    ctx: click.Context,
    limit: int,
    status: str | None,
    as_json: bool,
    database_url: str | None,
    config_path: str | None,
) -> int | None:
    """The history of sync runs, newest first; `runs show RUN_ID` for one run."""
    if ctx.invoked_subcommand is not None:
        return None
    found = ask(database_url, config_path, lambda c: c.runs(limit=limit, status=status))
    return show(found, as_json, "No sync runs.", partial(catalog_render.render_runs, found))


@runs.command("show")
@click.argument("run_id", type=int)
@json_option
@common_options
def show_run(run_id: int, as_json: bool, database_url: str | None, config_path: str | None) -> int:
    """One run: its outcome and every provider's counts, duration and error."""
    run = ask(database_url, config_path, lambda catalog: catalog.run(run_id))
    return show(run, as_json, "", partial(catalog_render.render_run, run))


@click.command()
@click.option("--since", type=Since(), help="Only changes since then: 7d, 12h, 30m or a date.")
@provider_option
@click.option("--run", "run_id", type=int, metavar="RUN_ID", help="Only changes of this run.")
@json_option
@click.option(
    "--format",
    "format_",
    type=click.Choice(CHANGES_FORMATS),
    help="A feed instead of the table: Atom 1.0 or JSON Feed 1.1 (stable entry ids).",
)
@click.option(
    "--feed-url", type=TEXT, metavar="URL", help="Where the feed is published (its self link)."
)
@common_options
def changes(
    since: datetime | None,
    provider: str | None,
    run_id: int | None,
    as_json: bool,
    format_: str | None,
    feed_url: str | None,
    database_url: str | None,
    config_path: str | None,
) -> int:
    """What was added, changed (field by field, old -> new) and removed, newest first."""
    if as_json and format_ is not None:
        raise click.UsageError("Use --json or --format, not both")
    found = ask(
        database_url,
        config_path,
        lambda c: c.changes(since=since, provider=provider, run_id=run_id),
    )
    if format_ is not None:
        from aisync.catalog.feeds import FeedInfo, render_feed

        info = FeedInfo(provider=provider, run_id=run_id, feed_url=feed_url)
        click.echo(render_feed(found, info, format_).encode("utf-8"), nl=False)
        return 0
    return show(found, as_json, "No changes.", partial(catalog_render.render_changes, found))


@click.command()
@provider_option
@click.option("--history", is_flag=True, help="Every successful sync's figures, oldest first.")
@json_option
@common_options
def stats(
    provider: str | None,
    history: bool,
    as_json: bool,
    database_url: str | None,
    config_path: str | None,
) -> int:
    """The statistics of each provider's latest successful sync (or all, with --history)."""
    found = ask(database_url, config_path, lambda c: c.stats(provider=provider, history=history))
    render = partial(catalog_render.render_stats, found, history=history)
    return show(found, as_json, "No statistics yet.", render)
