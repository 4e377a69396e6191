"""The two helpers most test modules share: run the real CLI, and read a catalog with SQL."""

from __future__ import annotations

import signal
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from aisync.cli import cli


def run(args: list[str], env: dict[str, str]) -> Result:
    """The real `aisync` command in-process; an unexpected exception fails the test."""
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of one statement against the catalog at `url`, on a connection of its own."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql), params)]
    engine.dispose()
    return rows


def ctrl_c_enabled() -> None:
    """`preexec_fn` for a child the test stops with SIGINT: a shell starts background jobs
    with SIGINT ignored, a disposition children inherit, and Python then installs no
    KeyboardInterrupt handler. A terminal's Ctrl-C is what the test means."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
