"""The shared readers of loosely typed provider fields."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from aisync.fields import epoch_date, iso_date, token_count


@pytest.mark.parametrize(
    ("value", "expected"), [(8192, 8192), (0, 0), (-1, None), ("8192", None), (False, None)]
)
def test_token_count(value: Any, expected: int | None) -> None:
    assert token_count(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1715367049, date(2024, 5, 10)), (1715367049.5, date(2024, 5, 10)), (0, None), (10**20, None)],
)
def test_epoch_date(value: Any, expected: date | None) -> None:
    assert epoch_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-24T23:30:00-05:00", date(2025, 11, 25)),
        ("2025-11-24", date(2025, 11, 24)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_iso_date(value: Any, expected: date | None) -> None:
    assert iso_date(value) == expected
