"""Models with a known deprecation or retirement date, for `aisync deprecations`.

The dates are the catalog's `deprecation_date` of each listed model's latest version, with
the origin `field_sources` records for it: the provider's API (Mistral's `deprecation`,
Bedrock's `endOfLifeTime`, Azure's `deprecation.inference`, OpenRouter's
`expiration_date`), an enrichment source (LiteLLM's `deprecation_date`) or an override.
A source that only says "deprecated" without a date (models.dev's `status`, Cohere's
`is_deprecated`, Bedrock's LEGACY) gives nothing to count down to and is left out.

Days are whole calendar days from `as_of` (today in UTC unless given): a date 30 days
ahead is "within 30 days", a date in the past is within any window ("retired N days ago").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from aisync.errors import UsageError
from aisync.records import API

#: The unit letters of a window and their length in days; no letter means days.
WINDOW_UNITS = {"": 1, "d": 1, "w": 7, "y": 365}
#: The longest window: a hundred years, far beyond any announced date.
MAX_WINDOW_DAYS = 36500
_WINDOW = re.compile(r"(\d{1,6})([dwy]?)")


@dataclass(frozen=True)
class Deprecation:
    """One listed model with a deprecation date."""

    provider: str
    model_id: str
    display_name: str | None
    deprecation_date: date
    #: Whole days from `as_of` to the date: 0 is today, negative is already retired.
    days_left: int
    #: Where the date came from: `api`, `models.dev`, `litellm`, `override` or a plugin's source.
    source: str
    successor: str | None = None
    successor_source: str | None = None

    @property
    def retired(self) -> bool:
        return self.days_left < 0


@dataclass(frozen=True)
class DeprecationReport:
    """What `Catalog.deprecations()` found, and what it was asked."""

    as_of: date
    #: The window asked for, in days; None for every known date.
    within_days: int | None
    #: Soonest first, then by provider and model id.
    deprecations: tuple[Deprecation, ...]
    #: Ids of the model list that no provider lists now (as given: `provider/id` or bare).
    not_in_catalog: tuple[str, ...] = ()

    def due_within(self, days: int) -> tuple[Deprecation, ...]:
        """The models whose date is at most `days` days away, or past."""
        return tuple(d for d in self.deprecations if d.days_left <= days)


def parse_window(value: int | timedelta | str) -> int:
    """Whole days from `90`, `90d`, `12w` or `1y` (365 days), or a `timedelta` of whole days.

    Months are not accepted: `6m` means minutes everywhere else in aisync, and a month has
    no fixed length.
    """
    if isinstance(value, timedelta):
        days = value.days if value == timedelta(days=value.days) else -1
    elif isinstance(value, int) and not isinstance(value, bool):
        days = value
    else:
        match = _WINDOW.fullmatch(str(value).strip().lower())
        days = int(match[1]) * WINDOW_UNITS[match[2]] if match else -1
    if not 0 <= days <= MAX_WINDOW_DAYS:
        raise UsageError(
            f"Invalid window {str(value)!r}: use days (90d), weeks (12w) or years (1y), "
            f"at most {MAX_WINDOW_DAYS} days"
        )
    return days


def parse_model_list(text: str) -> tuple[str, ...]:
    """The ids of a models file: one per line, `provider/id` or bare id; `#` starts a
    comment, blank lines are skipped."""
    ids = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(model for model in ids if model)


def selected(
    wanted: Sequence[str], listed: Iterable[tuple[str, str]]
) -> tuple[set[tuple[str, str]], tuple[str, ...]]:
    """The listed (provider, model id) pairs the ids name, and the ids that name none.

    An id names a model when it is the model id (any provider) or `provider/model_id`;
    ids such as `meta-llama/llama-3` that contain a slash themselves match either way.
    """
    keys: dict[str, list[tuple[str, str]]] = {}
    for provider, model_id in listed:
        keys.setdefault(model_id, []).append((provider, model_id))
        keys.setdefault(f"{provider}/{model_id}", []).append((provider, model_id))
    chosen = {pair for model in wanted for pair in keys.get(model, ())}
    missing = tuple(dict.fromkeys(model for model in wanted if model not in keys))
    return chosen, missing


def deprecation(
    provider: str,
    model_id: str,
    display_name: str | None,
    deprecation_date: date,
    successor: str | None,
    field_sources: dict[str, str],
    as_of: date,
) -> Deprecation:
    """One model's entry; a field without a recorded origin came from the API (the
    catalog leaves `field_sources` empty for a record nothing enriched)."""
    return Deprecation(
        provider=provider,
        model_id=model_id,
        display_name=display_name,
        deprecation_date=deprecation_date,
        days_left=(deprecation_date - as_of).days,
        source=field_sources.get("deprecation_date", API),
        successor=successor,
        successor_source=field_sources.get("successor", API) if successor else None,
    )
