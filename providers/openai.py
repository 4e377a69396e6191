"""The `openai` provider: OpenAI's `GET {base}/models`.

The API gives, in one unpaged answer, each model's `id`, `created` (epoch seconds, kept as
the release date), `owned_by` and nothing else: no name, context, prices or capabilities.
Capabilities are therefore inferred from the id by `CAPABILITY_RULES`, checked in order,
first match wins; an id no rule knows gets no capability rather than a guess. Fine-tuning is
never inferred: OpenAI grants it per snapshot and changes the list often.

Families for statistics (`FAMILIES`, by id prefix; a model counts in at most one):
`GPT-3.5`; `GPT-4` = ids starting `gpt-4` that are neither `gpt-4o` nor `gpt-4.1` (the seed's
figure, kept to the original GPT-4 and GPT-4 Turbo); `GPT-4o` = `gpt-4o*` and
`chatgpt-4o*`; `GPT-4.1`; `GPT-5` = `gpt-5*` including 5.1, 5.2, their codex/pro/chat ids;
`o-series` = the `o1`/`o3`/`o4` reasoning models. Audio, transcription and speech variants
of a family (`gpt-4o-mini-tts`) count in it: the family says which generation, the
capability counts say what kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.records import RULE, ModelRecord, Provider, ProviderInfo, RawListing
from aisync.settings import Settings
from aisync_providers.openai_style import (
    CapabilityRule,
    FamilyRule,
    capabilities_for,
    created_date,
    family_counts,
    fetch_listing,
    listing_entries,
)

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

#: The version of `_record` (`RawListing.version`): bump it when it maps an entry otherwise.
MAPPING = "1"

INFO = ProviderInfo(
    name="openai",
    display_name="OpenAI",
    default_base_url="https://api.openai.com/v1",
    api_key_env_vars=("OPENAI_API_KEY",),
    base_url_env_vars=("OPENAI_BASE_URL",),
)

_TOOLS = ("chat", "function_calling", "structured_output")
_VOICE = ("chat", "audio_input", "speech", "function_calling")

#: (pattern searched in the lower-cased id, capabilities), first match wins. Single-purpose
#: models come first because their ids reuse chat family names (`gpt-4o-mini-tts`).
CAPABILITY_RULES: tuple[CapabilityRule, ...] = (
    # Embeddings: text-embedding-3-small/large, text-embedding-ada-002.
    (r"^text-embedding-", ("embedding",)),
    # omni-moderation classifies text and images; the older text-moderation only text.
    (r"^omni-moderation", ("moderation", "vision")),
    (r"^text-moderation", ("moderation",)),
    # Text to speech: tts-1, tts-1-hd and their snapshots, gpt-4o-mini-tts.
    (r"(^|-)tts(-|$)", ("speech",)),
    # Speech to text: whisper-1, gpt-4o(-mini)-transcribe, gpt-4o-transcribe-diarize.
    (r"^whisper|-transcribe", ("transcription",)),
    # GPT Image models draw from text and edit given images; DALL-E only draws.
    (r"^(gpt-image|chatgpt-image)", ("image_generation", "vision")),
    (r"^dall-e", ("image_generation",)),
    # Sora makes videos, never chat.
    (r"^sora", ("video_generation",)),
    # Realtime speech-to-speech sessions with tools; gpt-realtime also takes images.
    (r"^gpt-realtime", (*_VOICE, "vision")),
    (r"realtime", _VOICE),
    # Chat Completions with audio in and out: gpt-audio*, gpt-4o(-mini)-audio-preview.
    (r"^gpt-audio|-audio-preview", _VOICE),
    # Web search models (gpt-4o(-mini)-search-preview, gpt-5-search-api): chat, no tools.
    (r"-search-(preview|api)", ("chat",)),
    # Deep research agents: reasoning over text and images with built-in tools only.
    (r"deep-research", ("chat", "vision", "reasoning")),
    # Codex models (codex-mini-latest, gpt-5*-codex*): reasoning coders with tools.
    (r"codex", (*_TOOLS, "vision", "reasoning")),
    # o-series reasoning models; o1-mini had no tools or images, o3-mini no images.
    (r"^o1-mini", ("chat", "reasoning")),
    (r"^o3-mini", (*_TOOLS, "reasoning")),
    (r"^o\d", (*_TOOLS, "vision", "reasoning")),
    # ChatGPT's own snapshots: gpt-5-chat-latest and chatgpt-4o-latest take no tools,
    # gpt-5.1/5.2-chat-latest do.
    (r"^gpt-5-chat|^chatgpt-4o", ("chat", "vision")),
    (r"^gpt-5\.\d+-chat", (*_TOOLS, "vision")),
    # GPT-5 family (5, 5.1, 5.2, mini, nano, pro): reasoning, images, tools.
    (r"^gpt-5", (*_TOOLS, "vision", "reasoning")),
    # GPT-4.1 and GPT-4o families (with mini/nano): images and tools, no reasoning; the
    # first gpt-4o snapshot predates Structured Outputs.
    (r"^gpt-4o-2024-05-13$", ("chat", "function_calling", "vision")),
    (r"^gpt-4\.1|^gpt-4o", (*_TOOLS, "vision")),
    # GPT-4 Turbo (gpt-4-turbo, gpt-4-turbo-2024-04-09) sees images; the previews do not.
    (r"^gpt-4-turbo(-\d{4}-\d\d-\d\d)?$", ("chat", "function_calling", "vision")),
    (r"^gpt-4", ("chat", "function_calling")),
    # gpt-3.5-turbo-instruct is a legacy completions model; the rest of 3.5 is chat.
    (r"^gpt-3\.5-turbo-instruct", ("completion",)),
    (r"^gpt-3\.5", ("chat", "function_calling")),
    # Base completion models: davinci-002, babbage-002.
    (r"^(davinci|babbage)", ("completion",)),
)

#: (statistic, pattern searched in the lower-cased id); see the module docstring.
FAMILIES: tuple[FamilyRule, ...] = (
    ("GPT-3.5", r"^gpt-3\.5"),
    ("GPT-4", r"^gpt-4(?!o|\.1)"),
    ("GPT-4o", r"^(chat)?gpt-4o"),
    ("GPT-4.1", r"^gpt-4\.1"),
    ("GPT-5", r"^gpt-5"),
    ("o-series", r"^o\d"),
)


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(provider: Provider, client: httpx.Client, settings: Settings) -> RawListing | None:
    if provider.type != INFO.name:
        return None
    entries = listing_entries(fetch_listing(client, provider))
    return RawListing(pages=[entries], record=_record, version=MAPPING)


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    return family_counts((model.model_id for model in models), FAMILIES)


def _record(entry: Mapping[str, Any]) -> ModelRecord:
    return ModelRecord(
        model_id=entry["id"],
        capabilities=capabilities_for(entry["id"], CAPABILITY_RULES),
        release_date=created_date(entry),
        # OpenAI says nothing about capabilities: they are aisync's guess from the id.
        field_sources={"capabilities": RULE},
        raw=dict(entry),
    )
