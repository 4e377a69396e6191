"""The webhook outbox (`notifications`): what a closed run owes its receivers.

Rows are inserted by `Ledger.close_run`, in the transaction that makes the run's outcome
final: a process killed after that commit loses no notification, one killed before it has
no final outcome to announce. Delivery claims a row before it posts (optimistically, on
its attempt count), so two processes retrying at once do not both send it; a process
killed while posting leaves the row claimed until its lease ends, then it is due again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Row, insert, select, update

from aisync.db.tables import notifications

#: After this many attempts a notification is `failed`: runs stop retrying it, and only
#: `aisync notify retry` sends it again.
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Outgoing:
    """A notification to write with the run's close."""

    delivery_id: str
    url: str = field(repr=False)
    #: The environment variable that holds the signing secret (None: unsigned).
    secret_env: str | None
    body: str = field(repr=False)


@dataclass(frozen=True)
class Notification:
    """One outbox row. `url` may carry userinfo: show it only through `redact_userinfo`."""

    id: int
    delivery_id: str
    run_id: int
    url: str = field(repr=False)
    secret_env: str | None
    body: str = field(repr=False)
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None

    @property
    def status(self) -> str:
        """delivered, failed (out of attempts) or pending."""
        if self.delivered_at is not None:
            return "delivered"
        return "failed" if self.attempts >= MAX_ATTEMPTS else "pending"


def insert_outgoing(
    connection: Connection, run_id: int, outgoing: Sequence[Outgoing], now: datetime
) -> None:
    """Queue `outgoing` for `run_id`, due at once."""
    if not outgoing:
        return
    connection.execute(
        insert(notifications),
        [
            {
                "delivery_id": item.delivery_id,
                "run_id": run_id,
                "url": item.url,
                "secret_env": item.secret_env,
                "body": item.body,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for item in outgoing
        ],
    )


def listed(connection: Connection, *, limit: int | None = None) -> list[Notification]:
    """Every notification, newest first."""
    query = select(notifications).order_by(notifications.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_notification(row) for row in connection.execute(query)]


def due(connection: Connection, now: datetime, *, everything: bool) -> list[Notification]:
    """The undelivered notifications to try now, oldest first: those whose next attempt
    is due and that have attempts left, or with `everything` every undelivered one."""
    query = select(notifications).where(notifications.c.delivered_at.is_(None))
    if not everything:
        query = query.where(
            notifications.c.next_attempt_at <= now, notifications.c.attempts < MAX_ATTEMPTS
        )
    return [_notification(row) for row in connection.execute(query.order_by(notifications.c.id))]


def claim(connection: Connection, item: Notification, lease_until: datetime) -> bool:
    """Count an attempt and hold the row until `lease_until`; False when another process
    attempted or delivered it since it was read."""
    result = connection.execute(
        update(notifications)
        .where(
            notifications.c.id == item.id,
            notifications.c.attempts == item.attempts,
            notifications.c.delivered_at.is_(None),
        )
        .values(attempts=item.attempts + 1, next_attempt_at=lease_until)
    )
    return result.rowcount == 1


def mark_delivered(connection: Connection, notification_id: int, now: datetime) -> None:
    connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(delivered_at=now, last_error=None)
    )


def mark_failed(
    connection: Connection, notification_id: int, error: str, next_attempt_at: datetime
) -> None:
    connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id, notifications.c.delivered_at.is_(None))
        .values(last_error=error[:2000], next_attempt_at=next_attempt_at)
    )


def _notification(row: Row[tuple[object, ...]]) -> Notification:
    values = row._mapping
    return Notification(**{name: values[name] for name in Notification.__dataclass_fields__})
