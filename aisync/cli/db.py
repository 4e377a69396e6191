"""`aisync db`: the catalog's schema, wrapping Alembic."""

from __future__ import annotations

import click

from aisync.cli import FullHelpGroup
from aisync.cli.options import common_options, settings_from
from aisync.cli.render import Output
from aisync.errors import AisyncError, UsageError
from aisync.report import EXIT_FAILED, EXIT_USAGE


@click.group(cls=FullHelpGroup)
def db() -> None:
    """Inspect and migrate the catalog database schema."""


@db.command()
@common_options
def upgrade(database_url: str | None, config_path: str | None) -> int:
    """Migrate the database to the newest schema."""
    return _run("upgrade", "head", database_url, config_path)


@db.command()
@click.argument("revision")
@common_options
def downgrade(revision: str, database_url: str | None, config_path: str | None) -> int:
    """Migrate the database down to REVISION (`base` empties it)."""
    return _run("downgrade", revision, database_url, config_path)


@db.command()
@common_options
def current(database_url: str | None, config_path: str | None) -> int:
    """Print the database's schema revision and the newest one this aisync knows."""
    from aisync.db.connect import masked_url, open_engine
    from aisync.db.migrate import HEAD_REVISION, connect, refuse_unusable, stored_revision

    output = Output()
    try:
        settings = settings_from(config_path, database_url=database_url)
        engine = open_engine(settings.database_url)
        revision = stored_revision(engine)
        if revision is None:
            with connect(engine) as connection:
                refuse_unusable(connection, revision)
    except AisyncError as exc:
        output.error(str(exc))
        return 1
    output.line(f"Database: {masked_url(settings.database_url)}")
    output.line(f"Revision: {revision or 'none (empty database)'}")
    output.line(f"Head: {HEAD_REVISION}")
    return 0


def _run(direction: str, revision: str, database_url: str | None, config_path: str | None) -> int:
    from aisync.db import migrate
    from aisync.db.connect import masked_url, open_engine

    output = Output()
    try:
        settings = settings_from(config_path, database_url=database_url)
        getattr(migrate, direction)(open_engine(settings.database_url), revision)
    except UsageError as exc:
        output.error(str(exc))
        return EXIT_USAGE
    except AisyncError as exc:
        output.error(str(exc))
        return EXIT_FAILED
    output.line(f"Database {masked_url(settings.database_url)} is now at {revision}.")
    return 0
