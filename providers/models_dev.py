"""The `models.dev` enrichment source: https://models.dev/api.json.

The file maps a models.dev provider key (`openai`, `google`, ...) to `{"models": {id: entry}}`.
Each entry may give `limit.context` / `limit.input` / `limit.output` (tokens),
`cost.input` / `cost.output` / `cost.cache_read` / `cost.cache_write` (USD per million
tokens, aisync's own unit) with optional `cost.tiers` (kept as `pricing`), `modalities`,
`tool_call`, `reasoning`, `structured_output`, `knowledge`, `release_date` and
`open_weights`. A limit of 0 (image and speech models) means "not applicable" there and is
left out. Entries are matched exactly: by provider type through `PROVIDER_KEYS` (for an
OpenAI-compatible preset, the models.dev provider `presets.json` names: `fireworks-ai`'s
own entries, never another provider's), and by model id after `source_ids.model_key`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.fields import iso_date
from aisync.records import ModelRecord, Provider
from aisync_providers.presets import models_dev_keys
from aisync_providers.source_ids import capabilities_from_flags, matches

if TYPE_CHECKING:
    from aisync.context import SourceContext

SOURCE = "models.dev"
DEFAULT_URL = "https://models.dev/api.json"
#: aisync provider type -> the models.dev provider key holding its models.
PROVIDER_KEYS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "xai": "xai",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "groq": "groq",
    "openrouter": "openrouter",
}


@hookimpl
def enrich_models(
    source: str, provider: Provider, models: Sequence[ModelRecord], context: SourceContext
) -> Mapping[str, Mapping[str, object]] | None:
    if source != SOURCE:
        return None
    key = section_key(provider.type)
    if key is None:
        return {}
    index = context.memo("index", lambda: build_index(context.fetch_json(DEFAULT_URL)))
    entries = index.get(key)
    if not entries:
        return {}
    found = matches(entries, provider.type, models)
    return {model_id: entry_fields(entry) for model_id, entry in found.items()}


def section_key(provider_type: str) -> str | None:
    """The models.dev provider whose entries describe `provider_type`'s models, if any."""
    return PROVIDER_KEYS.get(provider_type) or models_dev_keys().get(provider_type)


def build_index(data: Any) -> dict[str, dict[str, Mapping[str, Any]]]:
    """models.dev provider key -> lower-cased model id -> entry, for the keys aisync maps
    (the built-ins' and the presets')."""
    if not isinstance(data, dict):
        return {}
    index = {}
    for key in set(PROVIDER_KEYS.values()) | set(models_dev_keys().values()):
        section = data.get(key)
        models = section.get("models") if isinstance(section, dict) else None
        if isinstance(models, dict):
            index[key] = {
                model_id.lower(): entry
                for model_id, entry in models.items()
                if isinstance(entry, dict)
            }
    return index


def entry_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's values under aisync's field names, in aisync's units."""
    limit = _table(entry, "limit")
    cost = _table(entry, "cost")
    fields: dict[str, Any] = {
        "context_window": limit.get("context") or None,
        "max_input_tokens": limit.get("input") or None,
        "max_output_tokens": limit.get("output") or None,
        "input_price_per_mtok": cost.get("input"),
        "output_price_per_mtok": cost.get("output"),
        "cache_read_price_per_mtok": cost.get("cache_read"),
        "cache_write_price_per_mtok": cost.get("cache_write"),
        "capabilities": _capabilities(entry),
        "release_date": iso_date(entry.get("release_date")),
        "knowledge_cutoff": entry.get("knowledge"),
        "open_weights": entry.get("open_weights"),
    }
    if isinstance(cost.get("tiers"), list):
        fields["pricing"] = {"tiers": cost["tiers"]}
    return fields


def _capabilities(entry: Mapping[str, Any]) -> tuple[str, ...]:
    modalities = _table(entry, "modalities")
    inputs = modalities.get("input") if isinstance(modalities.get("input"), list) else []
    outputs = modalities.get("output") if isinstance(modalities.get("output"), list) else []
    return capabilities_from_flags(
        {
            "vision": "image" in inputs,
            "audio_input": "audio" in inputs,
            "image_generation": "image" in outputs,
            "speech": "audio" in outputs,
            "function_calling": entry.get("tool_call") is True,
            "structured_output": entry.get("structured_output") is True,
            "reasoning": entry.get("reasoning") is True,
        }
    )


def _table(entry: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = entry.get(key)
    return value if isinstance(value, dict) else {}
