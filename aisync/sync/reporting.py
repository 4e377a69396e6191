"""The report step of a run: its `SyncReport`, the run row closed, `sync_finished` called.

Also how a run that was stopped (an error, Ctrl-C, SIGTERM) is closed, so that the
catalog records it within seconds whatever was interrupted.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aisync.errors import Terminated
from aisync.report import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, SyncReport
from aisync.settings import Settings
from aisync.sync.plugins import Plugins, call_each

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aisync.db.ledger import Ledger
    from aisync.db.outbox import Outgoing


def close_run(
    ledger: Ledger | None, report: SyncReport, notifications: Sequence[Outgoing] = ()
) -> None:
    """Record the run's outcome, queueing its webhook `notifications` in the same
    transaction. A run refused before it started (unknown provider, no credentials)
    records nothing: `sync_runs` has no column for its reason, and an empty failed run
    row would only say "something failed" while the reason went to stderr."""
    if ledger is not None:
        ledger.close_run(
            status=report.status, exit_code=report.exit_code, notifications=notifications
        )


def owed_notifications(report: SyncReport, settings: Settings, engine: Engine) -> list[Outgoing]:
    """The webhook notifications the run owes (`aisync.notify`), queued by the ledger in
    the transaction that closes the run and delivered after it, by `sync_finished`."""
    from aisync.notify.body import notifications_for

    return notifications_for(report, settings, engine)


def notify(plugins: Plugins, report: SyncReport, settings: Settings) -> None:
    """Call every `sync_finished` hook; a failing one is logged, never fatal."""
    log = logging.getLogger("aisync")
    hook = plugins.manager.hook.sync_finished
    for answer in call_each(hook, {"report": report, "settings": settings}):
        if answer.error is not None:
            log.warning("sync_finished hook of %s failed: %s", answer.plugin, answer.failure())
            log.debug("sync_finished hook of %s failed", answer.plugin, exc_info=answer.error)


def close_stopped(ledger: Ledger | None, exc: BaseException) -> None:
    """Close the run that `exc` stopped: `failed` for an error, `aborted` for Ctrl-C
    (exit 130) or SIGTERM (exit 143), recorded within seconds whatever was interrupted."""
    if ledger is None:
        return
    if isinstance(exc, Exception):
        ledger.close_run(status="failed", exit_code=EXIT_FAILED)
        return
    _forget_frames(exc)
    code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    ledger.abort(exit_code=code)


def _forget_frames(exc: BaseException) -> None:
    """Clear the locals of the frames an interrupt unwound. A read it cut short keeps its
    cursor there, and on SQLite that cursor's read lock would keep the run from recording
    its abort (its own write waits for the lock the whole busy timeout, then fails).
    Clearing is enough for the cursor to go; a full garbage collection of a big listing
    would cost seconds."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        current = current.__context__
