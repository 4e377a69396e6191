"""The types that cross the plugin boundary.

Plugins receive and return only these frozen dataclasses (never ORM objects), so a plugin
written against them keeps working whatever the storage layer does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aisync.settings import redacted_repr

#: The one vocabulary every provider maps its capabilities into. Reports, statistics and
#: filters rely on it, so a plugin must not invent new words: unknown ones are dropped.
CAPABILITIES: tuple[str, ...] = (
    "chat",
    "completion",
    "embedding",
    "image_generation",
    "video_generation",
    "vision",
    "audio_input",
    "speech",
    "transcription",
    "function_calling",
    "structured_output",
    "reasoning",
    "moderation",
    "fine_tuning",
)

#: The origin (`field_sources`) of a value the provider's own API published.
API = "api"
#: The origin of a value a user set with `aisync override set`.
OVERRIDE = "override"
#: The origin of a value aisync inferred (capabilities guessed from the model id by a
#: plugin's rule table) rather than one the provider published. It ranks below every
#: enrichment source: override > api > sources > rule.
RULE = "rule"

#: The fields an enrichment source or a user override may fill, in the order they are shown.
#: Every model version records, per field, where its value came from (`field_sources`).
ENRICHABLE_FIELDS: tuple[str, ...] = (
    "context_window",
    "max_input_tokens",
    "max_output_tokens",
    "input_price_per_mtok",
    "output_price_per_mtok",
    "cache_read_price_per_mtok",
    "cache_write_price_per_mtok",
    "capabilities",
    "release_date",
    "deprecation_date",
    "successor",
    "knowledge_cutoff",
    "open_weights",
    "pricing",
)


@dataclass(frozen=True)
class ProviderInfo:
    """What a plugin says about a kind of provider it can list models for.

    The core turns each `ProviderInfo` into one or more configured `Provider` instances
    (the default one named after `name`, plus every `[providers.X] type = "<name>"` table
    of the config file) and resolves their credentials the same way for every plugin.
    """

    name: str
    display_name: str
    default_base_url: str | None = None
    #: The provider ecosystem's usual variables for the key (`OPENAI_API_KEY`), read only
    #: for the default instance and overridden by `AISYNC_<NAME>_API_KEY`.
    api_key_env_vars: tuple[str, ...] = ()
    #: The ecosystem's usual variables for the server address (`OLLAMA_HOST`).
    base_url_env_vars: tuple[str, ...] = ()
    #: False for providers that list models without a key (a local server, a public list).
    requires_api_key: bool = True
    #: Keyless providers with this False (a local server) are synced only once the user
    #: enables them, sets a key or points them at a server.
    enabled_by_default: bool = True
    #: Providers that exist for tests and demos; skipped in production unless asked for.
    development_only: bool = False
    #: False when the key variables alone must not make a run sync this provider: one
    #: commonly set for other purposes (`HF_TOKEN`, `GITHUB_TOKEN`) or shared with a regional
    #: twin. It syncs only when named: `--provider`, a config table, `AISYNC_<NAME>_*`.
    discovered_by_key: bool = True
    #: False for one of many optional kinds (the OpenAI-compatible presets): its default
    #: instance is left out of `aisync providers` until it has a key or configuration.
    listed_unconfigured: bool = True


@dataclass(frozen=True)
class Provider:
    """One configured provider instance, as the core resolved it from the settings.

    `name` is the instance name (`openai-eu`) that history, freshness and `--provider` key
    on; `type` is the `ProviderInfo.name` of the plugin that serves it (`openai`).
    """

    name: str
    type: str
    display_name: str
    base_url: str | None
    api_key: str | None = field(default=None, repr=False)
    #: Where the key is read from, so messages can say which variable to set.
    api_key_sources: tuple[str, ...] = ()
    credentials_present: bool = False
    enabled: bool = True
    development_only: bool = False
    #: Every other key of the instance's `[providers.<name>]` table, for plugin options.
    #: Kept out of the repr with the key: an option may be a secret too.
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        """Without the key and options, the base URL's `user:password@` masked: plugins
        and logs print providers."""
        return redacted_repr(self, urls=("base_url",))


@dataclass(frozen=True)
class ModelRecord:
    """One model as a provider lists it, normalized.

    Prices are USD per million tokens; `capabilities` uses the words of `CAPABILITIES`;
    `raw` is the provider's own JSON object for the model, stored whole so that nothing
    the provider said is lost even when no field maps it; after the normalize step it is an
    `aisync.canonical.RawJSON`, a read-only mapping over its canonical JSON text.
    `knowledge_cutoff` is text as precise as its source (`2024-09` or `2024-09-30`);
    `pricing` holds price tiers (such as a higher price above 200k tokens) in USD per
    million tokens.

    `field_sources` and `disagreements` are filled by the core's enrichment step: per field,
    where the value came from (`api`, `rule`, `models.dev`, `litellm`, `override`, or a
    plugin's source name), and per field, the other values sources offered. A plugin sets
    only `field_sources={"capabilities": RULE}` (or another field) for a value it guessed
    from the id rather than read from the provider's answer; the core drops anything else.
    A record that no source, override or earlier value touched keeps `field_sources` empty:
    every value it has came from the API (the catalog stores them as `api`).
    """

    model_id: str
    display_name: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    input_price_per_mtok: float | None = None
    output_price_per_mtok: float | None = None
    capabilities: tuple[str, ...] = ()
    release_date: date | None = None
    deprecation_date: date | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    max_input_tokens: int | None = None
    cache_read_price_per_mtok: float | None = None
    cache_write_price_per_mtok: float | None = None
    successor: str | None = None
    knowledge_cutoff: str | None = None
    open_weights: bool | None = None
    pricing: Mapping[str, Any] | None = None
    field_sources: Mapping[str, str] = field(default_factory=dict)
    disagreements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class RawListing:
    """A provider's listing as its raw model items, and how to make a record of one.

    Return it from `fetch_models` instead of the records themselves ("raw first"): the core
    digests each item as it arrives and calls `record` only for the items it has not stored
    already, so an unchanged model of a big listing costs a digest and a dictionary look-up
    rather than a record, its normalizing and its content hash.

    :param pages: the items of each page as parsed JSON (`aisync.http.json_body`), page by
        page: a list of lists, or a generator that fetches the next page when asked. An
        error raised while it is read fails the provider like one raised by the hook.
    :param record: a pure function from one item to its `ModelRecord` (its `raw` the item
        itself): same item, same record, whenever and however often it is called, with no
        look at the network, the clock, the settings or anything beyond the item. An item
        it cannot read still gives a record, one without a model id, which the core counts
        and reports.
    :param version: change it whenever `record` maps the same item to another record (a new
        capability rule, a field read differently), so that every stored model is looked
        at again once; aisync's own version and the installed plugins count too.
    :param repeats: the listing repeats ids as a matter of course (OpenRouter's pages):
        the first item of each id is kept without the duplicate warning.
    """

    pages: Iterable[Sequence[Any]]
    record: Callable[[Any], ModelRecord]
    version: str = "1"
    repeats: bool = False

    def __iter__(self) -> Iterator[ModelRecord]:
        """Every item's record, page by page: the listing read the way `fetch_models` was
        answered before (a tool, a test). With `repeats`, the first record of each id and
        every record without one. A generator of pages can be read once."""
        seen: set[str] = set()
        for page in self.pages:
            for item in page:
                record = self.record(item)
                if self.repeats and record.model_id:
                    if record.model_id in seen:
                        continue
                    seen.add(record.model_id)
                yield record
