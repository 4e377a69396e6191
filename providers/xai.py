"""The `xai` provider: xAI's `GET {base}/models`, enriched by `GET {base}/language-models`.

`/models` (OpenAI shape, one page) is the listing: every id in it is a model, with `created`
(kept as the release date). `/language-models` adds, for the text models only,
`input_modalities`, `output_modalities` and prices; it is optional: when it answers 404 the
sync goes on with `/models` alone, but any other error (a bad key, a 5xx) fails the sync
as it would on `/models`. `/image-generation-models` and `/embedding-models` are not read:
they price per image, not per token, and the ids already tell which models draw.
`raw` is the `/models` object verbatim, with the `/language-models` object for the same id
added under `language_model` when there is one.

Newer answers also give, on `/models` entries and `/language-models` alike, `context_length`
(-> the context window) and the prices; a value of `/language-models` wins over the `/models`
entry's for the same id. `cached_prompt_text_token_price` becomes the cache read price; 0
there (a model the reference lists without caching) means unpublished, not free.

Prices: `prompt_text_token_price`, `completion_text_token_price` and
`cached_prompt_text_token_price` are integers in USD cents per 100 million tokens, so USD per
million = value / 10,000 (20000 -> 2.00). Evidence:
the xAI API reference's `LanguageModel` schema says "Price of the prompt text token in USD
cents per 100 million token" (copied into public SDKs, e.g. a Java `LanguageModel` class and
docs.rs `xai-grpc-client`, whose "1/100 USD cents per 1M tokens" is the same unit), and a
public `/language-models` answer shows `grok-3-fast-beta` at 50000/250000, which is xAI's
published USD 5/25 per million for that model.

Capabilities: when `/language-models` lists the model, `chat` (text out), `vision` (image
in) and `image_generation` (image out) come from its modalities and the rest (tools,
structured output, reasoning) from the id; otherwise all come from `CAPABILITY_RULES`.
Either way part of the value is aisync's guess, so its origin is `rule`.
Families for statistics (`FAMILIES`, by id prefix): `Grok 2`, `Grok 3`, `Grok 4`,
`Grok Code`, `Grok Imagine`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import ProviderError
from aisync.fields import token_count
from aisync.records import RULE, ModelRecord, Provider, ProviderInfo
from aisync.settings import Settings
from aisync_providers.openai_style import (
    CapabilityRule,
    FamilyRule,
    capabilities_for,
    created_date,
    family_counts,
    fetch_listing,
    in_vocabulary_order,
    listing_entries,
)

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

INFO = ProviderInfo(
    name="xai",
    display_name="xAI",
    default_base_url="https://api.x.ai/v1",
    api_key_env_vars=("XAI_API_KEY",),
)

LANGUAGE_MODELS_PATH = "/language-models"
#: USD cents per 100 million tokens -> USD per million tokens.
_PRICE_DIVISOR = Decimal(10_000)
#: Capabilities that the modalities of `/language-models` decide when it lists a model.
_MODALITY_CAPABILITIES = frozenset({"chat", "vision", "image_generation"})
_TOOLS = ("chat", "function_calling", "structured_output")

#: (pattern searched in the lower-cased id, capabilities), first match wins.
CAPABILITY_RULES: tuple[CapabilityRule, ...] = (
    # Grok Imagine video makes videos from text or an image, never chat.
    (r"^grok-imagine-video", ("video_generation",)),
    # Image generators: grok-2-image-1212, grok-imagine-image(-pro).
    (r"-image(-|$)", ("image_generation",)),
    # Vision chat models: grok-2-vision-1212.
    (r"^grok-.*-vision", (*_TOOLS, "vision")),
    # The fast Grok 4 models without thinking (grok-4(-1)-fast-non-reasoning) take images.
    (r"non-reasoning", (*_TOOLS, "vision")),
    # grok-code-fast-1: a reasoning coder, text only.
    (r"^grok-code", (*_TOOLS, "reasoning")),
    # Grok 4 always reasons (grok-4-0709, grok-4(-1)-fast-reasoning) and takes images.
    (r"^grok-4", (*_TOOLS, "vision", "reasoning")),
    # grok-3-mini thinks before answering; grok-3 and older text models do not.
    (r"^grok-3-mini", (*_TOOLS, "reasoning")),
    (r"^grok-", _TOOLS),
)

#: (statistic, pattern searched in the lower-cased id).
FAMILIES: tuple[FamilyRule, ...] = (
    ("Grok 2", r"^grok-2"),
    ("Grok 3", r"^grok-3"),
    ("Grok 4", r"^grok-4"),
    ("Grok Code", r"^grok-code"),
    ("Grok Imagine", r"^grok-imagine"),
)


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(
    provider: Provider, client: httpx.Client, settings: Settings
) -> list[ModelRecord] | None:
    if provider.type != INFO.name:
        return None
    entries = listing_entries(fetch_listing(client, provider))
    details = _language_models(client, provider)
    return [_record(entry, details.get(entry["id"])) for entry in entries]


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    return family_counts((model.model_id for model in models), FAMILIES)


def usd_per_mtok(value: Any) -> float | None:
    """Convert an xAI price (USD cents per 100 million tokens) to USD per million tokens."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(Decimal(str(value)) / _PRICE_DIVISOR)


def _language_models(client: httpx.Client, provider: Provider) -> dict[str, dict[str, Any]]:
    """The `/language-models` entries by id, or nothing when the endpoint does not exist.

    Gateways that speak only the OpenAI subset answer 404 here; any other failure is real.
    """
    try:
        body = fetch_listing(client, provider, LANGUAGE_MODELS_PATH)
    except ProviderError as exc:
        if exc.status == 404:
            return {}
        raise
    return {entry["id"]: entry for entry in listing_entries(body, key="models")}


def _record(entry: Mapping[str, Any], details: Mapping[str, Any] | None) -> ModelRecord:
    model_id = entry["id"]
    raw = dict(entry) if details is None else {**entry, "language_model": dict(details)}
    # `/language-models` first, then the `/models` entry, which newer answers also fill.
    found = {**entry, **(details or {})}
    return ModelRecord(
        model_id=model_id,
        context_window=token_count(found.get("context_length")),
        input_price_per_mtok=usd_per_mtok(found.get("prompt_text_token_price")),
        output_price_per_mtok=usd_per_mtok(found.get("completion_text_token_price")),
        cache_read_price_per_mtok=usd_per_mtok(found.get("cached_prompt_text_token_price")) or None,
        capabilities=_capabilities(model_id, details),
        release_date=created_date(entry),
        raw=raw,
        # Tools, structured output and reasoning always come from the id table.
        field_sources={"capabilities": RULE},
    )


def _capabilities(model_id: str, details: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The id table's capabilities, with the modality ones replaced by what `details` says."""
    by_id = capabilities_for(model_id, CAPABILITY_RULES)
    if details is None:
        return by_id
    from_id = set(by_id) - _MODALITY_CAPABILITIES
    inputs = _words(details.get("input_modalities"))
    outputs = _words(details.get("output_modalities"))
    from_modalities = {
        "chat": "text" in outputs,
        "vision": "image" in inputs,
        "image_generation": "image" in outputs,
    }
    return in_vocabulary_order(from_id | {name for name, on in from_modalities.items() if on})


def _words(value: Any) -> set[str]:
    return {str(item).lower() for item in value} if isinstance(value, list) else set()
