"""The `openrouter` provider: OpenRouter's public catalogue of routed models.

`GET {base}/models` needs no key (one is sent as `Authorization: Bearer` when configured) and
publishes, per model: `name`, `created` (epoch seconds), `context_length`, `top_provider`
(`context_length`, `max_completion_tokens`), `pricing` (USD per token as decimal strings),
`architecture` (`input_modalities`, `output_modalities`), `supported_parameters` and
`expiration_date`. Newer answers add `total_count` and `links.next` (a relative or absolute
URL, null on the last page); every page is followed, up to `MAX_PAGES`.

Rules applied:

- prices: `"0.0000025"` USD per token becomes 2.5 USD per million, computed in `Decimal`;
  a negative price (`"-1"`, the variable-price routers such as `openrouter/auto`) becomes None.
  `input_cache_read` / `input_cache_write` (same unit, only on models with prompt caching)
  become the cache read / write prices.
- context window: `context_length`, else `top_provider.context_length`; max output tokens:
  `top_provider.max_completion_tokens`.
- capabilities: the three tables below, from the modalities and the supported parameters.
- dates: `created` -> release date (UTC); `expiration_date` -> deprecation date.
- an id listed twice (on two pages) is kept once, first occurrence wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse
from aisync.fields import epoch_date
from aisync.jsontext import json_body
from aisync.records import CAPABILITIES, ModelRecord, Provider, ProviderInfo, RawListing
from aisync.settings import Settings
from aisync_providers.openai_style import UNREADABLE_RECORD

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

#: The version of `model_record` (`RawListing.version`): bump it when it maps an entry otherwise.
MAPPING = "1"

INFO = ProviderInfo(
    name="openrouter",
    display_name="OpenRouter",
    default_base_url="https://openrouter.ai/api/v1",
    api_key_env_vars=("OPENROUTER_API_KEY",),
    requires_api_key=False,
    enabled_by_default=False,
)

#: Bound on `links.next` hops, so a server that keeps answering with a next page cannot hold
#: a sync forever.
MAX_PAGES = 1000

_PER_MILLION = Decimal(1_000_000)

#: `architecture.input_modalities` -> capability. Text and file input add nothing: every
#: model reads text, and "file" (PDF) has no word in the vocabulary.
INPUT_MODALITY_CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("image", "vision"),
    ("audio", "audio_input"),
)

#: `architecture.output_modalities` -> capability: text out means a chat model (OpenRouter
#: serves everything through chat completions), image out an image generator, audio out a
#: speaking model (`openai/gpt-audio`).
OUTPUT_MODALITY_CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("text", "chat"),
    ("image", "image_generation"),
    ("audio", "speech"),
)

#: `supported_parameters` -> capability: the request parameters that only a model able to do
#: the thing accepts.
PARAMETER_CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("tools", "function_calling"),
    ("structured_outputs", "structured_output"),
    ("response_format", "structured_output"),
    ("reasoning", "reasoning"),
    ("include_reasoning", "reasoning"),
)

#: Statistic name -> id prefix (the upstream vendor) for the families `count_stats` counts;
#: `Free` (input and output price both 0) is counted besides them.
VENDOR_PREFIXES: tuple[tuple[str, str], ...] = (
    ("OpenAI", "openai/"),
    ("Anthropic", "anthropic/"),
    ("Google", "google/"),
    ("Meta", "meta-llama/"),
    ("Mistral", "mistralai/"),
    ("Qwen", "qwen/"),
    ("DeepSeek", "deepseek/"),
    ("xAI", "x-ai/"),
)


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(provider: Provider, client: httpx.Client, settings: Settings) -> RawListing | None:
    """Raw first: only new or changed entries are made records. Pages repeat ids, and the
    first of each is kept."""
    import httpx  # loaded with the run's client: loading the plugin loads no httpx

    if provider.type != INFO.name:
        return None
    base = (provider.base_url or str(INFO.default_base_url)).rstrip("/")
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    pages = list(_pages(client, httpx.URL(f"{base}/models"), headers))
    return RawListing(pages=pages, record=model_record, version=MAPPING, repeats=True)


def _pages(client: httpx.Client, first: httpx.URL, headers: dict[str, str]) -> Iterator[list[Any]]:
    url: httpx.URL | None = first
    pages = 0
    while url is not None:
        if pages == MAX_PAGES:
            raise BadResponse(f"OpenRouter model list has more than {MAX_PAGES} pages")
        pages += 1
        body = _page(json_body(client.get(url, headers=headers)))
        yield body["data"]
        url = _next_url(body, url)


def _page(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise BadResponse("OpenRouter model list is not a JSON object")
    if not isinstance(body.get("data"), list):
        raise BadResponse("OpenRouter model list has no 'data' list")
    return body


def _next_url(body: Mapping[str, Any], current: httpx.URL) -> httpx.URL | None:
    """The next page's URL, resolved against the current one; None on the last page.

    A next link to another host is refused: the key must never leave OpenRouter.
    """
    links = body.get("links")
    if links is None:
        return None
    if not isinstance(links, dict):
        raise BadResponse("OpenRouter 'links' is not an object")
    target = links.get("next")
    if target is None or target == "":
        return None
    if not isinstance(target, str):
        raise BadResponse("OpenRouter 'links.next' is not a URL")
    url = current.join(target)
    if (url.scheme, url.host, url.port) != (current.scheme, current.host, current.port):
        raise BadResponse(f"OpenRouter 'links.next' leaves {current.host}: {url.host}")
    return url


def model_record(entry: Any) -> ModelRecord:
    """Normalize one entry of `data`; `UNREADABLE_RECORD` for one that is not a model."""
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        return UNREADABLE_RECORD
    top = _mapping(entry.get("top_provider"))
    pricing = _mapping(entry.get("pricing"))
    name = entry.get("name")
    return ModelRecord(
        model_id=entry["id"],
        display_name=name if isinstance(name, str) and name else None,
        context_window=_count(entry.get("context_length")) or _count(top.get("context_length")),
        max_output_tokens=_count(top.get("max_completion_tokens")),
        input_price_per_mtok=price_per_mtok(pricing.get("prompt")),
        output_price_per_mtok=price_per_mtok(pricing.get("completion")),
        cache_read_price_per_mtok=price_per_mtok(pricing.get("input_cache_read")),
        cache_write_price_per_mtok=price_per_mtok(pricing.get("input_cache_write")),
        capabilities=capabilities(entry),
        release_date=epoch_date(entry.get("created")),
        deprecation_date=_iso_date(entry.get("expiration_date")),
        raw=entry,
    )


def price_per_mtok(value: Any) -> float | None:
    """USD per token (a decimal string) -> USD per million tokens; None if unknown/variable."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        per_token = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not per_token.is_finite() or per_token < 0:
        return None
    return float(per_token * _PER_MILLION)


def capabilities(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The capability words the three tables give, in `CAPABILITIES` order."""
    architecture = _mapping(entry.get("architecture"))
    found = {
        *_lookup(INPUT_MODALITY_CAPABILITIES, architecture.get("input_modalities")),
        *_lookup(OUTPUT_MODALITY_CAPABILITIES, architecture.get("output_modalities")),
        *_lookup(PARAMETER_CAPABILITIES, entry.get("supported_parameters")),
    }
    return tuple(word for word in CAPABILITIES if word in found)


def _lookup(table: Sequence[tuple[str, str]], values: Any) -> set[str]:
    if not isinstance(values, list):
        return set()
    return {capability for key, capability in table if key in values}


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    stats: dict[str, float] = {
        label: sum(1 for m in models if m.model_id.startswith(prefix))
        for label, prefix in VENDOR_PREFIXES
    }
    stats["Free"] = sum(
        1 for m in models if m.input_price_per_mtok == 0 and m.output_price_per_mtok == 0
    )
    return stats


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
