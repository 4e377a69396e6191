"""The `gemini` provider: Google's Generative Language API (Gemini, Gemma, Imagen, Veo).

`GET {base}/models?pageSize=1000` lists the models a key can use, in pages chained by
`nextPageToken` (absent or empty on the last page). The key goes in the `x-goog-api-key`
header, never in the URL. Each model gives `name` (`models/<id>`: the id is used without the
prefix), `displayName`, `inputTokenLimit` (the context window), `outputTokenLimit` (kept as
listed, even the embedding model's 1), `supportedGenerationMethods` and, on thinking models,
`thinking: true` (-> `reasoning`). There are no prices, dates or modalities.

Capabilities come from the generation methods, read through `RULES`: what a method means
depends on the family (`generateContent` is chat for Gemini, speech for a TTS model), so each
rule pairs a method with an id pattern. Veo models (`predictLongRunning`) make video;
`embedText`, the older name of `embedContent`, means embeddings. Capabilities a rule with an
id pattern gave are marked `rule` (aisync's reading of the family, which an enrichment source
beats); those of a method alone (embeddings, AQA) are the API's.

A failed page fails the whole listing, as every paginated provider does: nothing is
written or removed for Gemini that run, rather than storing part of a listing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse
from aisync.fields import token_count
from aisync.jsontext import json_body
from aisync.records import CAPABILITIES, RULE, ModelRecord, Provider, ProviderInfo, RawListing
from aisync.settings import Settings
from aisync_providers.openai_style import UNREADABLE_RECORD

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

#: The version of `_record` (`RawListing.version`): bump it when it maps an entry otherwise.
MAPPING = "1"

INFO = ProviderInfo(
    name="gemini",
    display_name="Google Gemini",
    default_base_url="https://generativelanguage.googleapis.com/v1beta",
    api_key_env_vars=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
)

#: Models asked for per page (the API's maximum).
PAGE_SIZE = 1000
#: More pages than this means the API is looping: give up rather than request forever.
MAX_PAGES = 1000

#: (generation method, id pattern, capabilities). For each method a model lists, the FIRST
#: rule with that method whose pattern matches the id adds its capabilities; methods without
#: a rule (countTokens, createCachedContent, batchGenerateContent, asyncBatchEmbedContent,
#: predictLongRunning, ...) add nothing.
RULES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    # Text-to-speech models answer generateContent with audio only: speech, not chat.
    ("generateContent", re.compile(r"-tts\b"), ("speech",)),
    # Image models (Nano Banana) read text and images and answer with images.
    (
        "generateContent",
        re.compile(r"-image\b|^nano-banana"),
        ("chat", "vision", "image_generation"),
    ),
    # Gemma 3 1B and Gemma 3n are served text-only; the API gives Gemma no native tools.
    ("generateContent", re.compile(r"^gemma-3-1b|^gemma-3n"), ("chat",)),
    # The larger Gemma 3 models read images.
    ("generateContent", re.compile(r"^gemma-"), ("chat", "vision")),
    # Robotics-ER and Computer Use previews: images in, tool calls out.
    (
        "generateContent",
        re.compile(r"^gemini-robotics|computer-use"),
        ("chat", "vision", "function_calling"),
    ),
    # Every other Gemini model reads images, audio, video and PDF, calls tools, and follows
    # a JSON schema.
    (
        "generateContent",
        re.compile(r"^gemini-"),
        ("chat", "vision", "audio_input", "function_calling", "structured_output"),
    ),
    # Anything else answering generateContent (Deep Research) is at least a chat model.
    ("generateContent", re.compile(""), ("chat",)),
    # AQA answers a conversation grounded in the passages it is given.
    ("generateAnswer", re.compile(""), ("chat",)),
    ("embedContent", re.compile(""), ("embedding",)),
    # The older name of embedContent, still listed by PaLM-era models (embedding-gecko-001).
    ("embedText", re.compile(""), ("embedding",)),
    # predict serves Imagen; only Imagen makes images through it.
    ("predict", re.compile(r"^imagen-"), ("image_generation",)),
    # predictLongRunning serves Veo, which makes videos.
    ("predictLongRunning", re.compile(r"^veo-"), ("video_generation",)),
    # Live API native-audio dialog models hear and speak.
    ("bidiGenerateContent", re.compile(r"native-audio"), ("audio_input", "speech")),
)

#: Family statistics: name -> rule on a model. Each model may count in several.
FAMILIES: tuple[tuple[str, Callable[[ModelRecord], bool]], ...] = (
    ("Gemini Pro", lambda m: "gemini" in m.model_id and "-pro" in m.model_id),
    ("Gemini Flash", lambda m: "gemini" in m.model_id and "flash" in m.model_id),
    ("Gemma", lambda m: m.model_id.startswith("gemma-")),
    ("Imagen", lambda m: m.model_id.startswith("imagen-")),
    ("Veo", lambda m: m.model_id.startswith("veo-")),
    # Multimodal: takes more than text in (images or audio).
    ("Multimodal", lambda m: bool({"vision", "audio_input"} & set(m.capabilities))),
)


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(provider: Provider, client: httpx.Client, settings: Settings) -> RawListing | None:
    """Raw first: only new or changed entries are made records."""
    if provider.type != INFO.name:
        return None
    url = f"{str(provider.base_url or INFO.default_base_url).rstrip('/')}/models"
    headers = {"x-goog-api-key": provider.api_key} if provider.api_key else {}
    pages = list(_pages(client, url, headers))
    return RawListing(pages=pages, record=_record, version=MAPPING)


def _pages(client: httpx.Client, url: str, headers: dict[str, str]) -> Iterator[list[Any]]:
    params: dict[str, str | int] = {"pageSize": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        entries, token = _page(json_body(client.get(url, params=params, headers=headers)))
        yield entries
        if not token:
            return
        params = {"pageSize": PAGE_SIZE, "pageToken": token}
    raise BadResponse(f"Gemini model list has more than {MAX_PAGES} pages")


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    return {name: float(sum(1 for m in models if rule(m))) for name, rule in FAMILIES}


def capabilities_for(model_id: str, methods: Sequence[str], thinking: bool) -> tuple[str, ...]:
    """The capabilities `RULES` give a model listing `methods`, plus reasoning if it thinks."""
    found = {"reasoning"} if thinking else set()
    for _, capabilities in _matches(model_id, methods):
        found.update(capabilities)
    return tuple(word for word in CAPABILITIES if word in found)


def guessed(model_id: str, methods: Sequence[str]) -> bool:
    """Whether a rule that reads the id (not only the method) gave capabilities: then they
    are aisync's reading of the model family, origin `rule`, not the API's own word."""
    return any(pattern.pattern for pattern, _ in _matches(model_id, methods))


def _matches(
    model_id: str, methods: Sequence[str]
) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    """For each method, the first rule of `RULES` for it whose pattern matches the id."""
    found: list[tuple[re.Pattern[str], tuple[str, ...]]] = []
    for method in methods:
        for rule_method, pattern, capabilities in RULES:
            if rule_method == method and pattern.search(model_id):
                found.append((pattern, capabilities))
                break
    return found


def _page(body: Any) -> tuple[list[Any], str | None]:
    if not isinstance(body, dict):
        raise BadResponse("Gemini model list is not a JSON object")
    entries = body.get("models", [])
    token = body.get("nextPageToken")
    if not isinstance(entries, list):
        raise BadResponse("Gemini model list has no 'models' array")
    if token is not None and not isinstance(token, str):
        raise BadResponse("Gemini model list has a non-string 'nextPageToken'")
    return entries, token


def _record(entry: Any) -> ModelRecord:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return UNREADABLE_RECORD
    model_id = entry["name"].removeprefix("models/")
    if not model_id:
        return UNREADABLE_RECORD
    methods = entry.get("supportedGenerationMethods")
    methods = [m for m in methods if isinstance(m, str)] if isinstance(methods, list) else []
    return ModelRecord(
        model_id=model_id,
        display_name=_str(entry, "displayName"),
        context_window=token_count(entry.get("inputTokenLimit")),
        max_output_tokens=token_count(entry.get("outputTokenLimit")),
        capabilities=capabilities_for(model_id, methods, entry.get("thinking") is True),
        raw=entry,
        field_sources={"capabilities": RULE} if guessed(model_id, methods) else {},
    )


def _str(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None
