"""The discovery step: which provider instances exist, and which of them this run syncs.

Plugins describe kinds of provider (`ProviderInfo`); the user's config may declare more
instances of a kind (`[providers.openai-eu] type = "openai"`). Credentials and base URLs are
resolved here, the same way for every plugin, and always keyed on the instance name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import cast

from aisync.errors import ConfigError, UsageError
from aisync.records import Provider, ProviderInfo
from aisync.report import SkippedProvider
from aisync.settings import ProviderConfig, Settings, clean_api_key, without_userinfo
from aisync.sync.plugins import Plugins, call_each

NO_PROVIDERS = "No providers available for synchronization."


@dataclass(frozen=True)
class Discovery:
    #: Every configured instance, available or not, sorted by name.
    providers: tuple[Provider, ...] = ()
    #: Plugins or instances that could not be set up, with the reason.
    skipped: tuple[SkippedProvider, ...] = field(default_factory=tuple)
    #: Provider type -> the name of the plugin that serves it, for `aisync providers`.
    origins: Mapping[str, str] = field(default_factory=dict)
    #: Default instances of optional types (presets) with neither key nor configuration:
    #: not shown, never synced unless named (`--provider lmstudio`).
    unlisted: tuple[Provider, ...] = ()
    #: Every provider type a plugin offers, by name, for `aisync providers --available`.
    kinds: Mapping[str, ProviderInfo] = field(default_factory=dict)

    def get(self, name: str) -> Provider | None:
        return next((p for p in (*self.providers, *self.unlisted) if p.name == name), None)


def discover(plugins: Plugins, settings: Settings) -> Discovery:
    """Every configured instance. A plugin whose `discover_providers` raises or answers
    with something other than `ProviderInfo`s is skipped with the reason; the others are
    asked all the same. The first plugin in pluggy's order to declare a type owns it: its
    `fetch_models` failure fails such a provider, another plugin's does not
    (`Plugins.owners`)."""
    skipped = [SkippedProvider(f.name, f.reason) for f in plugins.failures]
    infos: dict[str, ProviderInfo] = {}
    origins: dict[str, str] = {}
    hook = plugins.manager.hook.discover_providers
    for answer in call_each(hook, {"settings": settings}, _infos):
        if answer.error is not None:
            skipped.append(SkippedProvider(answer.plugin, answer.failure()))
        for info in answer.result or ():
            infos.setdefault(info.name, info)
            origins.setdefault(info.name, answer.plugin)
    plugins.owners = dict(origins)
    instances = {name: info for name, info in infos.items()}
    for name, kind in settings.declared_instances().items():
        if kind in infos:
            instances[name] = infos[kind]
        else:
            problem = _unknown_type(name, kind, infos, settings, bool(plugins.failures))
            skipped.append(SkippedProvider(name, problem))
    if not plugins.failures:
        # While a plugin failed to load, a table may be for one of its types.
        _check_untyped(infos, settings)
    listed: list[Provider] = []
    unlisted: list[Provider] = []
    for name, info in sorted(instances.items()):
        config = settings.provider_config(name)
        provider = resolve(name, info, settings, config)
        (listed if _listed(provider, info, settings, config) else unlisted).append(provider)
    return Discovery(tuple(listed), tuple(skipped), origins, tuple(unlisted), infos)


def _unknown_type(
    name: str, kind: str, infos: Mapping[str, ProviderInfo], settings: Settings, broken: bool
) -> str:
    """Why instance `name` cannot be set up. A typo (`opnai`) is a `ConfigError` naming the
    file, the table and the closest type; while a plugin failed to load, the type may be
    that plugin's, so only this instance is skipped and the others still sync."""
    reason = f"unknown provider type '{kind}'{_closest(kind, infos)}"
    if broken:
        return f"{reason} (or a type of a plugin that failed to load)"
    raise ConfigError(f"[providers.{name}] in {settings.config_path}: {reason}")


def _check_untyped(infos: Mapping[str, ProviderInfo], settings: Settings) -> None:
    """A table for a new instance name without `type` would otherwise be ignored silently."""
    for name, table in settings.provider_tables.items():
        if "type" not in table and name not in infos:
            raise ConfigError(
                f"[providers.{name}] in {settings.config_path} has no 'type' and '{name}' is "
                f'not a provider type{_closest(name, infos)}: add type = "..."'
            )


