"""The outbox as its users see it: the built-in plugin after each run, `aisync notify`.

Both open the catalog as it is (never creating or migrating one) and dispose of it before
they return.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from aisync.errors import DatabaseError
from aisync.notify_settings import notify_settings

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Engine

    from aisync.db.outbox import Notification
    from aisync.notify.delivery import DeliveryReport
    from aisync.settings import Settings


def configured(settings: Settings) -> bool:
    """Whether any receiver is configured: without one, a run never opens the outbox."""
    return bool(notify_settings(settings.notify_table, settings.environ).webhooks)


def deliver_pending(
    settings: Settings, *, everything: bool = False, transport: httpx.BaseTransport | None = None
) -> DeliveryReport:
    """Post every due notification (every undelivered one with `everything`)."""
    # Imported here: a run without receivers (`configured`) loads no HTTP client.
    from aisync.notify.delivery import deliver

    notify = notify_settings(settings.notify_table, settings.environ)
    with _catalog(settings) as engine:
        return deliver(engine, notify, everything=everything, transport=transport)


def notifications(settings: Settings, *, limit: int | None = None) -> list[Notification]:
    """The outbox, newest first."""
    from aisync.db.outbox import listed

    with _catalog(settings) as engine, engine.connect() as connection:
        return listed(connection, limit=limit)


@contextmanager
def _catalog(settings: Settings) -> Iterator[Engine]:
    from aisync.db.connect import masked_url
    from aisync.db.ledger import guarded, open_existing

    engine = open_existing(settings.database_url)
    if engine is None:
        where = masked_url(settings.database_url)
        raise DatabaseError(f"No catalog at {where} at this aisync's schema; run a sync first")
    try:
        with guarded("Database error"):
            yield engine
    finally:
        engine.dispose()
