"""Provider statuses: every configured provider, every provider the catalog knows, every
plugin that failed to load, each with its latest activity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row

from aisync.catalog import queries
from aisync.catalog.records import ProviderStatus
from aisync.settings import redact_userinfo

if TYPE_CHECKING:
    from aisync.sync.discovery import Discovery
    from aisync.sync.plugins import Plugins


def provider_statuses(
    connection: Connection, discovery: Discovery, plugins: Plugins
) -> list[ProviderStatus]:
    """Sorted by name; a configured provider, then one only the catalog knows, then a
    plugin that failed to load, for a name that is all three."""
    known = queries.known_providers(connection)
    listed = queries.listed_counts(connection)
    outcomes = _outcomes_by_provider(queries.latest_outcomes(connection))
    statuses = {}
    for provider in discovery.providers:
        plugin = discovery.origins.get(provider.type)
        dist = plugins.distributions.get(plugin or "")
        statuses[provider.name] = ProviderStatus(
            name=provider.name,
            display_name=provider.display_name,
            type=provider.type,
            plugin=plugin,
            distribution=dist[0] if dist else None,
            distribution_version=dist[1] if dist else None,
            configured=True,
            credentials_present=provider.credentials_present,
            credential_sources=provider.api_key_sources,
            base_url=provider.base_url and redact_userinfo(provider.base_url),
            enabled=provider.enabled,
            **_activity(provider.name, listed, outcomes),
        )
    for name in known:
        if name not in statuses:
            statuses[name] = _unconfigured(name, listed, outcomes)
    for skipped in discovery.skipped:
        statuses.setdefault(skipped.name, _broken(skipped.name, skipped.reason))
    return [statuses[name] for name in sorted(statuses)]


def _outcomes_by_provider(rows: Iterable[Row[Any]]) -> dict[str, dict[str, Row[Any]]]:
    """provider -> status -> its latest `provider_syncs` row with that status."""
    result: dict[str, dict[str, Row[Any]]] = {}
    for row in rows:
        result.setdefault(row.provider, {})[row.status] = row
    return result


def _activity(
    name: str, listed: Mapping[str, int], outcomes: Mapping[str, Mapping[str, Row[Any]]]
) -> dict[str, Any]:
    latest = outcomes.get(name, {})
    synced, failed = latest.get("synced"), latest.get("failed")
    last = max(latest.values(), key=lambda row: row.id, default=None)
    current_failure = failed is not None and (synced is None or failed.id > synced.id)
    return {
        "last_synced_at": synced.finished_at if synced is not None else None,
        "models_listed": listed.get(name, 0),
        "last_status": last.status if last is not None else None,
        "last_error": failed.error if current_failure and failed is not None else None,
    }


def _unconfigured(
    name: str, listed: Mapping[str, int], outcomes: Mapping[str, Mapping[str, Row[Any]]]
) -> ProviderStatus:
    return ProviderStatus(
        name=name,
        display_name=None,
        type=None,
        plugin=None,
        distribution=None,
        distribution_version=None,
        configured=False,
        credentials_present=False,
        credential_sources=(),
        base_url=None,
        enabled=False,
        **_activity(name, listed, outcomes),
    )


def _broken(name: str, reason: str) -> ProviderStatus:
    return ProviderStatus(
        name=name,
        display_name=None,
        type=None,
        plugin=name,
        distribution=None,
        distribution_version=None,
        configured=False,
        credentials_present=False,
        credential_sources=(),
        base_url=None,
        enabled=False,
        last_synced_at=None,
        models_listed=0,
        last_status=None,
        last_error=None,
        load_error=reason,
    )
