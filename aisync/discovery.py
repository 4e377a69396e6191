"""The discovery step: which provider instances exist, and which of them this run syncs.

Plugins describe kinds of provider (`ProviderInfo`); the user's config may declare more
instances of a kind (`[providers.openai-eu] type = "openai"`). Credentials and base URLs are
resolved here, the same way for every plugin, and always keyed on the instance name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from aisync.errors import UsageError
from aisync.plugins import Plugins, call_each
from aisync.records import Provider, ProviderInfo
from aisync.report import SkippedProvider
from aisync.settings import Settings, clean_api_key, without_userinfo

NO_PROVIDERS = "No providers available for synchronization."


@dataclass(frozen=True)
class Discovery:
    #: Every configured instance, available or not, sorted by name.
    providers: tuple[Provider, ...] = ()
    #: Plugins or instances that could not be set up, with the reason.
    skipped: tuple[SkippedProvider, ...] = field(default_factory=tuple)
    #: Provider type -> the name of the plugin that serves it, for `aisync providers`.
    origins: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Provider | None:
        return next((p for p in self.providers if p.name == name), None)


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
            skipped.append(SkippedProvider(name, f"unknown provider type '{kind}'"))
    providers = [resolve(name, info, settings) for name, info in instances.items()]
    return Discovery(tuple(sorted(providers, key=lambda p: p.name)), tuple(skipped), origins)


def _infos(offered: object) -> list[ProviderInfo]:
    """A plugin's answer, checked item by item."""
    infos = list(cast(Iterable[object], offered))
    for info in infos:
        if not isinstance(info, ProviderInfo):
            raise TypeError(f"returned {type(info).__name__}, not a ProviderInfo")
    return cast(list[ProviderInfo], infos)


def resolve(name: str, info: ProviderInfo, settings: Settings) -> Provider:
    """Turn a kind of provider into the configured instance `name`."""
    config = settings.provider_config(name)
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
    opted_in = api_key is not None or base_url is not None or config.enabled is True
    enabled = (
        config.enabled if config.enabled is not None else (info.enabled_by_default or opted_in)
    )
    return Provider(
        name=name,
        type=info.name,
        display_name=info.display_name if default_instance else f"{info.display_name} ({name})",
        base_url=base_url or info.default_base_url,
        api_key=api_key,
        api_key_sources=key_sources,
        credentials_present=api_key is not None or not info.requires_api_key,
        enabled=enabled,
        development_only=info.development_only,
        options=config.options,
    )


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
            raise UsageError(NO_PROVIDERS)
        return chosen
    chosen = []
    for name in dict.fromkeys(requested):
        provider = discovery.get(name)
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
