"""The `groq` provider: GroqCloud's OpenAI-compatible `GET {base}/models`.

One unpaged OpenAI-shaped answer whose entries add `active`, `context_window`,
`max_completion_tokens` and `public_apps` to `id`, `created` (kept as the release date) and
`owned_by`. Ids of hosted open models carry their maker (`meta-llama/llama-4-scout-...`,
`openai/gpt-oss-120b`); they are kept as given, since that is what requests name.

Inactive models (`"active": false`) are left out: aisync records what a provider serves,
and Groq marks a model inactive when it can no longer be called (decommissioned), so it
shows up as removed and comes back as added if Groq reactivates it. `raw` keeps the flag
for every model synced.

Newer answers add `name` (kept as the display name), `input_modalities`,
`output_modalities` and `supported_features`. When an entry has any of those three, they
decide its capabilities (`INPUT_MODALITIES`, `OUTPUT_MODALITIES`, `FEATURES`): text out is a
chat model, except for the safety classifiers, which only the id tells apart (`moderation`
from `CAPABILITY_RULES`, the one word then marked `rule`). An entry without them gets
all its capabilities from `CAPABILITY_RULES` (first match wins; anything no earlier rule
names is a chat model, which is what Groq hosts besides its speech and safety models),
marked `rule`: aisync's guess, which an enrichment source beats. No prices are published.
Families for statistics (`FAMILIES`, by id):
`Llama` (chat Llamas, not the guard models), `GPT-OSS`, `Qwen`, `Kimi`, `Whisper`,
`Guard` (safety classifiers, including `gpt-oss-safeguard`, which also counts in
`GPT-OSS`) and `Compound` (Groq's agentic systems).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.fields import token_count
from aisync.records import RULE, ModelRecord, Provider, ProviderInfo, RawListing
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

#: The version of `_record` (`RawListing.version`): bump it when it maps an entry otherwise.
MAPPING = "1"

INFO = ProviderInfo(
    name="groq",
    display_name="Groq",
    default_base_url="https://api.groq.com/openai/v1",
    api_key_env_vars=("GROQ_API_KEY",),
)

_TOOLS = ("chat", "function_calling", "structured_output")

#: (pattern searched in the lower-cased id, capabilities), first match wins.
CAPABILITY_RULES: tuple[CapabilityRule, ...] = (
    # Speech to text: whisper-large-v3(-turbo), distil-whisper-large-v3-en.
    (r"whisper", ("transcription",)),
    # Text to speech: playai-tts(-arabic), canopylabs/orpheus-*.
    (r"playai-tts|orpheus", ("speech",)),
    # Safety classifiers: gpt-oss-safeguard reasons over a policy; Llama Guard 4 also
    # checks images; llama-guard-3 and llama-prompt-guard-2-* classify text.
    (r"gpt-oss-safeguard", ("moderation", "reasoning")),
    (r"llama-guard-4", ("moderation", "vision")),
    (r"guard", ("moderation",)),
    # groq/compound(-mini): agentic systems with built-in web search and code execution,
    # which take no caller-defined tools.
    (r"^groq/compound", ("chat",)),
    # openai/gpt-oss-20b/120b: reasoning with tools and JSON-schema output.
    (r"gpt-oss", (*_TOOLS, "reasoning")),
    # Reasoning open models: qwen/qwen3-32b, qwen-qwq-32b, deepseek-r1-distill-*.
    (r"qwen3|qwq|deepseek-r1", ("chat", "function_calling", "reasoning")),
    # Llama 4 Scout and Maverick see images.
    (r"llama-4", (*_TOOLS, "vision")),
    # moonshotai/kimi-k2-instruct(-0905).
    (r"kimi-k2", _TOOLS),
    # Llama 3.x (llama-3.3-70b-versatile, llama-3.1-8b-instant, llama3-*) call tools.
    (r"llama-?3", ("chat", "function_calling")),
    # Everything else Groq hosts is a chat model (allam-2-7b, gemma2-9b-it, ...).
    (r".", ("chat",)),
)

#: `input_modalities` -> capability. Audio in is `audio_input` only for a model that
#: answers in text (a speech-to-text model hears audio too, which `transcription` says).
INPUT_MODALITIES: tuple[tuple[str, str], ...] = (("image", "vision"), ("audio", "audio_input"))
#: `output_modalities` -> capability; text out (`chat`) is left out for the classifiers.
OUTPUT_MODALITIES: tuple[tuple[str, str], ...] = (
    ("text", "chat"),
    ("image", "image_generation"),
    ("speech", "speech"),
    ("audio", "speech"),
    ("transcription", "transcription"),
)
#: `supported_features` -> capability.
FEATURES: tuple[tuple[str, str], ...] = (
    ("tools", "function_calling"),
    ("json_mode", "structured_output"),
    ("structured_outputs", "structured_output"),
    ("reasoning", "reasoning"),
)
_FEATURE_KEYS = ("input_modalities", "output_modalities", "supported_features")

#: (statistic, pattern searched in the lower-cased id); see the module docstring.
FAMILIES: tuple[FamilyRule, ...] = (
    ("Llama", r"(^|/)llama-?\d"),
    ("GPT-OSS", r"(^|/)gpt-oss-"),
    ("Qwen", r"(^|/)qwen"),
    ("Kimi", r"(^|/)kimi-"),
    ("Whisper", r"whisper"),
    ("Guard", r"guard"),
    ("Compound", r"^groq/compound"),
)


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(provider: Provider, client: httpx.Client, settings: Settings) -> RawListing | None:
    if provider.type != INFO.name:
        return None
    entries = listing_entries(fetch_listing(client, provider))
    active = [entry for entry in entries if entry.get("active") is not False]
    return RawListing(pages=[active], record=_record, version=MAPPING)


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    return family_counts((model.model_id for model in models), FAMILIES)


def _record(entry: Mapping[str, Any]) -> ModelRecord:
    capabilities, guessed = _capabilities(entry)
    name = entry.get("name")
    return ModelRecord(
        model_id=entry["id"],
        display_name=name.strip() or None if isinstance(name, str) else None,
        context_window=token_count(entry.get("context_window")),
        max_output_tokens=token_count(entry.get("max_completion_tokens")),
        capabilities=capabilities,
        release_date=created_date(entry),
        raw=dict(entry),
        field_sources={"capabilities": RULE} if guessed else {},
    )


def _capabilities(entry: Mapping[str, Any]) -> tuple[tuple[str, ...], bool]:
    """The capabilities and whether any of them is a guess from the id (see the docstring)."""
    by_id = capabilities_for(entry["id"], CAPABILITY_RULES)
    if not any(key in entry for key in _FEATURE_KEYS):
        return by_id, True
    outputs = _words(entry.get("output_modalities"))
    found = _lookup(OUTPUT_MODALITIES, outputs) | _lookup(
        FEATURES, _words(entry.get("supported_features"))
    )
    inputs = _lookup(INPUT_MODALITIES, _words(entry.get("input_modalities")))
    found |= inputs if "text" in outputs else inputs - {"audio_input"}
    classifier = "moderation" in by_id
    if classifier:
        found = (found - {"chat"}) | {"moderation"}
    return in_vocabulary_order(found), classifier


def _lookup(table: tuple[tuple[str, str], ...], words: set[str]) -> set[str]:
    return {capability for key, capability in table if key in words}


def _words(value: Any) -> set[str]:
    return (
        {item.lower() for item in value if isinstance(item, str)}
        if isinstance(value, list)
        else set()
    )
