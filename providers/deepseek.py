"""The `deepseek` provider: DeepSeek's OpenAI-compatible `GET {base}/models`.

One unpaged OpenAI-shaped answer with only `id`, `object` and `owned_by` per model: no
`created` (so no release date), context, prices or capabilities. Today it lists two
aliases, `deepseek-chat` and `deepseek-reasoner`, the non-thinking and thinking modes of
the same current model.

Capabilities come from `CAPABILITY_RULES` and follow DeepSeek's "Models & Pricing" page
(api-docs.deepseek.com/quick_start/pricing): both models offer JSON Output
(`structured_output`), Function Calling and Chat Prefix Completion; FIM (legacy
`completion`) is offered for `deepseek-chat` only. For `deepseek-reasoner` the page notes
that a request with `tools` is served by the `deepseek-chat` mode; tools still work, so it
keeps `function_calling`. Ids the table does not know are chat models, reasoning ones when
the id says `reasoner`.

Families for statistics (`FAMILIES`): `DeepSeek Chat` and `DeepSeek Reasoner`.
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
    name="deepseek",
    display_name="DeepSeek",
    default_base_url="https://api.deepseek.com",
    api_key_env_vars=("DEEPSEEK_API_KEY",),
)

_TOOLS = ("chat", "function_calling", "structured_output")

#: (pattern searched in the lower-cased id, capabilities), first match wins.
CAPABILITY_RULES: tuple[CapabilityRule, ...] = (
    # Thinking mode: JSON output and tools (tool requests run in non-thinking mode).
    (r"^deepseek-reasoner$", (*_TOOLS, "reasoning")),
    # Non-thinking mode: JSON output, tools and FIM completion (beta).
    (r"^deepseek-chat$", (*_TOOLS, "completion")),
    # Ids not yet in this table: chat models, reasoning ones when named so.
    (r"reasoner", ("chat", "reasoning")),
    (r".", ("chat",)),
)

#: (statistic, pattern searched in the lower-cased id).
FAMILIES: tuple[FamilyRule, ...] = (
    ("DeepSeek Chat", r"^deepseek-chat"),
    ("DeepSeek Reasoner", r"^deepseek-reasoner"),
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
        # DeepSeek says nothing about capabilities: they are aisync's guess from the id.
        field_sources={"capabilities": RULE},
        raw=dict(entry),
    )
