"""Build the plugin manager: the hook specs, the entry-point plugins, the embedder's plugins.

Built-in providers are found through the entry-point group `aisync` exactly like external
ones. A plugin that fails to import or to validate is left out and remembered with its
reason, so one broken plugin never stops a sync of the others.

Every hook is called through `call_each`, one implementation at a time, never through
pluggy's own call: that call stops at the first exception and loses every other plugin's
answer with it. Here an exception is put down to the plugin that raised it, and the
caller decides what it costs (see `aisync.sync.fetch`, `aisync.sync.enrich`, `aisync.sync.engine`).
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, NoReturn, TypeVar, cast, overload

import pluggy

from aisync import hookspecs

GROUP = "aisync"
T = TypeVar("T")
#: What `next` gives back once an iterator is read to its end.
_END: Any = object()


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
    #: Provider type -> the plugin whose `discover_providers` declared it, as of the last
    #: discovery: the one plugin whose `fetch_models` failure fails such a provider.
    owners: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What one plugin's implementation gave back: its result, or what it raised."""

    plugin: str
    result: T | None = None
    error: BaseException | None = None

    def failure(self, secret: str | None = None) -> str:
        """The exception in one line, `secret` blanked out: a plugin's message may quote
        the URL or header that carried the provider's key."""
        text = _describe(self.error) if self.error is not None else ""
        return text.replace(secret, "***") if secret and len(secret) >= 4 else text


def call(plugin: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> Answer[T]:
    """`function(*args, **kwargs)` run on behalf of `plugin`, whatever it raises.

    Any exception is the plugin's failure, `SystemExit` and `GeneratorExit` included: a
    plugin cannot end a run, silently or not. Only `KeyboardInterrupt` goes through, so
    Ctrl-C still aborts it.
    """
    try:
        return Answer(plugin, function(*args, **kwargs))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return Answer(plugin, error=exc)


def read(items: Iterator[T], fail: Callable[[BaseException], NoReturn]) -> Iterator[T]:
    """`items`, an iterator a plugin returned, read on its behalf by the rule of `call`:
    what it raises goes to `fail`. Inline rather than through `call`, since a listing can
    hold 100,000 records; the `yield` stands outside the `try`, so closing this reader
    early is no plugin's failure."""
    while True:
        try:
            item = next(items, _END)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            fail(exc)
        if item is _END:
            return
        yield cast(T, item)


@overload
def call_each(
    hook: pluggy.HookCaller, arguments: Mapping[str, object]
) -> Iterator[Answer[Any]]: ...


@overload
def call_each(
    hook: pluggy.HookCaller, arguments: Mapping[str, object], check: Callable[[Any], T]
) -> Iterator[Answer[T]]: ...


def call_each(
    hook: pluggy.HookCaller,
    arguments: Mapping[str, object],
    check: Callable[[Any], Any] | None = None,
) -> Iterator[Answer[Any]]:
    """Each implementation of `hook` called on its own, in pluggy's order (`tryfirst`
    ones, then the last registered first, `trylast` ones at the end), lazily: a caller
    that stops at the first result (a `firstresult` hook) calls no further plugin.

    :param arguments: the hook's arguments; each implementation gets those it names.
    :param check: turns a result other than None into what the caller uses, raising for
        an answer of the wrong shape; its exception is the plugin's, like a raise.
    """
    for impl in reversed(hook.get_hookimpls()):
        args = [arguments[name] for name in impl.argnames]
        kwargs = {name: arguments[name] for name in impl.kwargnames if name in arguments}
        answer = call(impl.plugin_name, impl.function, *args, **kwargs)
        if check is not None and answer.error is None and answer.result is not None:
            answer = call(impl.plugin_name, check, answer.result)
        yield answer


def get_plugin_manager(plugins: Iterable[object] = (), *, entry_points: bool = True) -> Plugins:
    """A fresh manager: specs, the core's own hooks, entry-point plugins, then `plugins`.

    :param plugins: plugin modules or objects an embedding app passes directly.
    :param entry_points: load the `aisync` entry-point group (built-in and external
        providers); tests and embedders that want full control can turn it off.
    """
    from aisync.sync import stats  # it calls hooks through this module: imported late

    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    result = Plugins(manager)
    _register(result, stats, stats.PLUGIN_NAME)
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
        result.distributions[entry_point.name] = _name_and_version(entry_point.dist)


@functools.lru_cache(maxsize=8)
def _name_and_version(dist: importlib.metadata.Distribution) -> tuple[str, str]:
    """`dist.name` and `dist.version`, from one parse of its METADATA: each of those reads
    and parses the file anew, and the built-in plugins' 17 entry points share one
    distribution object (34 parses were a tenth of an all-fresh `sync-models`)."""
    metadata = dist.metadata
    return metadata["Name"], metadata["Version"]


def _register(result: Plugins, plugin: object, name: str | None) -> bool:
    manager = result.manager
    label = name or _label(manager, plugin)
    try:
        manager.register(plugin, name=label)
        manager.check_pending()
        reason = _unsupported(manager, plugin)
    except Exception as exc:
        reason = _describe(exc)
    if reason is None:
        return True
    if manager.is_registered(plugin):
        manager.unregister(plugin)
    result.failures.append(PluginFailure(label, reason))
    return False


def _label(manager: pluggy.PluginManager, plugin: object) -> str:
    """A readable, unique name for a plugin an embedder passed: its module's name or its
    class's, so messages name `SlackNotifier`, not pluggy's default, the object's id."""
    base = str(getattr(plugin, "__name__", None) or type(plugin).__name__)
    label, number = base, 1
    while manager.has_plugin(label):
        number += 1
        label = f"{base}#{number}"
    return label


def _unsupported(manager: pluggy.PluginManager, plugin: object) -> str | None:
    """Why a registered plugin cannot be used, if it cannot. Hooks are called one
    implementation at a time (`call_each`), so there is no call for a wrapper to wrap: a
    plugin that has one is refused rather than misread."""
    for caller in manager.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                return f"{caller.name}: hook wrappers are not supported"
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
