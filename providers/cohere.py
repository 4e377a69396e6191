"""The `cohere` provider: Cohere's `GET {base}/v1/models` with a Bearer key.

The key is read from `COHERE_API_KEY` (LangChain's and LiteLLM's name) or `CO_API_KEY` (the
one Cohere's own SDKs read); the SDKs' `CO_API_URL` replaces the base URL. The listing comes
in pages: `page_size` models each (up to 1000), the next one asked for with
`page_token=<next_page_token>` while the answer has a non-empty `next_page_token`.

Each entry (cohere-ai/cohere-python `src/cohere/types/get_model_response.py`; a real answer
is quoted in logancyang/obsidian-copilot `src/settings/providerModels.ts`) gives `name` (the
id a request names), `endpoints` (the API endpoints it serves), `finetuned`,
`context_length`, `tokenizer_url`, `supports_vision`, `features` and `default_endpoints`.
Capabilities come from what the API says, never from the id:

- endpoints: `chat` -> chat, `generate` -> completion, `embed` -> embedding. `rerank`,
  `classify` and `summarize` have no word in the vocabulary: they stay in `raw`.
- `supports_vision: true` -> vision; features `tools`/`strict_tools` -> function_calling,
  `json_schema` -> structured_output (`json_mode` alone is not a schema).

Cohere's newer answers flag a retiring model with `is_deprecated: true` but give no date, so
there is no `deprecation_date` to fill: the flag is kept in `raw` (as is `finetuned`, which
says the model *is* a fine-tune, not that it can be fine-tuned).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse
from aisync.fields import token_count
from aisync.jsontext import json_body
from aisync.records import ModelRecord, Provider, ProviderInfo
from aisync.settings import Settings
from aisync_providers.openai_style import in_vocabulary_order

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

INFO = ProviderInfo(
    name="cohere",
    display_name="Cohere",
    default_base_url="https://api.cohere.com",
    api_key_env_vars=("COHERE_API_KEY", "CO_API_KEY"),
    base_url_env_vars=("CO_API_URL",),
)

#: Models asked for per page (the API's maximum).
PAGE_SIZE = 1000
#: More pages than this means the API is looping: give up rather than request forever.
MAX_PAGES = 100

#: `endpoints` entries -> the vocabulary's words; the others stay in `raw` only.
ENDPOINTS = {"chat": "chat", "generate": "completion", "embed": "embedding"}
#: `features` entries -> the vocabulary's words.
FEATURES = {
    "tools": "function_calling",
    "strict_tools": "function_calling",
    "json_schema": "structured_output",
}


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(
    provider: Provider, client: httpx.Client, settings: Settings
) -> Iterator[ModelRecord] | None:
    """The listing, page by page as it is read."""
    if provider.type != INFO.name:
        return None
    url = f"{str(provider.base_url or INFO.default_base_url).rstrip('/')}/v1/models"
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    return _listing(client, url, headers)


def _listing(client: httpx.Client, url: str, headers: dict[str, str]) -> Iterator[ModelRecord]:
    params: dict[str, str | int] = {"page_size": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        entries, token = _page(json_body(client.get(url, params=params, headers=headers)))
        yield from map(_record, entries)
        if token is None:
            return
        params = {"page_size": PAGE_SIZE, "page_token": token}
    raise BadResponse(f"Cohere model list has more than {MAX_PAGES} pages")


def _page(body: Any) -> tuple[list[Any], str | None]:
    """The page's entries and the token of the next page (None on the last one)."""
    if not isinstance(body, dict):
        raise BadResponse("Cohere model list is not a JSON object")
    entries = body.get("models")
    if not isinstance(entries, list):
        raise BadResponse("Cohere model list has no 'models' array")
    token = body.get("next_page_token")
    return entries, token if isinstance(token, str) and token else None


def _record(entry: Any) -> ModelRecord:
    """The record of one entry; one without a string `name` gets an empty id, which the
    normalize step counts and reports instead of the entry vanishing."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return ModelRecord(model_id="", raw=entry if isinstance(entry, dict) else {})
    return ModelRecord(
        model_id=entry["name"],
        context_window=token_count(entry.get("context_length")),
        capabilities=capabilities_for(entry),
        raw=entry,
    )


def capabilities_for(entry: dict[str, Any]) -> tuple[str, ...]:
    """The words the entry's `endpoints`, `supports_vision` and `features` give."""
    words = [ENDPOINTS[e] for e in _strings(entry.get("endpoints")) if e in ENDPOINTS]
    words += [FEATURES[f] for f in _strings(entry.get("features")) if f in FEATURES]
    if entry.get("supports_vision") is True:
        words.append("vision")
    return in_vocabulary_order(words)


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
