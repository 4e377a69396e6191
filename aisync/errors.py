"""aisync's own exceptions.

Every failure a user can cause or meet is one of these, with a message written for a person
(the seed's wording where it has one). The CLI prints `str(error)` and never a traceback
unless asked for one with `-v`.
"""

from __future__ import annotations

import math

#: Units a wait is said in, largest first, each used from twice its size (`90 seconds`,
#: `2 minutes`), so the number a person reads is never a rounded-away 1.
_UNITS = (("year", 365.25 * 86400), ("day", 86400.0), ("hour", 3600.0), ("minute", 60.0))
#: Past this, the number is a server's nonsense (or a date in year 9999), not advice.
_LONGEST_WAIT = 100 * 365.25 * 86400


class AisyncError(Exception):
    """Base of every error aisync reports to its user."""


class ConfigError(AisyncError):
    """The settings (options, environment, config file) are unusable."""


class UsageError(AisyncError):
    """The user asked for something that cannot be done, e.g. an unknown provider."""


class DatabaseError(AisyncError):
    """The catalog database cannot be reached, migrated or written."""


class NotFound(AisyncError):
    """The model or run asked for is not in the catalog."""


class ProviderError(AisyncError):
    """A provider could not be synced; the message is what the user sees after the name.

    `status` is the HTTP status that caused it, when one did, so a plugin can tell an
    optional endpoint that does not exist (404) from a real failure without reading text.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidApiKey(ProviderError):
    def __init__(self, status: int | None = 401) -> None:
        super().__init__("Invalid API key", status=status)


class PermissionDenied(ProviderError):
    def __init__(self) -> None:
        super().__init__("Permission denied", status=403)


class RateLimited(ProviderError):
    def __init__(self, retry_after: float | None) -> None:
        self.retry_after = retry_after
        if retry_after is None:
            super().__init__("Rate limit exceeded", status=429)
        else:
            message = f"Rate limit exceeded, retry after {wait_text(retry_after)}"
            super().__init__(message, status=429)


class RequestTimeout(ProviderError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"Request timeout after {seconds:g} {_plural(seconds, 'second')}")


class DeadlineExceeded(ProviderError):
    """The provider's whole fetch outlasted its deadline (a trickling server, a plugin that
    never returns): `RequestTimeout` bounds each read, this bounds them all."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Timed out after {seconds:g} s")


class ConnectionFailed(ProviderError):
    def __init__(self, host: str) -> None:
        super().__init__(f"Cannot connect to {host}")


class SuspectListing(ProviderError):
    """A listing that would wipe most of a provider's catalog: refused unless accepted."""

    reason = "suspect_listing"


class BadResponse(ProviderError):
    """The provider answered, but not with what its API documents."""


def wait_text(seconds: float) -> str:
    """A wait as a person says it: `1 second`, `90 seconds`, `about 3 minutes`, `2 hours`,
    `about 73 years`; whole seconds are rounded up, since waiting less than asked fails
    again, and a larger unit is rounded to the nearest whole one and marked `about`."""
    if seconds >= _LONGEST_WAIT:
        return "more than 100 years"
    whole = math.ceil(seconds)
    for unit, size in _UNITS:
        if whole >= 2 * size:
            count = math.floor(whole / size + 0.5)
            about = "" if count * size == whole else "about "
            return f"{about}{count} {_plural(count, unit)}"
    return f"{whole} {_plural(whole, 'second')}"


def _plural(count: float, unit: str) -> str:
    return unit if count == 1 else unit + "s"


class Terminated(BaseException):
    """SIGTERM (cron, systemd, Kubernetes) stops a run as Ctrl-C does: a BaseException, so
    no `except Exception` swallows it, and the run is recorded as aborted (exit 143)."""
