"""The `aisync` command line: thin commands that parse options, call the API and render.

Exit codes are part of the contract: usage errors (bad option values) exit 64, never 2,
so cron monitoring cannot mistake them for a partial sync. A usage error is one line on
stderr (`Error: ...`), like every other error: `-h` shows the usage.
"""

from __future__ import annotations

import sys
from typing import Any

import click

#: httpx imports its own command line (click, rich.syntax, pygments' lexers) whenever those
#: are installed, as they are with aisync: a third of every aisync command's start-up for
#: code it never runs (a lazy import upstream fixes it: pydantic/httpx2#947). Marking the
#: module absent makes httpx fall back to its stub `main`; a library user's process, which
#: does not import the CLI, is left alone.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from aisync import __version__  # noqa: E402
from aisync.report import EXIT_INTERRUPTED, EXIT_USAGE  # noqa: E402


class FullHelpGroup(click.Group):
    """A group whose `--help` shows each command's whole first sentence, wrapped, where
    click would cut it at "..." to fit one line."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class AisyncGroup(FullHelpGroup):
    """A group whose usage errors exit 64 (EX_USAGE) and Ctrl-C exits 130."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            click.echo(f"Error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


EXAMPLES = """Examples:

\b
  aisync sync-models --provider mock   a first sync, offline, no key needed
  aisync providers                     each provider and the key it reads
  export OPENAI_API_KEY=sk-...         then sync every provider with a key:
  aisync sync-models
  aisync models --sort -context_window
  aisync changes --since 7d
"""


@click.group(
    cls=AisyncGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXAMPLES
)
@click.version_option(__version__, prog_name="aisync")
def cli() -> None:
    """Keep a SQL history of the AI models every provider serves."""


def _register() -> None:
    from aisync.cli import browse, db, deprecations, export, notify, override, schema, sync

    cli.add_command(sync.sync_models)
    cli.add_command(db.db)
    for command in (browse.providers, browse.models, browse.runs, browse.changes, browse.stats):
        cli.add_command(command)
    cli.add_command(export.export)
    cli.add_command(override.override)
    cli.add_command(deprecations.deprecations)
    cli.add_command(schema.schema)
    cli.add_command(notify.notify)


_register()


def main() -> None:
    cli()
