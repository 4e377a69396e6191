"""Fixtures shared by the provider plugin tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aisync.http import build_client
from aisync.settings import Settings


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A real client without retries: a cassette holds one answer per request."""
    client = build_client(5.0, max_retries=0)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def settings() -> Settings:
    """Settings on an in-memory catalog, so no test reads or writes a real one."""
    return Settings(database_url="sqlite://")
