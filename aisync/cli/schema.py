"""`aisync schema NAME`: print a JSON Schema of aisync's machine output (`aisync.schemas`)."""

from __future__ import annotations

import click

from aisync.cli.options import TEXT


@click.command()
@click.argument("name", type=TEXT)
def schema(name: str) -> int:
    """Print the JSON Schema (draft 2020-12) an output follows: `aisync schema export`."""
    from aisync import schemas

    try:
        text = schemas.schema_text(name)
    except KeyError:
        known = ", ".join(schemas.names())
        raise click.UsageError(f"Unknown schema {name!r}; known: {known}") from None
    click.echo(text.encode("utf-8"), nl=False)
    return 0
