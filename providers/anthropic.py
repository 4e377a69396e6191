"""The `anthropic` provider: Anthropic's Models API (Claude).

`GET {base}/v1/models?limit=1000` with the `x-api-key` and `anthropic-version: 2023-06-01`
headers lists the models, newest first, in pages: while `has_more` is true the next page is
asked for with `after_id=<last_id>`. Each model gives `id`, `display_name` and `created_at`
(an RFC 3339 time: its UTC date is the release date, unless it is the epoch, which the API
sends when it does not know the date). No prices.

Newer API versions add `max_input_tokens` (the context window), `max_tokens` (the output
limit) and `capabilities`, an object of `{"supported": bool}` entries (`image_input` ->
vision, `structured_outputs` -> structured_output, `thinking` -> reasoning; documented in the
API reference's ModelInfo / ModelCapabilities). They are used when present. Without them the
capabilities come from `RULES`, an id table. Every Claude model is a chat model that calls
tools, so `chat` and `function_calling` are always given.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse
from aisync.fields import iso_date, token_count
from aisync.jsontext import json_body
from aisync.records import CAPABILITIES, RULE, ModelRecord, Provider, ProviderInfo, RawListing
from aisync.settings import Settings
from aisync_providers.openai_style import UNREADABLE_RECORD

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

INFO = ProviderInfo(
    name="anthropic",
    display_name="Anthropic",
    default_base_url="https://api.anthropic.com",
    api_key_env_vars=("ANTHROPIC_API_KEY",),
)

API_VERSION = "2023-06-01"
_EPOCH = date(1970, 1, 1)
#: Models asked for per page (the API's maximum).
PAGE_SIZE = 1000
#: More pages than this means the API is looping: give up rather than request forever.
MAX_PAGES = 1000

#: The version of `_record` (`RawListing.version`): bump it when it maps an entry otherwise.
MAPPING = "1"

#: What every Claude model does, whatever the API or the table says.
BASE_CAPABILITIES = ("chat", "function_calling")

#: (id pattern, capabilities beyond chat and tools) for models listed without `capabilities`;
#: the FIRST matching rule wins.
RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    # Claude 4.1 and later (Opus 4.1/4.5/4.6, Sonnet 4.5, Haiku 4.5, and any 5+ line): images,
    # extended thinking, and structured outputs (JSON schema output and strict tools).
    (
        re.compile(r"^claude-(?:opus|sonnet|haiku)-(?:4-[1-9]|[5-9])(?:-|$)"),
        ("vision", "reasoning", "structured_output"),
    ),
    # Claude Opus 4 and Sonnet 4: images and extended thinking.
    (re.compile(r"^claude-(?:opus|sonnet|haiku)-4(?:-|$)"), ("vision", "reasoning")),
    # Claude Sonnet 3.7, the first with extended thinking.
    (re.compile(r"^claude-3-7-sonnet"), ("vision", "reasoning")),
    # The other Claude 3 models (3 Haiku, 3.5 Haiku, 3.5 Sonnet, 3 Opus) read images.
    (re.compile(r"^claude-3"), ("vision",)),
)

#: `capabilities` entries of the API -> the vocabulary's words.
API_CAPABILITIES = {
    "image_input": "vision",
    "structured_outputs": "structured_output",
    "thinking": "reasoning",
}

#: Family statistics: the Claude line named in the id.
FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Claude Opus", re.compile(r"^claude-.*\bopus\b")),
    ("Claude Sonnet", re.compile(r"^claude-.*\bsonnet\b")),
    ("Claude Haiku", re.compile(r"^claude-.*\bhaiku\b")),
)


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(provider: Provider, client: httpx.Client, settings: Settings) -> RawListing | None:
    """The listing raw first, page by page as it is read: a big one is never held whole,
    and only its new or changed entries are made records."""
    if provider.type != INFO.name:
        return None
    url = f"{str(provider.base_url or INFO.default_base_url).rstrip('/')}/v1/models"
    headers = {"anthropic-version": API_VERSION}
    if provider.api_key:
        headers["x-api-key"] = provider.api_key
    return RawListing(pages=_pages(client, url, headers), record=_record, version=MAPPING)


def _pages(client: httpx.Client, url: str, headers: dict[str, str]) -> Iterator[list[Any]]:
    params: dict[str, str | int] = {"limit": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        entries, after_id = _page(json_body(client.get(url, params=params, headers=headers)))
        yield entries
        if after_id is None:
            return
        params = {"limit": PAGE_SIZE, "after_id": after_id}
    raise BadResponse(f"Anthropic model list has more than {MAX_PAGES} pages")


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    return {
        name: float(sum(1 for m in models if pattern.search(m.model_id)))
        for name, pattern in FAMILIES
    }


def capabilities_for(model_id: str, api_capabilities: Any = None) -> tuple[str, ...]:
    """The API's `capabilities` when it sent them, else the first matching `RULES` entry."""
    if isinstance(api_capabilities, dict):
        get = api_capabilities.get
        # A list, not a generator: this runs for every model of a listing.
        flags = [isinstance(e := get(key), dict) and e.get("supported") is True for key in _KEYS]
        return _supported_words(tuple(flags))
    return _vocabulary(next((caps for pattern, caps in RULES if pattern.search(model_id)), ()))


_KEYS = tuple(API_CAPABILITIES)


@functools.cache
def _supported_words(flags: tuple[bool, ...]) -> tuple[str, ...]:
    """The words of the supported `API_CAPABILITIES` (one flag each, in their order): a
    listing repeats a handful of combinations, so each is worked out once."""
    return _vocabulary(
        tuple(w for w, on in zip(API_CAPABILITIES.values(), flags, strict=True) if on)
    )


def _vocabulary(words: tuple[str, ...]) -> tuple[str, ...]:
    found = {*BASE_CAPABILITIES, *words}
    return tuple(word for word in CAPABILITIES if word in found)


def _page(body: Any) -> tuple[list[Any], str | None]:
    """The page's entries and the `after_id` of the next page (None on the last one)."""
    if not isinstance(body, dict):
        raise BadResponse("Anthropic model list is not a JSON object")
    entries = body.get("data")
    if not isinstance(entries, list):
        raise BadResponse("Anthropic model list has no 'data' array")
    if body.get("has_more") is not True:
        return entries, None
    last_id = body.get("last_id")
    if not isinstance(last_id, str) or not last_id:
        raise BadResponse("Anthropic model list says has_more but gives no 'last_id'")
    return entries, last_id


def _record(entry: Any) -> ModelRecord:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        return UNREADABLE_RECORD
    display_name = entry.get("display_name")
    return ModelRecord(
        model_id=entry["id"],
        display_name=display_name if isinstance(display_name, str) and display_name else None,
        context_window=token_count(entry.get("max_input_tokens")),
        max_output_tokens=token_count(entry.get("max_tokens")),
        capabilities=capabilities_for(entry["id"], entry.get("capabilities")),
        release_date=_release_date(entry.get("created_at")),
        raw=entry,
        # Without the API's `capabilities` object, they are the id table's guess.
        field_sources={} if isinstance(entry.get("capabilities"), dict) else {"capabilities": RULE},
    )


def _release_date(value: Any) -> date | None:
    """The date of `created_at`; the API sends the epoch when it does not know the date."""
    return _release_day(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)
def _release_day(text: str) -> date | None:
    """`_release_date` of a text, once per text: a listing's models share a few dozen
    creation times."""
    day = iso_date(text)
    return None if day == _EPOCH else day
