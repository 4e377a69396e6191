"""The notifications a finished run owes: one JSON body per receiver whose filter it matched.

Built before the run closes, so the ledger can queue them in the closing transaction. The
per-field changes come from the catalog's two stored versions of each changed model
(`aisync.catalog.queries.changes` for the run), never from diffing a listing again. The shape is
`aisync/schemas/webhook.schema.json (`aisync schema webhook`)`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from aisync.db.outbox import Outgoing
from aisync.notify_settings import EVENTS, NotifySettings, Webhook, notify_settings
from aisync.report import SyncReport

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aisync.settings import Settings

#: The body's `schema`: a receiver can tell versions of this shape apart.
SCHEMA = "https://aisync.dev/schemas/webhook/v1"
#: The fields whose change is a `price` event.
PRICE_FIELDS = frozenset(
    {
        "input_price_per_mtok",
        "output_price_per_mtok",
        "cache_read_price_per_mtok",
        "cache_write_price_per_mtok",
        "pricing",
    }
)


@dataclass(frozen=True)
class ModelChange:
    """One event of the run, with the fields whose stored value changed (old, new)."""

    provider: str
    model_id: str
    change: str
    fields: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)


def notifications_for(report: SyncReport, settings: Settings, engine: Engine) -> list[Outgoing]:
    """What `report`'s run owes its receivers; none for a dry run or without receivers.

    A failure to read the run's changes costs the notifications, never the run: it is one
    warning, and the run closes as it would have.
    """
    if report.dry_run or report.run_id is None:
        return []
    try:
        notify = notify_settings(settings.notify_table, settings.environ)
        if not notify.webhooks:
            return []
        changes = run_changes(engine, report.run_id) if _changed(report) else []
    except Exception as exc:
        logging.getLogger("aisync").warning(
            "Webhooks: the changes of run %s could not be read, no notification: %s",
            report.run_id,
            exc,
        )
        return []
    return outgoing(report, changes, notify)


def outgoing(
    report: SyncReport, changes: Sequence[ModelChange], notify: NotifySettings
) -> list[Outgoing]:
    """One notification per receiver whose events and providers the run matched."""
    result = []
    for webhook in notify.webhooks:
        delivery_id = str(uuid.uuid4())
        body = build_body(report, changes, webhook, delivery_id)
        if body is not None:
            text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            result.append(Outgoing(delivery_id, webhook.url, webhook.secret_env, text))
    return result


def build_body(
    report: SyncReport, changes: Sequence[ModelChange], webhook: Webhook, delivery_id: str
) -> dict[str, Any] | None:
    """The body for `webhook`, or None when nothing of its filter happened.

    Only the webhook's providers are in it (every provider when it names none), and
    `events` lists what happened among those it listens `on`.
    """
    wanted = set(webhook.providers)
    results = [r for r in report.results if not wanted or r.provider in wanted]
    mine = [c for c in changes if not wanted or c.provider in wanted]
    happened = _events(results, mine)
    events = [event for event in EVENTS if event in happened and event in webhook.on]
    if not events:
        return None
    return {
        "schema": SCHEMA,
        "delivery_id": delivery_id,
        "events": events,
        "run": {
            "id": report.run_id,
            "started_at": report.started_at.isoformat(),
            "finished_at": report.finished_at.isoformat(),
            "status": report.status,
            "exit_code": report.exit_code,
        },
        "providers": [
            {
                "provider": r.provider,
                "status": r.status,
                "reason": r.reason,
                "error": r.error,
                "models_found": r.models_found,
                "added": r.added,
                "changed": r.changed,
                "removed": r.removed,
            }
            for r in results
        ],
        "changes": _changes(mine),
    }


def _events(results: Iterable[Any], changes: Sequence[ModelChange]) -> set[str]:
    happened = {c.change for c in changes}
    for change in changes:
        if PRICE_FIELDS & set(change.fields):
            happened.add("price")
        if _deprecation(change) is not None:
            happened.add("deprecation")
    if any(r.status == "failed" for r in results):
        happened.add("failure")
    return happened


def _changes(changes: Sequence[ModelChange]) -> dict[str, list[dict[str, Any]]]:
    def ids(kind: str) -> list[dict[str, Any]]:
        return [_model(c) for c in changes if c.change == kind]

    changed = [c for c in changes if c.change == "changed"]
    return {
        "added": ids("added"),
        "removed": ids("removed"),
        "changed": [{**_model(c), "fields": _fields(c.fields)} for c in changed],
        "prices": [
            {**_model(c), "fields": _fields(c.fields, PRICE_FIELDS)}
            for c in changed
            if PRICE_FIELDS & set(c.fields)
        ],
        "deprecations": [
            {**_model(c), **deprecation}
            for c in changes
            if (deprecation := _deprecation(c)) is not None
        ],
    }


def _model(change: ModelChange) -> dict[str, Any]:
    return {"provider": change.provider, "model_id": change.model_id}


def _fields(
    fields: Mapping[str, tuple[Any, Any]], only: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    keep = set(fields) if only is None else set(only) & set(fields)
    return {
        name: {"old": _json(old), "new": _json(new)}
        for name, (old, new) in fields.items()
        if name in keep
    }


def _deprecation(change: ModelChange) -> dict[str, Any] | None:
    """A newly announced (or moved) deprecation date: `deprecation_date` changed to a date,
    or a model added with one."""
    pair = change.fields.get("deprecation_date")
    if pair is None or pair[1] is None:
        return None
    return {"old": _json(pair[0]), "new": _json(pair[1])}


def _json(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json(item) for key, item in value.items()}
    return value


def _changed(report: SyncReport) -> bool:
    return any(result.changes_catalog for result in report.results)


def run_changes(engine: Engine, run_id: int) -> list[ModelChange]:
    """The run's events as the catalog stored them, each `changed` one with the fields
    whose value differs between the model's version before and after, and an `added` one
    with its deprecation date when it arrived with a date not known before."""
    # Imported here: every run asks for its notifications, most have no receiver.
    from aisync.catalog import queries
    from aisync.catalog.records import VERSION_FIELDS

    with engine.connect() as connection:
        rows = queries.changes(connection, run_id=run_id)
        arrivals = {
            (row.provider, row.model_id): (row.old_date, row.new_date)
            for row in queries.dated_arrivals(connection, run_id)
            if row.old_date != row.new_date
        }
    result = []
    for row in sorted(rows, key=lambda row: (row.provider, row.model_id, row.changed_at)):
        values = row._mapping
        fields: dict[str, tuple[Any, Any]] = {}
        if values["change"] == "changed" and values["old_capabilities"] is not None:
            for name in VERSION_FIELDS:
                old, new = values[f"old_{name}"], values[f"new_{name}"]
                if old != new:
                    fields[name] = (old, new)
        elif (
            values["change"] == "added"
            and (key := (values["provider"], values["model_id"])) in arrivals
        ):
            fields["deprecation_date"] = arrivals[key]
        result.append(ModelChange(values["provider"], values["model_id"], values["change"], fields))
    return result
