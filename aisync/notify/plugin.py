"""The built-in webhook notifier: a `sync_finished` plugin, as an external one would be.

The run has already queued its notifications in the `notifications` outbox, in the
transaction that closed it (`aisync.notify.body`); this plugin only delivers what is
due, this run's and any an earlier run could not deliver. A failed delivery is one
warning line and stays in the outbox for the next run or `aisync notify retry`; it never
changes the run's exit code. Dry runs deliver nothing, and without a configured receiver
the outbox is not even opened.
"""

from __future__ import annotations

import logging

from aisync import hookimpl
from aisync.report import SyncReport
from aisync.settings import Settings


@hookimpl
def sync_finished(report: SyncReport, settings: Settings) -> None:
    from aisync.notify.outbox import configured, deliver_pending

    if report.dry_run or report.run_id is None or not configured(settings):
        return
    warning = deliver_pending(settings).warning()
    if warning is not None:
        logging.getLogger("aisync").warning(warning)
