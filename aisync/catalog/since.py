"""What `--since` means: `7d`, `12h`, `30m`, an ISO date or time, or a `timedelta` ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aisync.errors import ConfigError, UsageError
from aisync.settings import duration_seconds, parse_duration


def parse_since(value: datetime | timedelta | str, now: datetime | None = None) -> datetime:
    """The UTC time meant by `7d`, `12h`, `30m`, an ISO date or time, or a `timedelta` ago.

    Times without a zone are local time, as a person typing `--since 2026-11-01` means.
    """
    now = now or datetime.now(UTC)
    if isinstance(value, timedelta):
        return now - value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    text = value.strip()
    try:
        duration_seconds(text)
    except ConfigError:
        return _moment(text)
    try:
        return now - timedelta(seconds=parse_duration(text, "time"))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _moment(text: str) -> datetime:
    """The UTC time of an ISO date or time (local time unless it names a zone)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"Invalid time: {text!r} (use 7d, 12h, 30m or an ISO date like 2026-11-01)"
        ) from None
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        # Year 1 or 9999 seen from another zone has no UTC time Python can hold.
        raise UsageError(f"Invalid time: {text!r} (out of range)") from None