def _closest(word: str, infos: Mapping[str, ProviderInfo]) -> str:
    match = get_close_matches(word, list(infos), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _infos(offered: object) -> list[ProviderInfo]:
    """A plugin's answer, checked item by item."""
    infos = list(cast(Iterable[object], offered))
    for info in infos:
        if not isinstance(info, ProviderInfo):
            raise TypeError(f"returned {type(info).__name__}, not a ProviderInfo")
    return cast(list[ProviderInfo], infos)


def _listed(
    provider: Provider, info: ProviderInfo, settings: Settings, config: ProviderConfig
) -> bool:
    """Whether `aisync providers` shows the instance: an optional type's default instance
    only once it has a key or any configuration of its own."""
    if info.listed_unconfigured or provider.name != info.name or provider.api_key:
        return True
    return provider.name in settings.provider_tables or _configured(config)


def _configured(config: ProviderConfig) -> bool:
    return config.api_key is not None or config.base_url is not None or config.enabled is not None


def resolve(
    name: str, info: ProviderInfo, settings: Settings, config: ProviderConfig | None = None
) -> Provider:
    """Turn a kind of provider into the configured instance `name` (`config`: its settings,
    when the caller has them already)."""
    config = config or settings.provider_config(name)
    env = settings.environ
    default_instance = name == info.name
    key_sources = config.api_key_vars + (info.api_key_env_vars if default_instance else ())
    api_key = config.api_key
    if api_key is None and default_instance:
        keys = (clean_api_key(env.get(v, ""), v) for v in info.api_key_env_vars)
        api_key = next((key for key in keys if key is not None), None)
    base_url = config.base_url
    if base_url is None and default_instance:
        base_url = next((env[v] for v in info.base_url_env_vars if env.get(v)), None)
    if base_url is not None and api_key is not None:
        # The key wins: `user:password@` in the URL would only replace it (as Basic auth).
        base_url = without_userinfo(base_url)
    enabled = config.enabled if config.enabled is not None else _enabled(info, settings, config)
    requires_key = (
        info.requires_api_key if config.requires_api_key is None else config.requires_api_key
    )
    return Provider(
        name=name,
        type=info.name,
        display_name=info.display_name if default_instance else f"{info.display_name} ({name})",
        base_url=base_url or info.default_base_url,
        api_key=api_key,
        api_key_sources=key_sources,
        credentials_present=api_key is not None or not requires_key,
        enabled=enabled,
        development_only=info.development_only,
        options=config.options,
    )


def _enabled(info: ProviderInfo, settings: Settings, config: ProviderConfig) -> bool:
    """Whether a plain run syncs the instance when `enabled` is not set explicitly.

    A key or base URL from any source opts a provider in; for a type not discovered by its
    key variables (`HF_TOKEN`, a regional twin, a local server) only a config table or an
    `AISYNC_<NAME>_*` variable does, so a variable set for something else syncs nothing.
    """
    name = config.name
    if not info.discovered_by_key:
        return name in settings.provider_tables or _configured(config)
    env = settings.environ if name == info.name else {}
    from_ecosystem = any(env.get(v) for v in (*info.api_key_env_vars, *info.base_url_env_vars))
    opted_in = _configured(config) or from_ecosystem
    return info.enabled_by_default or opted_in


def select(
    discovery: Discovery, requested: Sequence[str] | None, settings: Settings
) -> list[Provider]:
    """The providers this run syncs; a clear `UsageError` for names that cannot be synced."""
    if not requested:
        chosen = [
            p
            for p in discovery.providers
            if p.enabled
            and p.credentials_present
            and not (p.development_only and settings.production)
        ]
        if not chosen:
            raise UsageError(_no_providers(discovery))
        return chosen
    chosen = []
    for name in dict.fromkeys(requested):
        provider = discovery.get(name)
        broken = next((s for s in discovery.skipped if s.name == name), None)
        if provider is None and broken is not None:
            raise UsageError(f"Provider '{name}' cannot be synced: {broken.reason}")
        if provider is None:
            known = ", ".join(p.name for p in discovery.providers) or "none"
            raise UsageError(f"Unknown provider '{name}'. Available: {known}")
        if not provider.credentials_present:
            hint = " or ".join(provider.api_key_sources)
            raise UsageError(f"Provider '{name}' has no credentials: set {hint}")
        if settings.provider_config(name).enabled is False:
            raise UsageError(f"Provider '{name}' is disabled in the settings")
        chosen.append(provider)
    return chosen


def _no_providers(discovery: Discovery) -> str:
    """The seed's line, with what to do about it: the key variables that opt a provider
    in (the built-in types; presets are listed by `providers --available`)."""
    variables = [
        info.api_key_env_vars[0]
        for name, info in sorted(discovery.kinds.items())
        if info.discovered_by_key
        and info.api_key_env_vars
        and discovery.origins.get(name) != "presets"
    ]
    hint = f"set {', '.join(variables)}" if variables else "configure a provider"
    return (
        f"{NO_PROVIDERS[:-1]}: {hint} (`aisync providers --available` lists every type), "
        "or try `aisync sync-models --provider mock`."
    )


@dataclass(frozen=True)
class AvailableType:
    """One provider type aisync can sync here, for `aisync providers --available`."""

    type: str
    display_name: str
    #: The plugin serving it (`openai`, `presets`, an installed plugin's entry point).
    plugin: str | None
    #: The variables it reads its key from, besides `AISYNC_<NAME>_API_KEY`.
    key_variables: tuple[str, ...]
    requires_api_key: bool
    #: When a plain run syncs it: `key set`, `when named`, `enabled`, `always`.
    syncs: str
    #: Its instances a plain run syncs here.
    syncing: tuple[str, ...]
    #: Its instances with credentials that sync only when named or enabled.
    named_only: tuple[str, ...]


def available_types(discovery: Discovery, settings: Settings) -> list[AvailableType]:
    """Every type the installed plugins serve, and whether it is configured here; reads no
    catalog, so it answers before the first sync."""
    instances = (*discovery.providers, *discovery.unlisted)
    try:
        syncing = {p.name for p in select(discovery, None, settings)}
    except UsageError:
        syncing = set()
    found = []
    for name, info in sorted(discovery.kinds.items()):
        mine = [p for p in instances if p.type == name]
        found.append(
            AvailableType(
                type=name,
                display_name=info.display_name,
                plugin=discovery.origins.get(name),
                key_variables=info.api_key_env_vars,
                requires_api_key=info.requires_api_key,
                syncs=_syncs(info),
                syncing=tuple(p.name for p in mine if p.name in syncing),
                named_only=tuple(
                    p.name
                    for p in mine
                    if p.name not in syncing and p.credentials_present and p.api_key
                ),
            )
        )
    return found


def _syncs(info: ProviderInfo) -> str:
    if info.development_only:
        return "when named (development only)"
    if not info.discovered_by_key:
        return "when named"
    if not info.enabled_by_default:
        return "once enabled or configured"
    return "when its key is set" if info.requires_api_key else "always"
