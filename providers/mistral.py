"""The `mistral` provider: Mistral AI's `GET {base}/models` (Bearer key, no pagination).

Each entry gives `id`, `name` (the canonical model an id or alias resolves to, used as the
display name), `max_context_length`, `aliases`, `deprecation` (an RFC 3339 time, whose UTC
date is the deprecation date), `deprecation_replacement_model` (the successor) and
`capabilities`, a map of booleans read through `API_CAPABILITIES`. `created` is the time
of the request on every entry, not a release date, so it is ignored. No prices, no output limit.

The flags say nothing of embeddings (the embedding models have every flag false) nor of
reasoning: `RULES`, an id table, adds those. The listing can repeat an id (e.g.
`voxtral-mini-2507` both as the chat model and as an alias of the transcription model): the
FIRST entry for an id is kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse
from aisync.fields import iso_date
from aisync.jsontext import json_body
from aisync.records import CAPABILITIES, RULE, ModelRecord, Provider, ProviderInfo
from aisync.settings import Settings
from aisync_providers.openai_style import UNREADABLE_RECORD, first_of_each

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

INFO = ProviderInfo(
    name="mistral",
    display_name="Mistral AI",
    default_base_url="https://api.mistral.ai/v1",
    api_key_env_vars=("MISTRAL_API_KEY",),
)

#: Mistral's capability flags -> the vocabulary's words.
API_CAPABILITIES: Mapping[str, str] = {
    "completion_chat": "chat",
    # Fill-in-the-middle code completion.
    "completion_fim": "completion",
    "function_calling": "function_calling",
    "vision": "vision",
    "fine_tuning": "fine_tuning",
    # The moderation models list both `classification` and `moderation`.
    "classification": "moderation",
    "moderation": "moderation",
    # OCR models read document images.
    "ocr": "vision",
    # Voxtral chat models understand speech.
    "audio": "audio_input",
    "audio_transcription": "transcription",
}

#: (id pattern, capabilities) that the flags do not publish; every matching rule adds.
RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    # mistral-embed and codestral-embed: every flag is false.
    (re.compile(r"embed"), ("embedding",)),
    # Magistral is Mistral's reasoning (thinking) line.
    (re.compile(r"^magistral-"), ("reasoning",)),
)

#: Family statistics by id; the FIRST matching family counts a model (so the
#: `mistral-large-pixtral-2411` alias is Pixtral, not Mistral Large).
FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Pixtral", re.compile(r"pixtral")),
    ("Mistral Large", re.compile(r"^mistral-large-")),
    ("Mistral Medium", re.compile(r"^mistral-medium(?:-|$)")),
    ("Mistral Small", re.compile(r"^(?:labs-)?mistral-small-")),
    ("Ministral", re.compile(r"^ministral-")),
    ("Magistral", re.compile(r"^magistral-")),
    ("Codestral", re.compile(r"^codestral-(?!embed)")),
    ("Devstral", re.compile(r"^(?:labs-)?devstral-")),
    ("Voxtral", re.compile(r"^voxtral-")),
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
    url = f"{str(provider.base_url or INFO.default_base_url).rstrip('/')}/models"
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    body = json_body(client.get(url, headers=headers))
    if not isinstance(body, dict):
        raise BadResponse("Mistral model list is not a JSON object")
    if not isinstance(body.get("data"), list):
        raise BadResponse("Mistral model list has no 'data' array")
    return first_of_each(map(_record, body["data"]))


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    stats = dict.fromkeys((name for name, _ in FAMILIES), 0.0)
    for model in models:
        family = next((name for name, rule in FAMILIES if rule.search(model.model_id)), None)
        if family is not None:
            stats[family] += 1
    return stats


def capabilities_for(model_id: str, flags: Any) -> tuple[str, ...]:
    """The words of the flags set to true, plus those `RULES` give the id."""
    found: set[str] = set()
    if isinstance(flags, dict):
        found.update(word for key, word in API_CAPABILITIES.items() if flags.get(key) is True)
    found.update(_guessed(model_id))
    return tuple(word for word in CAPABILITIES if word in found)


def _guessed(model_id: str) -> set[str]:
    """What `RULES` add to the flags for this id: aisync's guess, not Mistral's word."""
    return {word for pattern, words in RULES if pattern.search(model_id) for word in words}


def _text(value: Any) -> str | None:
    """A non-empty string, or None for anything else (`null`, a number, "")."""
    return value if isinstance(value, str) and value else None


def _record(entry: Any) -> ModelRecord:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        return UNREADABLE_RECORD
    name = entry.get("name")
    context = entry.get("max_context_length")
    return ModelRecord(
        model_id=entry["id"],
        display_name=name if isinstance(name, str) and name else None,
        context_window=context
        if isinstance(context, int) and not isinstance(context, bool)
        else None,
        capabilities=capabilities_for(entry["id"], entry.get("capabilities")),
        deprecation_date=iso_date(entry.get("deprecation")),
        successor=_text(entry.get("deprecation_replacement_model")),
        raw=entry,
        field_sources={"capabilities": RULE} if _guessed(entry["id"]) else {},
    )
