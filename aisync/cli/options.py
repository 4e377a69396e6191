"""Options shared by every command, and turning them into the API's objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from aisync.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class Text(click.ParamType):  # type: ignore[type-arg]  # generic in newer clicks only
    """Text that must reach the database: bytes that are not UTF-8 (which Python hands over
    as surrogate escapes) are a usage error here, not an encoding error in the driver."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            self.fail(f"{shown!r} is not valid UTF-8 text", param, ctx)
        return text


TEXT = Text()


def common_options(function: F) -> F:
    """`--database-url` and `--config`, accepted by every command."""
    function = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="TOML config file (default: AISYNC_CONFIG, then aisync.toml in the config dir).",
    )(function)
    return click.option(
        "--database-url",
        metavar="URL",
        help="SQLAlchemy URL of the catalog (default: AISYNC_DATABASE_URL, then a SQLite file).",
    )(function)


def settings_from(config_path: str | None, **overrides: Any) -> Settings:
    return load_settings(overrides, config_path=config_path)
