"""`aisync notify`: the webhook outbox, and delivering what it still holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from aisync.cli import FullHelpGroup
from aisync.cli.options import common_options, settings_from
from aisync.cli.render import Output, ago
from aisync.cli.tables import EMPTY, print_table
from aisync.errors import AisyncError
from aisync.report import EXIT_FAILED, EXIT_PARTIAL

if TYPE_CHECKING:
    from aisync.db.outbox import Notification


@click.group(cls=FullHelpGroup)
def notify() -> None:
    """Inspect and retry webhook notifications (configured in [notify])."""


@notify.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the outbox as JSON on stdout.")
@common_options
def list_command(
    limit: int, as_json: bool, database_url: str | None, config_path: str | None
) -> int:
    """List notifications, newest first: pending, delivered or failed, and why."""
    from aisync.notify.outbox import notifications

    def run(output: Output) -> int:
        found = notifications(settings_from(config_path, database_url=database_url), limit=limit)
        if as_json:
            click.echo(json.dumps([_as_dict(item) for item in found], indent=2))
        elif not found:
            output.line("No notifications.")
        else:
            headers = ["ID", "Run", "Status", "Attempts", "URL", "Created", "Last error"]
            rows = [
                [
                    str(item.id),
                    str(item.run_id),
                    item.status,
                    str(item.attempts),
                    _url(item.url),
                    ago(item.created_at),
                    item.last_error or EMPTY,
                ]
                for item in found
            ]
            print_table(output, headers, rows, solid=["ID", "Status"])
        return 0

    return _run(run)


@notify.command("retry")
@common_options
def retry_command(database_url: str | None, config_path: str | None) -> int:
    """Deliver every undelivered notification now, failed ones included.

    Exit codes: 0 all delivered (or nothing to deliver), 2 some failed, 1 none could be
    delivered.
    """
    from aisync.notify.outbox import deliver_pending

    def run(output: Output) -> int:
        settings = settings_from(config_path, database_url=database_url)
        report = deliver_pending(settings, everything=True)
        if not report.delivered and not report.failed:
            output.line("Nothing to deliver.")
            return 0
        output.line(f"Delivered {len(report.delivered)}, failed {len(report.failed)}.")
        for line in report.failed:
            output.error(f"- {line}")
        if not report.failed:
            return 0
        return EXIT_PARTIAL if report.delivered else EXIT_FAILED

    return _run(run)


def _as_dict(item: Notification) -> dict[str, Any]:
    return {
        "id": item.id,
        "delivery_id": item.delivery_id,
        "run_id": item.run_id,
        "status": item.status,
        "url": _url(item.url),
        "attempts": item.attempts,
        "last_error": item.last_error,
        "created_at": item.created_at.isoformat(),
        "next_attempt_at": None if item.delivered_at else item.next_attempt_at.isoformat(),
        "delivered_at": item.delivered_at.isoformat() if item.delivered_at else None,
        # What was (or will be) posted, as the receiver reads it: the secret is not in it.
        "body": json.loads(item.body),
    }


def _url(url: str) -> str:
    from aisync.settings import redact_userinfo

    return redact_userinfo(url)


def _run(action: Callable[[Output], int]) -> int:
    """One line on stderr and exit 1 for a failure (no catalog, a database error)."""
    output = Output()
    try:
        return action(output)
    except AisyncError as exc:
        output.error(str(exc))
        return EXIT_FAILED
