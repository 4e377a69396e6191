"""The enrichment step: fill what a provider's API leaves out, and say where every value came from.

Between normalize and diff, each configured source (`models.dev`, `litellm`, a plugin's
own) proposes values for a provider's models through the `enrich_models` hook. The rules
are applied here, never in a plugin, so no plugin can break them:

- precedence per field: a user override, then the provider's own API, then the sources in
  their configured order, then a plugin's guess from the model id (`rule`); a source never
  replaces a value the API published, and what it offered instead is kept in
  `disagreements`; it does replace a guess, which is kept there as the `rule` offer;
- provenance: every field with a value names its origin in `field_sources`;
- no flapping: a source that is unavailable (down with no cached copy, a failing plugin)
  or turned off for a run gives back what it gave last time, taken from the previous
  version, so its values neither vanish nor come back as new versions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from aisync.context import SourceContext
from aisync.db.values import EnrichmentState, Previous, api_origins
from aisync.records import API, ENRICHABLE_FIELDS, OVERRIDE, RULE, ModelRecord, Provider
from aisync.settings import Settings
from aisync.sync.normalize import CLEANERS, decode, is_empty, updated
from aisync.sync.plugins import Plugins, call_each
from aisync.sync.sources import SourceCache, default_cache_directory

_log = logging.getLogger("aisync")


class Enrichment:
    """The enrichment of one run: its sources' contexts and downloads, built lazily."""

    def __init__(
        self,
        plugins: Plugins,
        settings: Settings,
        client: httpx.Client,
        *,
        cache_directory: Path | None = None,
    ) -> None:
        self._hook = plugins.manager.hook.enrich_models
        self._sources = settings.enrich_sources
        self._cache = SourceCache(
            client, cache_directory or default_cache_directory(), settings.enrich_cache_ttl
        )
        self._contexts = {
            name: SourceContext(name, settings.source_config(name), self._cache)
            for name in self._sources
        }
        self._unserved: set[str] = set()
        self._lock = threading.Lock()

    def apply(
        self,
        provider: Provider,
        records: Sequence[ModelRecord],
        state: EnrichmentState,
        warnings: list[str],
    ) -> list[ModelRecord]:
        """The records with sources' values, carried values and overrides applied.

        :param warnings: the provider's warnings: a source plugin that fails on its models.
            A source that is down or missing is the run's concern (`run_warnings`).
        """
        return self.resolve(records, self.answers(provider, records, warnings), state)

    @property
    def sources(self) -> tuple[str, ...]:
        """The configured sources, in precedence order."""
        return self._sources

    def answers(
        self, provider: Provider, records: Sequence[ModelRecord], warnings: list[str]
    ) -> dict[str, Mapping[str, Mapping[str, Any]] | None]:
        """Each source's answer for these records; None for a source unavailable now."""
        return {name: self._ask(name, provider, records, warnings) for name in self._sources}

    def resolve(
        self,
        records: Sequence[ModelRecord],
        answers: Mapping[str, Mapping[str, Mapping[str, Any]] | None],
        state: EnrichmentState,
    ) -> list[ModelRecord]:
        """`apply` once the sources have answered."""
        touched = set(state.previous).union(
            state.overrides, *(answer for answer in answers.values() if answer)
        )
        # Only a model something has a say about is resolved. The rest, usually most, go on
        # as they are: an empty `field_sources` means "all from the API".
        return [
            _resolved(record, answers, state) if record.model_id in touched else record
            for record in records
        ]

    def _ask(
        self,
        name: str,
        provider: Provider,
        records: Sequence[ModelRecord],
        warnings: list[str],
    ) -> Mapping[str, Mapping[str, Any]] | None:
        """A source's answer, or None when it is unavailable for this provider.

        Each plugin is asked on its own, in pluggy's order, until one answers: that one
        serves the source. A plugin that raised before it is not the source's and costs
        nothing but a logged line naming it; when none answers, the failures are the
        provider's warning and the source's values are carried forward.
        """
        context = self._contexts[name]
        arguments = {"source": name, "provider": provider, "models": records, "context": context}
        failures = []
        for answer in call_each(self._hook, arguments, _checked):
            if answer.error is not None:
                failures.append(answer)
            elif answer.result is not None:
                break
        else:
            if failures:
                failed = "; ".join(f"plugin {a.plugin}: {a.failure()}" for a in failures)
                warnings.append(f"Enrichment source {name} failed: {failed}")
            else:
                with self._lock:
                    self._unserved.add(name)
            return None
        for failure in failures:
            _log.warning(
                "enrich_models hook of %s failed for source %s and provider %s,"
                " which plugin %s serves; skipped: %s",
                failure.plugin,
                name,
                provider.name,
                answer.plugin,
                failure.failure(provider.api_key),
            )
            _log.debug("enrich_models hook of %s failed", failure.plugin, exc_info=failure.error)
        return None if context.unavailable else answer.result

    def run_warnings(self) -> list[str]:
        """What went wrong with the sources themselves this run, one line each: a source
        that is down (its cached copy used, or none), a source no plugin provides. They
        concern every provider alike, so the report carries them once, not per provider."""
        unserved = [
            f"No plugin provides the enrichment source '{name}'"
            for name in self._sources
            if name in self._unserved
        ]
        return [*self._cache.take_warnings(), *unserved]


def _checked(answer: object) -> Mapping[str, Mapping[str, Any]]:
    """A source plugin's answer, checked for its shape; each entry is checked as merged."""
    if not isinstance(answer, Mapping):
        raise TypeError(f"returned {type(answer).__name__}, not a mapping of models")
    return answer


def _resolved(
    record: ModelRecord,
    answers: Mapping[str, Mapping[str, Mapping[str, Any]] | None],
    state: EnrichmentState,
) -> ModelRecord:
    model_id = record.model_id
    overrides = _decoded(state.overrides.get(model_id) or {})
    return resolve(record, answers, _cleaned(state.previous.get(model_id)), overrides)


def _decoded(values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored field values cleaned like fresh ones; an unusable one becomes None."""
    return {name: decode(name, value) for name, value in values.items()}


def _cleaned(previous: Previous | None) -> Previous | None:
    """A stored version's values as the merge compares them: decoded and cleaned."""
    if previous is None:
        return None
    return Previous(
        values=_decoded(previous.values),
        sources=previous.sources,
        disagreements={
            name: _decoded_offers(name, offers) for name, offers in previous.disagreements.items()
        },
    )


def _decoded_offers(name: str, offers: Mapping[str, Any]) -> dict[str, Any]:
    return {origin: decode(name, value) for origin, value in offers.items()}


def resolve(
    record: ModelRecord,
    answers: Mapping[str, Mapping[str, Mapping[str, Any]] | None],
    previous: Previous | None,
    overrides: Mapping[str, Any],
) -> ModelRecord:
    """Apply the precedence rules to one model and record each field's origin.

    :param answers: source name -> its answer in precedence order; None for a source
        that is unavailable this run, whose previous values are carried forward.
    :param previous: the model's latest stored version, if any.
    :param overrides: the user's overrides for this model, field -> value.
    """
    merge = _Merge(record)
    model_id = record.model_id
    for name, answer in answers.items():
        if answer is None:
            merge.offer(name, _carried(previous, name), clean=False)
        elif entry := answer.get(model_id):
            merge.offer(name, entry, clean=True)
    if previous is not None:
        merge.carry_switched_off(previous, set(answers))
    for name, value in overrides.items():
        merge.override(name, value)
    return merge.record()


class _Merge:
    """One model's values as they are decided, field by field, with their origins.

    It runs for every model a source knows, thousands per run, so it works on plain dicts
    and builds the record once, at the end, without re-running the dataclass's `__init__`.
    """

    def __init__(self, record: ModelRecord) -> None:
        self._record = record
        self._fields = record.__dict__
        #: Only the fields whose value was decided here; the others keep the record's.
        self.values: dict[str, Any] = {}
        #: A record a plugin marked as partly guessed comes with its origins; others
        #: have every value from the API.
        self.sources = dict(record.field_sources) or api_origins(record)
        self.disagreements: dict[str, dict[str, Any]] = {}

    def current(self, name: str) -> Any:
        """The field's value as decided so far: the record's until something replaces it."""
        values = self.values
        return values[name] if name in values else self._fields[name]

    def offer(self, source: str, entry: Mapping[str, Any], *, clean: bool) -> None:
        if not isinstance(entry, Mapping):
            return
        sources = self.sources
        for name, offered in entry.items():
            if offered is None or name not in _ENRICHABLE:
                continue
            value = CLEANERS[name](offered) if clean else offered
            if is_empty(value):
                continue
            origin = sources.get(name)
            if origin is None or origin == RULE:
                self._take(name, value, source)
            elif value != self.current(name) and origin != source:
                self.disagreements.setdefault(name, {})[source] = value

    def _take(self, name: str, value: Any, source: str) -> None:
        """`source`'s value for a field that had none or only a guess, which is then kept
        as the `rule` offer it lost with."""
        if self.sources.get(name) == RULE:
            current = self.current(name)
            if name == "capabilities":
                value = _with_kind(value, current)
            if value != current:
                self.disagreements.setdefault(name, {})[RULE] = current
        self.values[name], self.sources[name] = value, source

    def carry_switched_off(self, previous: Previous, configured: set[str]) -> None:
        """Sources left out of this run give back their winning values first, then the
        values they disagreed with, so their precedence among themselves is unchanged."""
        switched_off = {
            source
            for source in previous.sources.values()
            if source not in configured and source not in (API, OVERRIDE, RULE)
        }
        for name, source in previous.sources.items():
            if source in switched_off and self.sources.get(name, RULE) == RULE:
                self._take(name, previous.values.get(name), source)
        for name, offers in previous.disagreements.items():
            for source, value in offers.items():
                if source in switched_off:
                    self.offer(source, {name: value}, clean=False)

    def override(self, name: str, value: Any) -> None:
        if name not in _ENRICHABLE:
            return
        current, origin = self.current(name), self.sources.get(name)
        if origin is not None and origin != OVERRIDE and current != value:
            self.disagreements.setdefault(name, {})[origin] = current
        self.values[name], self.sources[name] = value, OVERRIDE

    def record(self) -> ModelRecord:
        """The record with the decided values, every one already cleaned (`CLEANERS`)."""
        sources, disagreements = self.sources, self.disagreements
        return updated(
            self._record,
            {
                **self.values,
                "field_sources": {
                    name: sources[name] for name in ENRICHABLE_FIELDS if name in sources
                },
                "disagreements": {name: disagreements[name] for name in sorted(disagreements)},
            },
        )


_ENRICHABLE = frozenset(ENRICHABLE_FIELDS)
#: The capabilities that say what kind of model it is, rather than what it can also do.
#: models.dev publishes only the latter, so over a guess it decides the features, and the
#: guessed kind (gpt-4o is a chat model) stays unless the source names a kind itself.
_KINDS = frozenset(
    {
        "chat",
        "completion",
        "embedding",
        "image_generation",
        "video_generation",
        "speech",
        "transcription",
        "moderation",
    }
)


def _with_kind(offered: tuple[str, ...], guessed: tuple[str, ...]) -> tuple[str, ...]:
    """A source's capabilities, with the guessed kind words when it names no kind."""
    if _KINDS.intersection(offered):
        return offered
    return CLEANERS["capabilities"]((*offered, *_KINDS.intersection(guessed)))  # type: ignore[no-any-return]


def _carried(previous: Previous | None, source: str) -> dict[str, Any]:
    """What `source` gave this model last time: the values it won and those it offered."""
    if previous is None:
        return {}
    entry = {
        name: previous.values.get(name)
        for name, origin in previous.sources.items()
        if origin == source
    }
    for name, offers in previous.disagreements.items():
        if source in offers:
            entry.setdefault(name, offers[source])
    return entry
