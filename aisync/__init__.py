"""aisync: a SQL history of the AI models every provider serves.

The public API is importable from here. Heavy names (the sync engine and its database
layer) load on first use, so `import aisync` stays cheap for plugins and the CLI's `--help`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Syncer": "aisync.sync.engine",
    "SyncReport": "aisync.report",
    "ProviderResult": "aisync.report",
    "Settings": "aisync.settings",
    "load_settings": "aisync.settings",
    "ModelRecord": "aisync.records",
    "Provider": "aisync.records",
    "ProviderInfo": "aisync.records",
    "RawListing": "aisync.records",
    "CAPABILITIES": "aisync.records",
    "Catalog": "aisync.catalog.catalog",
    "CatalogModel": "aisync.catalog.records",
    "Change": "aisync.catalog.records",
    "FieldChange": "aisync.catalog.records",
    "FieldProvenance": "aisync.catalog.records",
    "ModelHistory": "aisync.catalog.records",
    "ModelVersionRecord": "aisync.catalog.records",
    "ModelEventRecord": "aisync.catalog.records",
    "ProviderStatus": "aisync.catalog.records",
    "ProviderSyncRecord": "aisync.catalog.records",
    "RunRecord": "aisync.catalog.records",
    "StatsSnapshot": "aisync.catalog.records",
    "Deprecation": "aisync.catalog.deprecations",
    "DeprecationReport": "aisync.catalog.deprecations",
}

__all__ = [
    "CAPABILITIES",
    "Catalog",
    "CatalogModel",
    "Change",
    "Deprecation",
    "DeprecationReport",
    "FieldChange",
    "FieldProvenance",
    "ModelEventRecord",
    "ModelHistory",
    "ModelRecord",
    "ModelVersionRecord",
    "Provider",
    "ProviderInfo",
    "ProviderResult",
    "ProviderStatus",
    "ProviderSyncRecord",
    "RawListing",
    "RunRecord",
    "Settings",
    "StatsSnapshot",
    "SyncReport",
    "Syncer",
    "__version__",
    "hookimpl",
    "load_settings",
]

if TYPE_CHECKING:
    import pluggy

    from aisync.catalog.catalog import Catalog
    from aisync.catalog.deprecations import Deprecation, DeprecationReport
    from aisync.catalog.records import (
        CatalogModel,
        Change,
        FieldChange,
        FieldProvenance,
        ModelEventRecord,
        ModelHistory,
        ModelVersionRecord,
        ProviderStatus,
        ProviderSyncRecord,
        RunRecord,
        StatsSnapshot,
    )
    from aisync.records import CAPABILITIES, ModelRecord, Provider, ProviderInfo, RawListing
    from aisync.report import ProviderResult, SyncReport
    from aisync.settings import Settings, load_settings
    from aisync.sync.engine import Syncer

    #: Mark a plugin's hook implementations: `@aisync.hookimpl def fetch_models(...)`.
    hookimpl: pluggy.HookimplMarker


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        # Made on first use: the catalog commands never load a plugin, nor pluggy.
        import pluggy

        return globals().setdefault("hookimpl", pluggy.HookimplMarker("aisync"))
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aisync' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
