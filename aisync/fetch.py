"""The fetch step: ask the owning plugin for a provider's live list, failures made human."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from aisync.errors import ProviderError
from aisync.http import provider_error
from aisync.plugins import Plugins
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings


def fetch_models(
    plugins: Plugins, provider: Provider, client: httpx.Client, settings: Settings
) -> Sequence[ModelRecord]:
    try:
        records = plugins.manager.hook.fetch_models(
            provider=provider, client=client, settings=settings
        )
    except ProviderError:
        raise
    except httpx.HTTPError as exc:
        raise provider_error(exc, settings.timeout) from exc
    except httpx.InvalidURL as exc:
        raise ProviderError(f"Invalid URL: {exc}") from exc
    except Exception as exc:
        raise ProviderError(f"Plugin error: {type(exc).__name__}: {exc}") from exc
    if records is None:
        raise ProviderError(f"No plugin fetches models for provider type '{provider.type}'")
    if isinstance(records, str | bytes) or not isinstance(records, Sequence):
        raise ProviderError(f"Plugin returned {type(records).__name__}, not a list of models")
    return records
