"""Post what the outbox holds: signed, one attempt each, with a timeout and a backoff.

Delivery is at least once. A notification is marked delivered only once its receiver
answered 2xx; anything else (an error status, a timeout, a refused connection, a missing
secret) records the error and schedules the next attempt `backoff * 2**(attempts-1)`
later, at most `MAX_BACKOFF`, until `MAX_ATTEMPTS` make it `failed`. Each notification
keeps its delivery id on every attempt, so a receiver that got it twice (its 2xx lost on
the way back, or the sender killed before it recorded the success) can drop the copy.

Signature: `X-Aisync-Signature: sha256=<hex>` is the HMAC-SHA256, keyed with the secret's
UTF-8 bytes, of `<X-Aisync-Timestamp> + "." + <body bytes>`; the timestamp is the Unix
time of the attempt in whole seconds, so a receiver can refuse replays of old requests.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from aisync.db.outbox import Notification, claim, due, mark_delivered, mark_failed
from aisync.notify_settings import MAX_BACKOFF, NotifySettings
from aisync.settings import redact_userinfo

SIGNATURE_HEADER = "X-Aisync-Signature"
TIMESTAMP_HEADER = "X-Aisync-Timestamp"
DELIVERY_HEADER = "X-Aisync-Delivery"


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    delivered: list[str] = field(default_factory=list)
    #: One line per failed attempt: the masked URL and why.
    failed: list[str] = field(default_factory=list)

    def warning(self) -> str | None:
        """The one line a failed pass is worth on stderr; None when nothing failed."""
        if not self.failed:
            return None
        more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
        return (
            f"Webhook delivery failed, kept for retry: {self.failed[0]}{more}; "
            "see `aisync notify list`"
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Aisync-Signature` value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def deliver(
    engine: Engine,
    notify: NotifySettings,
    *,
    everything: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> DeliveryReport:
    """Try every due notification once (every undelivered one with `everything`).

    After a receiver fails, its other notifications wait for the next pass: a receiver
    that hangs costs one timeout per pass, not one per notification.
    """
    report = DeliveryReport()
    with engine.connect() as connection:
        pending = due(connection, _now(), everything=everything)
    if not pending:
        return report
    broken: set[str] = set()
    with _client(notify.timeout, transport) as client:
        for item in pending:
            if item.url in broken:
                continue
            error = _attempt(engine, client, notify, item)
            if error is None:
                report.delivered.append(item.delivery_id)
            elif error:
                broken.add(item.url)
                report.failed.append(f"{redact_userinfo(item.url)}: {error}")
    return report


def _attempt(
    engine: Engine, client: httpx.Client, notify: NotifySettings, item: Notification
) -> str | None:
    """Post `item` once: None when delivered, "" when another process has it, else why not.

    The attempt is counted (and the row leased) before the POST, so a process killed
    while posting leaves a row that is due again once the lease ends.
    """
    lease = _now() + timedelta(seconds=2 * notify.timeout + 1)
    with engine.begin() as connection:
        if not claim(connection, item, lease):
            return ""
    error = _post(client, notify, item)
    with engine.begin() as connection:
        if error is None:
            mark_delivered(connection, item.id, _now())
        else:
            wait = min(MAX_BACKOFF, notify.backoff * 2 ** min(item.attempts, 30))
            mark_failed(connection, item.id, error, _now() + timedelta(seconds=wait))
    return error


def _post(client: httpx.Client, notify: NotifySettings, item: Notification) -> str | None:
    body = item.body.encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: item.delivery_id,
        TIMESTAMP_HEADER: timestamp,
    }
    if item.secret_env is not None:
        secret = notify.secret(item.secret_env)
        if not secret:
            return f"the secret variable {item.secret_env} is not set"
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    try:
        response = client.post(item.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return f"no answer within {notify.timeout:g} s"
    except httpx.HTTPError as exc:
        return _clean(f"{type(exc).__name__}: {exc}", item.url)
    if response.is_success:
        return None
    return f"HTTP {response.status_code}"


def _clean(text: str, url: str) -> str:
    """One line, the URL's userinfo masked: an exception may quote the URL."""
    return " ".join(text.replace(url, redact_userinfo(url)).split())[:300]


def _client(timeout: float, transport: httpx.BaseTransport | None) -> httpx.Client:
    """The pass's one client, as `aisync.http` builds them: an explicit timeout, aisync's
    User-Agent, URL userinfo sent as Basic auth and never in the logged URL, and no
    redirects (a receiver that moved is a failure to fix, not a place to post to)."""
    from aisync.http import USER_AGENT, UrlCredentials

    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        auth=UrlCredentials(),
        follow_redirects=False,
        transport=transport,
    )


def _now() -> datetime:
    return datetime.now(UTC)
