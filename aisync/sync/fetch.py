"""The fetch step: ask the owning plugin for a provider's live list, failures made human.

What a plugin returns is the provider's answer, and a hostile or careless provider can
repeat the key it was sent (in a description, a name): `without_key` blanks it out of every
record as soon as the listing is normalized, before anything is enriched, diffed, stored or
printed, and `redacted` out of every message.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any, NamedTuple, NoReturn

import httpx

from aisync.canonical import RawJSON
from aisync.errors import ProviderError
from aisync.http import provider_error
from aisync.records import ModelRecord, Provider, RawListing
from aisync.settings import Settings
from aisync.sync.plugins import Answer, Plugins, call_each, read

#: What a key is replaced with wherever a provider repeats it.
REDACTED = "***"
#: Keys shorter than this (`api_key = "x"` or `"ollama"` for a local server) are no
#: secrets worth hiding, and blanking them out would mangle ordinary words and model ids.
MIN_SECRET_LENGTH = 8
#: Types that never hold text, skipped without a call.
_LEAVES = frozenset({int, float, bool, type(None)})
_log = logging.getLogger("aisync")


class RawAnswer(NamedTuple):
    """A plugin's raw-first listing (`aisync.sync.raw`), with who gave it and where its
    errors go."""

    listing: RawListing
    plugin: str
    fail: Callable[[BaseException], NoReturn]


def fetch_models(
    plugins: Plugins, provider: Provider, client: httpx.Client, settings: Settings
) -> Iterator[Any] | RawAnswer:
    """The provider's listing as its plugin gives it, record by record, each with the key
    blanked out; or the plugin's `RawListing`, read by the raw-first step.

    Each plugin is asked on its own, in pluggy's order, until one answers. A plugin that
    raises for a provider whose type it did not declare (`Plugins.owners`) is not this
    provider's plugin: its failure is logged, one line naming it, and the next plugin is
    asked. The owner's failure fails the provider, naming the plugin.

    The listing is read lazily (`aisync.sync.plugins.read`): a plugin that yields page by page
    is never held whole, and the errors it raises while it is read are mapped like those
    of the call itself. The key is blanked out once the listing is normalized
    (`without_key`), when each raw payload is one text to search.
    """
    owner = plugins.owners.get(provider.type)
    arguments = {"provider": provider, "client": client, "settings": settings}
    for answer in call_each(plugins.manager.hook.fetch_models, arguments, _listing):
        if answer.error is None:
            if answer.result is not None:
                fail = partial(_fail, plugin=answer.plugin, settings=settings)
                if isinstance(answer.result, RawListing):
                    return RawAnswer(answer.result, answer.plugin, fail)
                return read(answer.result, fail)
        elif answer.plugin == owner:
            _fail(answer.error, answer.plugin, settings)
        else:
            _skip(answer, provider)
    raise ProviderError(f"No plugin fetches models for provider type '{provider.type}'")


def _listing(records: object) -> Iterator[Any] | RawListing:
    """A plugin's answer as the iterator to read it through (a `RawListing` as it is)."""
    if isinstance(records, RawListing):
        return records
    if isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
        raise TypeError(f"returned {type(records).__name__}, not a list of models")
    return iter(records)


def _fail(exc: BaseException, plugin: str, settings: Settings) -> NoReturn:
    """A plugin's failure as one `ProviderError` with a human message: the provider's own
    errors (HTTP, a bad response) as they are, anything else named after the plugin."""
    if isinstance(exc, ProviderError):
        raise exc
    if isinstance(exc, httpx.HTTPError):
        raise provider_error(exc, settings.timeout) from exc
    if isinstance(exc, httpx.InvalidURL):
        raise ProviderError(f"Invalid URL: {exc}") from exc
    raise ProviderError(f"Plugin {plugin} failed: {type(exc).__name__}: {exc}") from exc


def _skip(answer: Answer[Any], provider: Provider) -> None:
    """A plugin that failed for a provider it does not serve: one line, and on."""
    _log.warning(
        "fetch_models hook of %s failed for provider %s, whose type %s it does not serve;"
        " skipped: %s",
        answer.plugin,
        provider.name,
        provider.type,
        answer.failure(provider.api_key),
    )
    _log.debug("fetch_models hook of %s failed", answer.plugin, exc_info=answer.error)


def is_secret(key: str | None) -> bool:
    """Whether `key` is long enough to be a secret (`MIN_SECRET_LENGTH`)."""
    return key is not None and len(key) >= MIN_SECRET_LENGTH


def redacted(text: str, key: str | None) -> str:
    """`text` (a message, a warning) with every occurrence of a secret `key` blanked out."""
    return text.replace(key, REDACTED) if key is not None and is_secret(key) else text


def without_key(
    records: list[ModelRecord], key: str | None, warnings: list[str] | None = None
) -> list[ModelRecord]:
    """The normalized records with every string that holds a secret `key` redacted.

    A model id is never rewritten: a rewritten id names no real model and would merge
    with others. A model whose id holds the key is left out instead, since storing the id
    would store the key; only a hostile provider lists one. Those left out are counted in
    one line appended to `warnings` (which never names the key), so that a model does not
    vanish in silence. A raw payload is searched as its JSON text, where the key stands as
    it is unless JSON escapes one of its characters; such a key is looked for in the
    parsed payload instead.
    """
    if key is None or not is_secret(key):
        return records
    in_text = json.dumps(key)[1:-1] == key
    kept = [
        _redacted(r, key) if _holds(r, key, in_text) else r
        for r in records
        if key not in r.model_id
    ]
    left_out = len(records) - len(kept)
    if left_out and warnings is not None:
        warnings.append(
            "1 model left out: its id holds the API key"
            if left_out == 1
            else f"{left_out} models left out: their ids hold the API key"
        )
    return kept


def _holds(record: ModelRecord, key: str, in_text: bool) -> bool:
    """Whether the key is in the record's display name or raw payload, found without
    copying anything: the usual listing echoes no key, and a big one must cost no more
    than a look at each text."""
    raw = record.raw
    in_raw = key in raw.text if in_text and isinstance(raw, RawJSON) else _in(raw, key)
    return in_raw or _in(record.display_name, key)


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
        display_name=_scrub(record.display_name, key),
        raw=RawJSON.of(_scrub(record.raw, key)),
    )


def _scrub(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return value.replace(key, REDACTED)
    if isinstance(value, Mapping):
        return {_scrub(k, key): _scrub(v, key) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(item, key) for item in value)
    return value
