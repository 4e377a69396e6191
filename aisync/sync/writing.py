"""The write step of a run: each provider's outcome enriched, diffed and written.

Each provider is written in a transaction of its own as soon as its fetch ends, so one
that fails (or a crash) never leaves half a listing and never touches another's rows.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from aisync.db.values import Diff, EnrichmentState, StoredModel
from aisync.errors import AisyncError, DeadlineExceeded, ProviderError, SuspectListing
from aisync.records import ModelRecord, Provider
from aisync.report import ProviderResult
from aisync.settings import Settings
from aisync.sync import stats
from aisync.sync.diff import compute_diff, mass_removal
from aisync.sync.enrich import Enrichment
from aisync.sync.fetch import redacted
from aisync.sync.fetching import FetchStarted
from aisync.sync.normalize import stored_record
from aisync.sync.plugins import Plugins
from aisync.sync.preview import dry_run_changes
from aisync.sync.raw import Prepared, RawItems, prepare

if TYPE_CHECKING:
    from aisync.db.ledger import Ledger

#: What the catalog holds of a provider: its models, and what enrichment carries forward.
StoredListing = tuple[dict[str, StoredModel], EnrichmentState]


class Writer:
    """Writes the providers of one run to its ledger (nothing, for a dry run)."""

    def __init__(
        self,
        ledger: Ledger,
        plugins: Plugins,
        settings: Settings,
        enrichment: Enrichment | None,
        *,
        dry_run: bool,
        allow_removals: bool,
    ) -> None:
        self.ledger = ledger
        self.plugins = plugins
        self.settings = settings
        #: None when no provider was fetched (the run downloaded nothing).
        self.enrichment = enrichment
        self.dry_run = dry_run
        self.allow_removals = allow_removals
        #: provider -> (stamp, stored listing) read while its fetch ran (`preload`).
        self._preloaded: dict[str, tuple[int | None, StoredListing]] = {}

    def preload(self, provider: Provider) -> None:
        """Read what the catalog holds of a provider while its fetch is still running, so
        that a big listing's read overlaps the fetch rather than following it. The read is
        used only if the provider's listing stamp has not moved by the time it is written
        (another run may write it before this one holds its lock); a failure here is
        left for that later read to report."""
        try:
            stamp = self.ledger.listing_stamp(provider.name)
            self._preloaded[provider.name] = (stamp, self.ledger.stored_listing(provider.name))
        except AisyncError:
            self._preloaded.pop(provider.name, None)

    def _stored_listing(self, provider: Provider) -> StoredListing:
        """The stored listing: the preloaded one while still current, its overrides read
        again (a user may set one at any time), else read now."""
        preloaded = self._preloaded.pop(provider.name, None)
        if preloaded is not None:
            stamp, (stored, state) = preloaded
            if self.ledger.listing_stamp(provider.name) == stamp:
                overrides = self.ledger.overrides(provider.name)
                return stored, dataclasses.replace(state, overrides=overrides)
        return self.ledger.stored_listing(provider.name)

    def complete(
        self, provider: Provider, started: FetchStarted, previous: datetime | None
    ) -> ProviderResult:
        """Write what a finished fetch brought: its records, its skip or its error."""
        fetched = started.future.result()
        clock = started.clock + fetched.waited
        try:
            if fetched.skip is not None:
                reason, when = fetched.skip
                result = ProviderResult(
                    provider.name, "skipped", reason=reason, last_synced_at=when or previous
                )
                self.ledger.record(result, started_at=started.at)
                return result
            if fetched.error is not None:
                raise fetched.error
            records, fetched.records = fetched.records, []
            raw, fetched.raw = fetched.raw, None
            listing = raw if raw is not None else records
            return self._apply(provider, listing, fetched.warnings, clock, previous)
        except AisyncError as exc:
            return self.failed(provider, exc, started, previous, clock)
        finally:
            fetched.release()
            self._preloaded.pop(provider.name, None)  # a skip or a failure leaves it unused

    def time_out(
        self, provider: Provider, started: FetchStarted, previous: datetime | None
    ) -> ProviderResult:
        """Fail a fetch that outlasted its deadline and take back its lock and slot; its
        thread runs on (a daemon), but nothing it returns is ever written."""
        started.abandon()
        self._preloaded.pop(provider.name, None)
        error = DeadlineExceeded(self.settings.deadline)
        return self.failed(provider, error, started, previous, started.clock)

    def failed(
        self,
        provider: Provider,
        exc: AisyncError,
        started: FetchStarted,
        previous: datetime | None,
        clock: float,
    ) -> ProviderResult:
        result = ProviderResult(
            provider.name,
            "failed",
            reason=getattr(exc, "reason", "error"),
            error=_redact(str(exc), provider),
            last_synced_at=previous,
            duration_ms=_elapsed_ms(clock),
        )
        self.ledger.record(result, started_at=started.at)
        return result

    def _apply(
        self,
        provider: Provider,
        listing: list[ModelRecord] | RawItems,
        warnings: list[str],
        clock: float,
        previous: datetime | None,
    ) -> ProviderResult:
        assert self.enrichment is not None
        stored, state = self._stored_listing(provider)
        if isinstance(listing, RawItems):
            prepared = prepare(listing, stored, state, provider, self.enrichment, warnings)
            records, unchanged = prepared.records, prepared.unchanged
            diff = _diff(stored, records, unchanged, prepared.digests)
            figures, stats_error = self._raw_stats(provider, prepared, diff)
        else:
            records, unchanged = self.enrichment.apply(provider, listing, state, warnings), []
            figures, stats_error = stats.compute(self.plugins, provider, records)
            diff = _diff(stored, records)
        suspicion = mass_removal(diff)
        if suspicion and not self.allow_removals:
            raise SuspectListing(
                f"Refused: {suspicion}; nothing was changed (--allow-removals accepts it)"
            )
        result = ProviderResult(
            provider.name,
            "synced",
            models_found=len(records) + len(unchanged),
            added=diff.added_count,
            changed=len(diff.changed),
            removed=len(diff.removed),
            stats=figures,
            stats_error=stats_error,
            last_synced_at=previous,
            model_ids=(*(r.model_id for r in records), *(m.model_id for m in unchanged)),
            warnings=tuple(_redact(w, provider) for w in warnings),
            duration_ms=_elapsed_ms(clock),
        )
        if self.dry_run:
            would = dry_run_changes(self.settings, provider.name, diff)
            result = dataclasses.replace(result, would=would)
        self.ledger.write(diff, result)
        return result

    def _raw_stats(self, provider: Provider, prepared: Prepared, diff: Diff) -> stats.Figures:
        """A raw-first listing's statistics: the previous sync's, when the listing changed
        nothing (the same records and plugins give the same figures); the previous counts
        updated from the changed models, when every figure is a count; else computed over
        every record, the unchanged ones mapped for it."""
        if prepared.unchanged:
            previous = self.ledger.last_stats(provider.name)
            if previous is not None and diff.is_empty:
                return previous, None
            if previous is not None and stats.countable(self.plugins):
                figures = self._updated(provider, previous, diff)
                if figures is not None:
                    return figures, None
        every = [*prepared.records, *prepared.unchanged_records()]
        return stats.compute(self.plugins, provider, every)

    def _updated(
        self, provider: Provider, previous: dict[str, float], diff: Diff
    ) -> dict[str, float] | None:
        """The previous counts plus the added and changed models' minus the replaced and
        removed versions' (`stats.updated`); None when a version cannot be read back."""
        added = [*diff.new, *(record for _, record in diff.changed)]
        added.extend(record for _, record, _ in diff.returning)
        replaced = [*(known.pk for known, _ in diff.changed), *(m.pk for m in diff.removed)]
        gone = [stored_record(values) for values in self.ledger.current_versions(replaced)]
        if len(gone) != len(replaced):
            return None
        return stats.updated(self.plugins, provider, previous, added=added, gone=gone)


def _diff(
    stored: Mapping[str, StoredModel],
    records: list[ModelRecord],
    unchanged: list[StoredModel] | None = None,
    raw_digests: Mapping[str, str] | None = None,
) -> Diff:
    try:
        return compute_diff(stored, records, unchanged or (), raw_digests)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ProviderError(f"Plugin returned a raw payload that is not JSON: {exc}") from exc


def _redact(text: str, provider: Provider) -> str:
    """Keys never reach output, logs or the database, even when a provider echoes them;
    a key too short to be a secret is left alone (`aisync.sync.fetch.redacted`)."""
    return redacted(text, provider.api_key)


def _elapsed_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)
