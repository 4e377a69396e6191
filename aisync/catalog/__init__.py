"""The read side: the `Catalog` API and the report queries, records and exports behind it.

`aisync.catalog.Catalog` and `aisync.catalog.NotFound` keep working for code written when
this package was one module; new code imports them from `aisync` and `aisync.errors`.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Catalog":
        from aisync.catalog.catalog import Catalog

        return Catalog
    if name == "NotFound":
        from aisync.errors import NotFound

        return NotFound
    raise AttributeError(f"module 'aisync.catalog' has no attribute {name!r}")
