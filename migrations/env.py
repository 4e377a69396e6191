"""Alembic environment: the models' metadata, batch mode on SQLite, and a reusable connection.

Every migration runs in a transaction of its own, with its revision stamp, on SQLite too
(where `transactional_ddl` makes pysqlite's DDL transactional): a migration that fails or
is killed midway rolls back whole and leaves the previous revision intact.

aisync runs migrations in-process: it passes its own connection in
`config.attributes["connection"]`. Run by hand (`alembic upgrade head`), the URL comes from
`AISYNC_DATABASE_URL` or `sqlalchemy.url` in alembic.ini.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from aisync.db.connect import transactional_ddl
from aisync.db.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    transactional_ddl(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        transaction_per_migration=True,
        transactional_ddl=True if sqlite else None,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = os.environ.get("AISYNC_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=str(url).startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = os.environ.get("AISYNC_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(str(url), poolclass=pool.NullPool)
    with engine.connect() as own_connection:
        _configure(own_connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
