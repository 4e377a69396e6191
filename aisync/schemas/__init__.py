"""The JSON Schemas (draft 2020-12) of aisync's machine output, shipped in the package.

Each schema is a file `<name>.schema.json` in this folder; `aisync schema NAME` prints it
and `names()` lists them, so a new output documents itself by adding one file here (and
to the tests that validate real output against it). Read with `importlib.resources`, so
they are found in a wheel, a zip or a source checkout alike.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SUFFIX = ".schema.json"


def names() -> list[str]:
    """The name of every shipped schema, sorted."""
    folder = resources.files(__name__)
    return sorted(
        entry.name.removesuffix(SUFFIX) for entry in folder.iterdir() if entry.name.endswith(SUFFIX)
    )


def schema_text(name: str) -> str:
    """The schema's file as shipped; `KeyError` for a name `names()` does not list."""
    if name not in names():
        raise KeyError(name)
    return resources.files(__name__).joinpath(name + SUFFIX).read_text(encoding="utf-8")


def schema(name: str) -> dict[str, Any]:
    """The schema as a JSON object, for a validator."""
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded
