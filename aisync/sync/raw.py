"""The raw-first step: build records only for the items of a listing that changed.

A plugin that returns a `RawListing` hands over each page's raw items and a pure mapper
from one item to its record. The fetch thread digests each item as it arrives (`collect`):
blake2b over a salt and the item's JSON as orjson writes it, in the order the provider
sent it. The write step then sorts the items (`prepare`) against the digests stored on the
`models` rows:

- an item whose digest is stored for a listed model is unchanged: it costs the digest and
  a dictionary look-up, no record, no normalizing, no content hash;
- any other item is decoded again, mapped, normalized and hashed as before, so a
  reordered JSON object (a new digest, the same content hash) still writes no version,
  only its new digest.

Enrichment keeps its meaning (the rule): an item is skipped at the raw level only when
nothing but the API speaks for its model, before and now. Its stored version must hold
only API values (`StoredModel.enriched` false: no source's value, no override, no guess,
no disagreement), no override may name it, and no configured source may answer for it this
run. With sources configured, every item is therefore mapped (the sources are asked about
every model, as before), but an unchanged one that no source answers for is neither
normalized nor hashed again; one a source does answer for takes the whole path, so a
source's new value is a new version. Without sources, the mapper is not called at all
for an unchanged item.

The salt holds what else decides a record: aisync's version, the installed plugin
distributions and their versions, the listing's own `version`, the provider's type, and
a digest of its key (a record is stored with the key blanked out). Any change there makes
every item look new once, costing one full re-sync and no version.

Statistics need every record. When the listing changed nothing at all, the previous
sync's figures are carried forward (the same records and plugins give the same figures);
otherwise the unchanged items are mapped for the statistics step.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, NoReturn, cast

import orjson

from aisync import __version__
from aisync.bounds import raw_may_need_fixing
from aisync.canonical import RawJSON, dumps_parsed, loads
from aisync.db.values import EnrichmentState, StoredModel
from aisync.errors import BadResponse, ProviderError
from aisync.records import ModelRecord, Provider, RawListing
from aisync.sync.enrich import Enrichment
from aisync.sync.fetch import is_secret, without_key
from aisync.sync.normalize import normalize, updated
from aisync.sync.plugins import Plugins, read

#: Bytes of each digest (hex in the catalog): collisions are out of reach at any size.
DIGEST_SIZE = 20
#: The end of the normalize step's warning about repeated ids.
DUPLICATES = " duplicate model id(s) in the listing; kept the first"


@dataclass
class RawItems:
    """A raw-first listing as the fetch thread read it: each item's digest and JSON."""

    plugin: str
    record: Callable[[Any], ModelRecord]
    #: The listing repeats ids as a matter of course: no duplicate warning.
    repeats: bool = False
    digests: list[str] = field(default_factory=list)
    texts: list[bytes] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.digests)


def salt(listing: RawListing, provider: Provider, plugins: Plugins) -> bytes:
    """What besides the item decides its record (see the module's docstring)."""
    dists = sorted({f"{name}=={version}" for name, version in plugins.distributions.values()})
    key = provider.api_key
    key_digest = hashlib.sha256(key.encode()).hexdigest() if key and is_secret(key) else ""
    parts = [__version__, *dists, str(listing.version), provider.type, key_digest]
    return json.dumps(parts).encode() + b"\n"


def collect(
    listing: RawListing, prefix: bytes, plugin: str, fail: Callable[[BaseException], NoReturn]
) -> RawItems:
    """Read every page and digest every item; the plugin's errors go to `fail`."""
    items = RawItems(plugin, listing.record, listing.repeats)
    blake2b = hashlib.blake2b
    try:
        pages = iter(listing.pages)
    except Exception as exc:
        fail(exc)
    for page in read(pages, fail):
        if isinstance(page, str | bytes | Mapping) or not isinstance(page, Sequence):
            fail(TypeError(f"returned a page of {type(page).__name__}, not a list of items"))
        texts = _page_texts(page)
        items.digests.extend(
            [blake2b(prefix + t, digest_size=DIGEST_SIZE).hexdigest() for t in texts]
        )
        items.texts.extend(texts)
    return items


def _page_texts(page: Sequence[Any]) -> list[bytes]:
    """Each item's text (`item_text`), a page at a time: a whole page through orjson in one
    comprehension, one item at a time only for a page orjson cannot write."""
    dumps = orjson.dumps
    try:
        return [bytes(memoryview(dumps(item))) for item in page]  # copied as `item_text` does
    except orjson.JSONEncodeError:
        return [item_text(item) for item in page]


def item_text(item: Any) -> bytes:
    """An item's JSON in its own key order: orjson's, or `json`'s for what orjson cannot
    write (an integer beyond 64 bits, a lone surrogate). A non-finite float becomes null,
    as the catalog stores it anyway (`aisync.bounds`)."""
    try:
        # Copied to a bytes object of its own size: orjson's keeps the capacity of its
        # buffer, over ten times the text, and a listing keeps 100,000 of them.
        return bytes(memoryview(orjson.dumps(item)))
    except orjson.JSONEncodeError:
        try:
            return json.dumps(item).encode()
        except (TypeError, ValueError, RecursionError) as exc:
            raise BadResponse(f"Plugin returned a raw item that is not JSON: {exc}") from None


@dataclass
class Prepared:
    """A raw-first listing sorted for the diff."""

    #: The records that took the whole path, enriched.
    records: list[ModelRecord]
    #: The stored models whose items are unchanged, skipped.
    unchanged: list[StoredModel]
    #: model id -> raw digest of every record.
    digests: dict[str, str]
    #: The records of the unchanged items, for the statistics step, mapped when asked.
    unchanged_records: Callable[[], list[ModelRecord]]


def prepare(
    items: RawItems,
    stored: Mapping[str, StoredModel],
    state: EnrichmentState,
    provider: Provider,
    enrichment: Enrichment,
    warnings: list[str],
) -> Prepared:
    """Sort the items into unchanged ones and records to diff (the module's rule)."""
    hits, misses, duplicates = _matched(items, stored, state)
    listed = bool(hits.known)
    records, digests = _built(items, misses, provider, warnings, listed=listed)
    if records and listed:
        hit_ids = {known.model_id for known in hits.known}
        kept = [record for record in records if record.model_id not in hit_ids]
        duplicates += len(records) - len(kept)
    else:
        kept = records
    if duplicates and not items.repeats:
        warnings.append(f"{duplicates}{DUPLICATES}")
    views: list[ModelRecord] | None = None
    if enrichment.sources and listed:
        views = [_view(items, known, text) for known, text in hits.pairs()]
        answers = enrichment.answers(provider, [*kept, *views], warnings)
        touched = set().union(*(answer for answer in answers.values() if answer))
        moved = [(d, t) for k, d, t in hits.triples() if k.model_id in touched]
        if moved:
            more, more_digests = _built(items, moved, provider, warnings, listed=True)
            kept.extend(more)
            digests.update(more_digests)
            views = [view for view in views if view.model_id not in touched]
            hits = hits.without(touched)
        enriched = enrichment.resolve(kept, answers, state)
    else:
        enriched = enrichment.apply(provider, kept, state, warnings)

    def unchanged_records() -> list[ModelRecord]:
        if views is not None:
            return views
        return [_view(items, known, text) for known, text in hits.pairs()]

    return Prepared(enriched, hits.known, digests, unchanged_records)


@dataclass
class _Hits:
    """The unchanged items, as three lists in step: a list of tuples would cost a tuple
    per item of a listing of 100,000."""

    known: list[StoredModel]
    digests: list[str]
    texts: list[bytes]

    def pairs(self) -> Iterator[tuple[StoredModel, bytes]]:
        return zip(self.known, self.texts, strict=True)

    def triples(self) -> Iterator[tuple[StoredModel, str, bytes]]:
        return zip(self.known, self.digests, self.texts, strict=True)

    def without(self, model_ids: set[str]) -> _Hits:
        kept = [triple for triple in self.triples() if triple[0].model_id not in model_ids]
        return _Hits([k for k, _, _ in kept], [d for _, d, _ in kept], [t for _, _, t in kept])


def _matched(
    items: RawItems, stored: Mapping[str, StoredModel], state: EnrichmentState
) -> tuple[_Hits, list[tuple[str, bytes]], int]:
    """The unchanged items, the (digest, text) of the others, and how many repeated an
    unchanged model. An item is unchanged when its digest is that of a listed model which
    nothing but the API speaks for and no override names. The look-ups run at C speed
    (`map`, `compress`): this is most of what an unchanged listing costs after its fetch."""
    skippable = {
        model.raw_digest: model
        for model in stored.values()
        if model.raw_digest and not model.removed and not model.enriched
    }
    digests, texts = items.digests, items.texts
    # From here on the items live in the hits and misses alone, each freed once used.
    items.digests, items.texts = [], []
    known = list(map(skippable.get, digests))
    overridden = state.overrides
    if overridden:
        known = [k if k is None or k.model_id not in overridden else None for k in known]
    if len(set(digests)) != len(digests):
        return _matched_one_by_one(known, digests, texts)
    if None not in known:
        return _Hits(cast(list[StoredModel], known), digests, texts), [], 0
    hit = [k is not None for k in known]
    misses = [(d, t) for k, d, t in zip(known, digests, texts, strict=True) if k is None]
    found = cast(list[StoredModel], list(compress(known, hit)))
    return _Hits(found, list(compress(digests, hit)), list(compress(texts, hit))), misses, 0


def _matched_one_by_one(
    known: list[StoredModel | None], digests: list[str], texts: list[bytes]
) -> tuple[_Hits, list[tuple[str, bytes]], int]:
    """`_matched` for a listing that repeats an item: the first of a model is its hit."""
    hits = _Hits([], [], [])
    misses: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    duplicates = 0
    for model, digest, text in zip(known, digests, texts, strict=True):
        if model is None:
            misses.append((digest, text))
        elif model.model_id in seen:
            duplicates += 1
        else:
            seen.add(model.model_id)
            hits.known.append(model)
            hits.digests.append(digest)
            hits.texts.append(text)
    return hits, misses, duplicates


def _built(
    items: RawItems,
    pairs: list[tuple[str, bytes]],
    provider: Provider,
    warnings: list[str],
    *,
    listed: bool,
) -> tuple[list[ModelRecord], dict[str, str]]:
    """The records of these items, normalized and with the key blanked out, and the
    digest of each (by model id, first occurrence). `listed`: other items of the listing
    were readable, so items none of which could be read are no malformed listing."""
    digests: dict[str, str] = {}
    queue = deque(pairs)
    if isinstance(pairs, list):
        pairs.clear()  # each item's text is freed as soon as its record holds the payload

    def mapped() -> Iterator[ModelRecord]:
        while queue:
            digest, text = queue.popleft()
            record = _mapped(items, text)
            model_id = record.model_id.strip() if isinstance(record.model_id, str) else None
            if model_id and model_id not in digests:
                digests[model_id] = digest
            yield record

    try:
        records, found = normalize(mapped())
    except BadResponse as exc:
        if not listed:
            raise
        records, found = [], [str(exc)]
    if items.repeats:
        found = [line for line in found if not line.endswith(DUPLICATES)]
    warnings.extend(found)
    return without_key(records, provider.api_key, warnings), digests


def _mapped(items: RawItems, text: bytes) -> ModelRecord:
    """The plugin's record of one item, its raw payload encoded at orjson's speed where
    that gives the canonical text exactly (`aisync.canonical.dumps_parsed`)."""
    item = loads(text)
    record = _record(items, item)
    if not isinstance(record, ModelRecord) or record.raw is not item or type(item) is not dict:
        return record
    if b"NaN" in text or b"Infinity" in text:  # `json` decoded it: the slow path says so
        return record
    canonical = dumps_parsed(item)
    if raw_may_need_fixing(canonical):
        return record
    return updated(record, {"raw": RawJSON(canonical)})


def _view(items: RawItems, known: StoredModel, text: bytes) -> ModelRecord:
    """An unchanged item's record as sources and statistics see it: the plugin's, under
    the stored id, its raw payload the item's own text (never stored)."""
    item = loads(text)
    record = _record(items, item)
    if not isinstance(record, ModelRecord):
        raise BadResponse(f"Plugin returned {type(record).__name__}, not a ModelRecord")
    changes: dict[str, Any] = {"model_id": known.model_id}
    if record.raw is item:
        changes["raw"] = RawJSON(text.decode("utf-8"))
    return updated(record, changes)


def _record(items: RawItems, item: Any) -> ModelRecord:
    """The plugin's mapper, its failure the plugin's, named."""
    try:
        return items.record(item)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise ProviderError(f"Plugin {items.plugin} failed: {type(exc).__name__}: {exc}") from exc
