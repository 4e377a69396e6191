"""`aisync override`: a user's corrections, which beat the API and every source."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from aisync.cli import FullHelpGroup
from aisync.cli.options import common_options, settings_from
from aisync.cli.render import Output, render_overrides
from aisync.errors import AisyncError, UsageError
from aisync.report import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from sqlalchemy import Engine


@click.group(cls=FullHelpGroup)
def override() -> None:
    """Correct a model's field; the correction survives every sync."""


@override.command("set")
@click.argument("target", metavar="PROVIDER/MODEL")
@click.argument("field")
@click.argument("value")
@click.option("--note", metavar="TEXT", help="Why: shown by `override list`.")
@click.option(
    "--force", is_flag=True, help="Set it even for a provider neither configured nor synced."
)
@common_options
def set_command(
    target: str,
    field: str,
    value: str,
    note: str | None,
    force: bool,
    database_url: str | None,
    config_path: str | None,
) -> int:
    """Set FIELD of PROVIDER/MODEL to VALUE from the provider's next sync on.

    The model need not be listed yet: the override applies when it appears.
    """
    from aisync.catalog import overrides

    def run(output: Output) -> None:
        provider, model_id = overrides.split_target(target)
        engine = _engine(database_url, config_path)
        if not force:
            _check_provider(engine, provider, config_path)
        saved = overrides.set_override(engine, provider, model_id, field, value, note=note)
        shown = json.dumps(saved.to_dict()["value"])
        output.line(f"Override set: {provider}/{model_id} {field} = {shown}")
        output.line(f"It applies at the next sync (sync-models --force --provider {provider}).")

    return _run(run)


@override.command("unset")
@click.argument("target", metavar="PROVIDER/MODEL")
@click.argument("field")
@common_options
def unset_command(
    target: str, field: str, database_url: str | None, config_path: str | None
) -> int:
    """Remove the override of FIELD of PROVIDER/MODEL."""
    from aisync.catalog import overrides

    def run(output: Output) -> None:
        provider, model_id = overrides.split_target(target)
        overrides.unset_override(_engine(database_url, config_path), provider, model_id, field)
        output.line(f"Override removed: {provider}/{model_id} {field}")

    return _run(run)


@override.command("list")
@click.option("--provider", metavar="NAME", help="Only this provider's overrides.")
@click.option("--json", "as_json", is_flag=True, help="Print the overrides as JSON on stdout.")
@common_options
def list_command(
    provider: str | None, as_json: bool, database_url: str | None, config_path: str | None
) -> int:
    """List every override, by provider and model."""
    from aisync.catalog import overrides

    def run(output: Output) -> None:
        found = overrides.list_overrides(_engine(database_url, config_path), provider)
        if as_json:
            click.echo(json.dumps([item.to_dict() for item in found], indent=2))
        else:
            render_overrides(found, output)

    return _run(run)


def _engine(database_url: str | None, config_path: str | None) -> Engine:
    from aisync.db.connect import open_engine
    from aisync.db.migrate import ensure_schema

    engine = open_engine(settings_from(config_path, database_url=database_url).database_url)
    ensure_schema(engine)
    return engine


def _check_provider(engine: Engine, provider: str, config_path: str | None) -> None:
    """An override for a provider nothing knows (a typo: `opnai`) would never apply."""
    from aisync.catalog import queries
    from aisync.sync.discovery import discover
    from aisync.sync.plugins import get_plugin_manager

    settings = settings_from(config_path)
    discovery = discover(get_plugin_manager(), settings)
    names = {p.name for p in (*discovery.providers, *discovery.unlisted)}
    with engine.connect() as connection:
        names.update(queries.known_providers(connection))
    if provider not in names:
        raise UsageError(
            f"Provider '{provider}' is neither configured nor in the catalog "
            f"(known: {', '.join(sorted(names)) or 'none'}); use --force to set it anyway"
        )


def _run(action: Callable[[Output], None]) -> int:
    """Run a command's action: a usage mistake exits 64, other failures 1, one line each."""
    output = Output()
    try:
        action(output)
    except UsageError as exc:
        output.error(str(exc))
        return EXIT_USAGE
    except AisyncError as exc:
        output.error(str(exc))
        return EXIT_FAILED
    return 0
