"""What a sync run returns: one `ProviderResult` per provider and the run's exit code.

The exit codes are a contract for cron: 0 everything synced or was fresh, 1 nothing could
be synced, 2 some providers failed, 3 (dry run only) a sync would change the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_PARTIAL = 2
EXIT_WOULD_CHANGE = 3
#: `aisync deprecations --fail-within`: a listed model retires that soon or already did.
EXIT_DEPRECATION_DUE = 4
EXIT_USAGE = 64
EXIT_INTERRUPTED = 130
#: SIGTERM: 128 + 15, as a shell reports a process the signal ended.
EXIT_TERMINATED = 143


@dataclass(frozen=True)
class DryRunChanges:
    """What a dry run found a sync would do to one provider's models, by id."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: Model id -> field -> (stored value, new value), as JSON values; `{}` for a model
    #: whose raw payload or field origins alone changed.
    changed: Mapping[str, Mapping[str, tuple[Any, Any]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "would_add": list(self.added),
            "would_remove": list(self.removed),
            "would_change": {
                model_id: {name: list(pair) for name, pair in fields.items()}
                for model_id, fields in self.changed.items()
            },
        }


@dataclass(frozen=True)
class ProviderResult:
    provider: str
    #: synced, skipped or failed (in a dry run, synced means "would sync")
    status: str
    reason: str | None = None
    error: str | None = None
    models_found: int | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0
    stats: Mapping[str, float] = field(default_factory=dict)
    stats_error: str | None = None
    #: The previous successful sync, for "Last sync: 2 hours ago".
    last_synced_at: datetime | None = None
    model_ids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    duration_ms: int = 0
    #: A dry run's detail of what a sync would change (None outside dry runs).
    would: DryRunChanges | None = None

    @property
    def changes_catalog(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def to_dict(self) -> dict[str, Any]:
        would = self.would.to_dict() if self.would is not None else {}
        return {
            **would,
            "provider": self.provider,
            "status": self.status,
            "reason": self.reason,
            "error": self.error,
            "models_found": self.models_found,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "stats": dict(self.stats),
            "stats_error": self.stats_error,
            "last_synced_at": _iso(self.last_synced_at),
            "model_ids": list(self.model_ids),
            "warnings": list(self.warnings),
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class SkippedProvider:
    """A provider left out before the run: its plugin failed, or discovery failed."""

    name: str
    reason: str


@dataclass(frozen=True)
class SyncReport:
    started_at: datetime
    finished_at: datetime
    results: tuple[ProviderResult, ...] = ()
    run_id: int | None = None
    dry_run: bool = False
    forced: bool = False
    #: Set when nothing could be attempted (`No providers available for synchronization.`).
    message: str | None = None
    skipped_providers: tuple[SkippedProvider, ...] = ()
    #: Problems of the run as a whole, each said once: an enrichment source that is down
    #: (its cached copy used, or none) or that no plugin provides. Never a failure.
    warnings: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[ProviderResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    @property
    def synced(self) -> tuple[ProviderResult, ...]:
        return tuple(r for r in self.results if r.status == "synced")

    @property
    def total_models(self) -> int:
        return sum(r.models_found or 0 for r in self.synced)

    @property
    def exit_code(self) -> int:
        if self.message is not None or not self.results or len(self.failed) == len(self.results):
            return EXIT_FAILED
        if self.failed:
            return EXIT_PARTIAL
        if self.dry_run and any(r.changes_catalog for r in self.results):
            return EXIT_WOULD_CHANGE
        return EXIT_OK

    @property
    def status(self) -> str:
        """The `sync_runs.status` this report stands for."""
        return {EXIT_FAILED: "failed", EXIT_PARTIAL: "partial"}.get(self.exit_code, "succeeded")

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "forced": self.forced,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "status": self.status,
            "exit_code": self.exit_code,
            "message": self.message,
            "total_models": self.total_models,
            "providers_synced": len(self.synced),
            "providers": [r.to_dict() for r in self.results],
            "skipped_plugins": [
                {"name": s.name, "reason": s.reason} for s in self.skipped_providers
            ],
            "warnings": list(self.warnings),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
