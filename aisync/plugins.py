"""Build the plugin manager: the hook specs, the entry-point plugins, the embedder's plugins.

Built-in providers are found through the entry-point group `aisync` exactly like external
ones. A plugin that fails to import or to validate is left out and remembered with its
reason, so one broken plugin never stops a sync of the others.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass, field

import pluggy

from aisync import hookspecs, stats

GROUP = "aisync"


@dataclass(frozen=True)
class PluginFailure:
    name: str
    reason: str


@dataclass
class Plugins:
    """The manager plus what the CLI needs to explain it: failures and distributions."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    #: plugin name -> (distribution name, version), for plugins from entry points.
    distributions: dict[str, tuple[str, str]] = field(default_factory=dict)


def get_plugin_manager(plugins: Iterable[object] = (), *, entry_points: bool = True) -> Plugins:
    """A fresh manager: specs, the core's own hooks, entry-point plugins, then `plugins`.

    :param plugins: plugin modules or objects an embedding app passes directly.
    :param entry_points: load the `aisync` entry-point group (built-in and external
        providers); tests and embedders that want full control can turn it off.
    """
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    result = Plugins(manager)
    _register(result, stats, "aisync.stats")
    if entry_points:
        for entry_point in _entry_points():
            _load(result, entry_point)
    for plugin in plugins:
        _register(result, plugin, None)
    return result


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for entry_point in importlib.metadata.entry_points(group=GROUP):
        seen.setdefault(entry_point.name, entry_point)
    return [seen[name] for name in sorted(seen)]


def _load(result: Plugins, entry_point: importlib.metadata.EntryPoint) -> None:
    try:
        plugin = entry_point.load()
    except Exception as exc:
        result.failures.append(PluginFailure(entry_point.name, _describe(exc)))
        return
    if _register(result, plugin, entry_point.name) and entry_point.dist is not None:
        dist = entry_point.dist
        result.distributions[entry_point.name] = (dist.name, dist.version)


def _register(result: Plugins, plugin: object, name: str | None) -> bool:
    manager = result.manager
    label = name or str(getattr(plugin, "__name__", repr(plugin)))
    try:
        manager.register(plugin, name=name)
        manager.check_pending()
    except Exception as exc:
        if manager.is_registered(plugin):
            manager.unregister(plugin)
        result.failures.append(PluginFailure(label, _describe(exc)))
        return False
    return True


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
