"""The fetch step: ask the owning plugin for a provider's live list, failures made human.

What a plugin returns is the provider's answer, and a hostile or careless provider can
repeat the key it was sent (in a description, a name): the key is blanked out of every
record here, before anything is diffed, stored or printed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from aisync.errors import ProviderError
from aisync.http import provider_error
from aisync.plugins import Plugins
from aisync.records import ModelRecord, Provider
from aisync.settings import Settings

#: What a key is replaced with wherever a provider repeats it.
REDACTED = "***"
#: Types that never hold text, skipped without a call.
_LEAVES = frozenset({int, float, bool, type(None)})


def fetch_models(
    plugins: Plugins, provider: Provider, client: httpx.Client, settings: Settings
) -> Iterator[Any]:
    """The provider's listing as its plugin gives it, record by record, each with the key
    blanked out.

    The listing is read lazily: a plugin that yields page by page is never held whole, and
    the errors it raises while it is read are mapped like those of the call itself.
    """
    with _mapped_errors(settings):
        records = plugins.manager.hook.fetch_models(
            provider=provider, client=client, settings=settings
        )
    if records is None:
        raise ProviderError(f"No plugin fetches models for provider type '{provider.type}'")
    if isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
        raise ProviderError(f"Plugin returned {type(records).__name__}, not a list of models")
    return _without_key(records, provider.api_key, settings)


@contextmanager
def _mapped_errors(settings: Settings) -> Iterator[None]:
    """A plugin's failure as one `ProviderError` with a human message."""
    try:
        yield
    except ProviderError:
        raise
    except httpx.HTTPError as exc:
        raise provider_error(exc, settings.timeout) from exc
    except httpx.InvalidURL as exc:
        raise ProviderError(f"Invalid URL: {exc}") from exc
    except Exception as exc:
        raise ProviderError(f"Plugin error: {type(exc).__name__}: {exc}") from exc


def _without_key(records: Iterable[Any], key: str | None, settings: Settings) -> Iterator[Any]:
    """The records with every string that holds `key` redacted; others are left to normalize.

    Keys shorter than 4 characters (`api_key = "x"` for a local server) are not secrets
    worth hiding and would mangle ordinary words.
    """
    secret = key if key and len(key) >= 4 else None
    with _mapped_errors(settings):
        for record in records:
            yield _redacted(record, secret) if secret and _holds(record, secret) else record


def _holds(record: object, key: str) -> bool:
    """Whether the key is anywhere in the record: a walk that copies nothing, so the usual
    listing (no key echoed) costs a tenth of rebuilding every record, and no extra memory."""
    if not isinstance(record, ModelRecord):
        return False
    return _in(record.model_id, key) or _in(record.display_name, key) or _in(record.raw, key)


def _in(value: Any, key: str) -> bool:
    """`_scrub`'s walk without the copies; strings and plain numbers are checked inline
    because a listing's raw payloads are mostly made of them."""
    kind = type(value)
    if kind is str:
        return key in value
    if kind in _LEAVES:
        return False
    if isinstance(value, Mapping):
        for name, item in value.items():
            if key in name if type(name) is str else _in(name, key):
                return True
            kind = type(item)
            if key in item if kind is str else kind not in _LEAVES and _in(item, key):
                return True
        return False
    if isinstance(value, list | tuple):
        return any(_in(item, key) for item in value)
    return isinstance(value, str) and key in value


def _redacted(record: ModelRecord, key: str) -> ModelRecord:
    return dataclasses.replace(
        record,
        model_id=_scrub(record.model_id, key),
        display_name=_scrub(record.display_name, key),
        raw=_scrub(record.raw, key),
    )


def _scrub(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return value.replace(key, REDACTED)
    if isinstance(value, Mapping):
        return {_scrub(k, key): _scrub(v, key) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(item, key) for item in value)
    return value
