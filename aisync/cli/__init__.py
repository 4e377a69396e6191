"""The `aisync` command line: thin commands that parse options, call the API and render.

Exit codes are part of the contract: usage errors (bad option values) exit 64, never 2,
so cron monitoring cannot mistake them for a partial sync. A usage error is one line on
stderr (`Error: ...`), like every other error: `-h` shows the usage.
"""

from __future__ import annotations

import importlib
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
    """A group whose usage errors exit 64 (EX_USAGE) and Ctrl-C exits 130, and whose
    commands (`COMMANDS`) are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

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


#: Each command and the `module:attribute` that defines it. A command's module is imported
#: when that command runs (`--help` lists them all), so that `sync-models` on the cron path
#: does not load the catalog commands and their renderers.
COMMANDS = {
    "changes": "aisync.cli.browse:changes",
    "db": "aisync.cli.db:db",
    "deprecations": "aisync.cli.deprecations:deprecations",
    "export": "aisync.cli.export:export",
    "models": "aisync.cli.browse:models",
    "notify": "aisync.cli.notify:notify",
    "override": "aisync.cli.override:override",
    "providers": "aisync.cli.browse:providers",
    "runs": "aisync.cli.browse:runs",
    "schema": "aisync.cli.schema:schema",
    "stats": "aisync.cli.browse:stats",
    "sync-models": "aisync.cli.sync:sync_models",
}


def main() -> None:
    cli()
