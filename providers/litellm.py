"""The `litellm` enrichment source: LiteLLM's `model_prices_and_context_window.json`.

Keys are model names, some prefixed with their provider (`gemini/gemini-2.5-pro`); each
entry names its `litellm_provider` and may give `max_input_tokens`, `max_output_tokens`,
`input_cost_per_token` / `output_cost_per_token` / `cache_read_input_token_cost` /
`cache_creation_input_token_cost` (USD per token: multiplied by a million here), the same
with `_above_<N>k_tokens` for long-context tiers (kept as `pricing`), `supports_*` flags,
`mode`, `deprecation_date` and `successor_model`. `{"alias_of": key}` entries name another
entry; `sample_spec` documents the format and is not a model.

Matching is exact: by provider type through `PROVIDER_KEYS` (`litellm_provider`), and by
the key without its `<provider>/` prefix against `source_ids.model_key` of the model id. A
real entry always beats an alias of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.fields import iso_date
from aisync.records import ModelRecord, Provider
from aisync_providers.source_ids import capabilities_from_flags, matches

if TYPE_CHECKING:
    from aisync.context import SourceContext

SOURCE = "litellm"
DEFAULT_URL = (
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
)
#: aisync provider type -> the `litellm_provider` of its entries.
PROVIDER_KEYS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "xai": "xai",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "groq": "groq",
    "openrouter": "openrouter",
    "ollama": "ollama",
}
#: LiteLLM's per-token price keys -> the name of the price in aisync (and in a tier).
PRICES = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
}
_TIER_KEY = re.compile(r"^(\w+?)_above_(\d+)k_tokens$")
#: `mode` -> the capability it means.
MODES = {
    "chat": "chat",
    "completion": "completion",
    "embedding": "embedding",
    "image_generation": "image_generation",
    "video_generation": "video_generation",
    "audio_transcription": "transcription",
    "audio_speech": "speech",
    "moderation": "moderation",
}

#: `litellm_provider` -> bare key -> entry.
Index = dict[str, dict[str, Mapping[str, Any]]]


@hookimpl
def enrich_models(
    source: str, provider: Provider, models: Sequence[ModelRecord], context: SourceContext
) -> Mapping[str, Mapping[str, object]] | None:
    if source != SOURCE:
        return None
    litellm_provider = PROVIDER_KEYS.get(provider.type)
    if litellm_provider is None:
        return {}
    index: Index = context.memo("index", lambda: build_index(context.fetch_json(DEFAULT_URL)))
    entries = index.get(litellm_provider)
    if not entries:
        return {}
    found = matches(entries, provider.type, models)
    return {model_id: entry_fields(entry) for model_id, entry in found.items()}


def build_index(data: Any) -> Index:
    """`litellm_provider` -> lower-cased key without its provider prefix -> entry.

    Only the providers of `PROVIDER_KEYS` are indexed: the file holds thousands of entries
    of providers aisync never asks for (Bedrock, Azure, ...), and keying them all was most
    of the index's cost. The first entry of a key wins, and a real entry beats an alias.
    """
    if not isinstance(data, dict):
        return {}
    index: Index = {owner: {} for owner in PROVIDER_KEYS.values()}
    aliases = []
    for key, entry in data.items():
        if not isinstance(entry, dict) or key == "sample_spec":
            continue
        owner = entry.get("litellm_provider")
        if isinstance(owner, str):
            section = index.get(owner)
            if section is not None:
                section.setdefault(_bare(key, owner), entry)
        elif isinstance(entry.get("alias_of"), str):
            aliases.append((key, entry["alias_of"]))
    for key, target_key in aliases:
        target = data.get(target_key)
        owner = target.get("litellm_provider") if isinstance(target, dict) else None
        section = index.get(owner) if isinstance(owner, str) else None
        if section is not None:
            section.setdefault(_bare(key, owner), target)
    return index


def entry_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's values under aisync's field names, prices in USD per million tokens."""
    owner = entry.get("litellm_provider")
    successor = entry.get("successor_model")
    fields: dict[str, Any] = {
        "max_input_tokens": entry.get("max_input_tokens"),
        "max_output_tokens": entry.get("max_output_tokens"),
        "input_price_per_mtok": per_million(entry.get("input_cost_per_token")),
        "output_price_per_mtok": per_million(entry.get("output_cost_per_token")),
        "cache_read_price_per_mtok": per_million(entry.get("cache_read_input_token_cost")),
        "cache_write_price_per_mtok": per_million(entry.get("cache_creation_input_token_cost")),
        "capabilities": _capabilities(entry),
        "deprecation_date": iso_date(entry.get("deprecation_date")),
        "successor": _bare(successor, owner) if isinstance(successor, str) else None,
    }
    tiers = _tiers(entry)
    if tiers:
        fields["pricing"] = {"tiers": tiers}
    return fields


def per_million(value: Any) -> float | None:
    """USD per token -> USD per million tokens, rounded to 9 decimals so that binary
    floating point does not turn LiteLLM's 2.5e-06 into 2.4999999999999996."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(value * 1_000_000, 9)


def _tiers(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`input_cost_per_token_above_200k_tokens` & co. as models.dev-shaped tiers."""
    tiers: dict[int, dict[str, Any]] = {}
    for key in [key for key in entry if "_above_" in key]:
        match = _TIER_KEY.match(key)
        if match is None or match.group(1) not in PRICES:
            continue
        price = per_million(entry[key])
        if price is not None:
            size = int(match.group(2)) * 1000
            tier = tiers.setdefault(size, {"tier": {"type": "context", "size": size}})
            tier[PRICES[match.group(1)]] = price
    return [tiers[size] for size in sorted(tiers)]


def _capabilities(entry: Mapping[str, Any]) -> tuple[str, ...]:
    mode = entry.get("mode")
    mode = MODES.get(mode) if isinstance(mode, str) else None
    return capabilities_from_flags(
        {
            "chat": mode == "chat",
            "completion": mode == "completion",
            "embedding": mode == "embedding",
            "image_generation": mode == "image_generation",
            "video_generation": mode == "video_generation",
            "vision": entry.get("supports_vision") is True,
            "audio_input": entry.get("supports_audio_input") is True,
            "speech": mode == "speech" or entry.get("supports_audio_output") is True,
            "transcription": mode == "transcription",
            "function_calling": entry.get("supports_function_calling") is True,
            "structured_output": entry.get("supports_response_schema") is True,
            "reasoning": entry.get("supports_reasoning") is True,
            "moderation": mode == "moderation",
        }
    )


def _bare(key: str, owner: Any) -> str:
    return key.lower().removeprefix(f"{owner}/") if isinstance(owner, str) else key.lower()
