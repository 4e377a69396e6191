"""`aisync sync-models`: the seed's command, for people (rich) and machines (`--json`)."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from aisync.cli.collector import SYNC, rare_collections
from aisync.cli.options import common_options, settings_from
from aisync.cli.render import Output, render_sync
from aisync.errors import AisyncError, Terminated
from aisync.report import EXIT_TERMINATED


@click.command("sync-models")
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="NAME",
    help="Sync only this provider (repeatable).",
)
@click.option("--force", is_flag=True, help="Sync even providers synced within their cache TTL.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch and compare, write nothing; exit 3 if the catalog would change.",
)
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Accept a listing that is empty or removes more than half of a provider's models.",
)
@click.option(
    "--no-enrich",
    is_flag=True,
    help="Skip the enrichment sources this run (their previous values carry forward).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="API timeout in seconds (default: 30).",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Fail a provider whose whole fetch takes longer (default: 6 x --timeout).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    metavar="N",
    help="Providers fetched at once (default: 16).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Wait this long for a provider another run is syncing, then skip it (default: 5).",
)
@click.option(
    "-v", "--verbose", count=True, help="Show statistics and details; -vv adds tracebacks."
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing on success; errors still go to stderr."
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report on stdout.")
@common_options
def sync_models(
    providers: tuple[str, ...],
    force: bool,
    dry_run: bool,
    allow_removals: bool,
    no_enrich: bool,
    timeout: float | None,
    deadline: float | None,
    concurrency: int | None,
    lock_timeout: float | None,
    verbose: int,
    quiet: bool,
    as_json: bool,
    database_url: str | None,
    config_path: str | None,
) -> int:
    """Sync the model lists of every configured provider into the catalog.

    Exit codes: 0 all synced or fresh, 1 nothing could be synced, 2 some providers failed,
    3 (with --dry-run) a sync would change the catalog, 64 bad usage, 130 Ctrl-C,
    143 SIGTERM.
    """
    output = Output(quiet=quiet or as_json, verbose=verbose)
    try:
        with _sigterm_stops_the_run():
            return _sync(
                output,
                providers=providers,
                force=force,
                dry_run=dry_run,
                allow_removals=allow_removals,
                no_enrich=no_enrich,
                timeout=timeout,
                deadline=deadline,
                concurrency=concurrency,
                lock_timeout=lock_timeout,
                verbose=verbose,
                as_json=as_json,
                database_url=database_url,
                config_path=config_path,
            )
    except Terminated:
        output.error("Terminated")
        return EXIT_TERMINATED


@contextmanager
def _sigterm_stops_the_run() -> Iterator[None]:
    """SIGTERM (cron, systemd, Kubernetes) raises `Terminated` in the main thread as Ctrl-C
    raises KeyboardInterrupt, so the run is recorded as aborted; a second SIGTERM while it
    is being recorded is ignored rather than cut that short."""

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sync(
    output: Output,
    *,
    providers: tuple[str, ...],
    force: bool,
    dry_run: bool,
    allow_removals: bool,
    no_enrich: bool,
    timeout: float | None,
    deadline: float | None,
    concurrency: int | None,
    lock_timeout: float | None,
    verbose: int,
    as_json: bool,
    database_url: str | None,
    config_path: str | None,
) -> int:
    if verbose >= 2:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        # httpcore's wire trace prints raw response headers, where a server may echo a key.
        logging.getLogger("httpcore").setLevel(logging.INFO)
    try:
        from aisync.sync.engine import Syncer

        settings = settings_from(
            config_path,
            database_url=database_url,
            timeout=timeout,
            provider_deadline=deadline,
            concurrency=concurrency,
            enrich="none" if no_enrich else None,
        )
        catalog = _new_catalog(settings.database_url)
        syncer = Syncer(settings=settings)
        try:
            with (
                rare_collections(SYNC),
                output.progress("Syncing models from AI providers...") as progress,
            ):
                report = syncer.sync_models(
                    providers or None,
                    force=force,
                    dry_run=dry_run,
                    timeout=timeout,
                    allow_removals=allow_removals,
                    lock_timeout=lock_timeout,
                    deadline=deadline,
                    progress=progress,
                )
        finally:
            syncer.close()
    except AisyncError as exc:
        if verbose >= 2:
            logging.getLogger("aisync").exception("sync-models failed")
        output.error(str(exc))
        return 1
    except Exception as exc:
        # The last line of defence for cron: one line, the traceback only when asked for.
        if verbose:
            logging.getLogger("aisync").exception("sync-models failed")
        output.error(f"Unexpected error: {type(exc).__name__}: {exc} (run with -v for details)")
        return 1
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
        if report.message is not None:
            output.error(report.message)
    else:
        render_sync(report, output)
        if catalog is not None and report.synced and not report.dry_run:
            output.line(f"Catalog created at {catalog}: browse it with `aisync models`.")
    return report.exit_code


def _new_catalog(url: str) -> str | None:
    """Where the catalog will be, when this run creates it (a SQLite file not there yet,
    or empty): the first successful sync says where to look next. None otherwise."""
    from sqlalchemy.exc import ArgumentError

    from aisync.db.connect import sqlite_path

    try:
        path = sqlite_path(url)
    except ArgumentError:
        return None  # the run reports the bad URL
    if path is None or (path.is_file() and path.stat().st_size > 0):
        return None
    return str(path)
