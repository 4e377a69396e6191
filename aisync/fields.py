"""Readers for the loosely typed fields of provider JSON, shared by every plugin.

Providers send token counts as strings or booleans and dates as epochs or RFC 3339 text, and
sometimes garbage. Each reader returns a clean value or None, never raises, so one odd field
costs that field only, not the model or the sync.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def token_count(value: Any) -> int | None:
    """A token count as the API sent it, or None for anything but a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def epoch_date(value: Any) -> date | None:
    """The UTC date of epoch seconds, or None when absent, not positive or out of range."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC).date()
    except (OverflowError, OSError, ValueError):
        return None


def iso_date(value: Any) -> date | None:
    """The UTC date of an RFC 3339 time, or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC).date() if when.tzinfo else when.date()
