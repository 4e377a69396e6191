"""The database backends the suite runs against, and how to give each test an empty one.

SQLite always; PostgreSQL and MariaDB/MySQL when `AISYNC_TEST_POSTGRES_URL` /
`AISYNC_TEST_MYSQL_URL` are set (`.ci/run` sets both).
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, inspect, text

SERVER_URL_VARIABLES = {
    "postgresql": "AISYNC_TEST_POSTGRES_URL",
    "mysql": "AISYNC_TEST_MYSQL_URL",
}
SERVER_URLS = {
    name: os.environ[variable]
    for name, variable in SERVER_URL_VARIABLES.items()
    if os.environ.get(variable)
}
BACKENDS = ["sqlite", *SERVER_URLS]


def empty_server_database(url: str) -> str:
    """Drop every view and table so the next test starts from an empty database."""
    engine = create_engine(url)
    with engine.begin() as connection:
        inspector = inspect(connection)
        for view in inspector.get_view_names():
            connection.execute(text(f"DROP VIEW {view}"))
        tables = inspector.get_table_names()
        if connection.dialect.name == "mysql":
            connection.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for table in tables:
                connection.execute(text(f"DROP TABLE {table}"))
            connection.execute(text("SET FOREIGN_KEY_CHECKS=1"))
        else:
            for table in tables:
                connection.execute(text(f'DROP TABLE "{table}" CASCADE'))
    engine.dispose()
    return url


def backend_params() -> list[object]:
    return [pytest.param(name, id=name) for name in BACKENDS]
