"""Freshness and locking: which providers a run fetches at all.

A provider synced within its TTL is skipped (`cache_valid`) unless the run is forced.
Its lock is taken before anything is read or written, and freshness is looked at again
once the lock is ours: a run that waited for another one to sync the provider would
otherwise sync it again at once, the very duplicate work the lock prevents.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aisync.records import Provider
from aisync.settings import Settings
from aisync.sync.fetching import Skip

if TYPE_CHECKING:
    from aisync.db.ledger import Ledger
    from aisync.db.locks import Lock


class Freshness:
    """The freshness rules of one run (its settings, and whether it is forced)."""

    def __init__(self, settings: Settings, *, force: bool) -> None:
        self.settings = settings
        self.force = force

    def fresh(self, provider: Provider, previous: datetime) -> bool:
        if self.force:
            return False
        ttl = timedelta(seconds=self.settings.cache_ttl_for(provider.name))
        return datetime.now(UTC) - previous < ttl

    def claim(self, ledger: Ledger | None, provider: Provider) -> tuple[Lock | None, Skip | None]:
        """Take the provider's lock, and look again at its freshness once it is ours."""
        if ledger is None:
            return None, None
        taken, lock = ledger.claim(provider.name, self.settings.lock_timeout)
        if not taken:
            return None, ("locked", None)
        if lock is None or self.force:
            return lock, None
        when = ledger.last_syncs([provider.name]).get(provider.name)
        if when is not None and self.fresh(provider, when):
            return lock, ("cache_valid", when)
        return lock, None
