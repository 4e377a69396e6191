"""Values the catalog cannot store, sent by a provider: they cost the value or the entry,
never the run.

Each case points `groq` (an OpenAI-shaped listing with token counts) or `mistral` (with
display names) at the fake server with one bad entry beside a good one, and syncs it with
`mock` in the same run on every backend. The bad entry is skipped (counted in one warning)
or its bad field dropped (named in one warning); the good entries and `mock` are stored;
the exit code is 0 because every provider synced. A listing whose every entry is
unreadable fails its provider (`Malformed listing`, exit 2), first sync or not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cli import query, run
from tests.fakeserver import FakeServer, Reply

GOOD = {"id": "good-model", "object": "model", "context_window": 8192, "name": "Good"}


@dataclass(frozen=True)
class Bad:
    """One bad entry, the provider that reads it, the warning and what is stored of it."""

    provider: str
    entry: dict[str, Any] | None
    warning: str
    #: The ids stored for the provider, and the column checked on the bad entry's row.
    stored: tuple[str, ...]
    column: str = "context_window"
    value: Any = None
    raw: bytes | None = None


def nested(depth: int) -> Any:
    """A list inside a list, `depth` levels deep."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


SKIPPED = "1 of 2 entries skipped:"
DROPPED = "values the catalog cannot store were dropped:"

CASES = {
    "context-window-beyond-64-bit": Bad(
        "groq",
        {"id": "huge", "context_window": 2**70},
        f"{DROPPED} context_window (1)",
        ("good-model", "huge"),
    ),
    "context-window-beyond-32-bit": Bad(
        "groq",
        {"id": "huge", "context_window": 2**31, "max_completion_tokens": 2**40},
        f"{DROPPED} context_window (1), max_output_tokens (1)",
        ("good-model", "huge"),
    ),
    "lone-surrogate-in-id": Bad(
        "groq",
        {"id": "bad-\ud800"},
        f"{SKIPPED} a model id with control characters, a line break or a lone surrogate (1)",
        ("good-model",),
    ),
    "id-over-column-length": Bad(
        "groq",
        {"id": "x" * 256},
        f"{SKIPPED} a model id longer than 255 characters (1)",
        ("good-model",),
    ),
    "nul-in-id": Bad(
        "groq",
        {"id": "bad\x00model"},
        f"{SKIPPED} a model id with control characters, a line break or a lone surrogate (1)",
        ("good-model",),
    ),
    "newline-in-id": Bad(
        "groq",
        {"id": "bad\nmodel"},
        f"{SKIPPED} a model id with control characters, a line break or a lone surrogate (1)",
        ("good-model",),
    ),
    "tab-in-id": Bad(
        "groq",
        {"id": "bad\tmodel"},
        f"{SKIPPED} a model id with control characters, a line break or a lone surrogate (1)",
        ("good-model",),
    ),
    "entry-without-id": Bad(
        "groq", {"object": "model"}, f"{SKIPPED} no model id (1)", ("good-model",)
    ),
    "name-over-column-length": Bad(
        "mistral",
        {"id": "long-name", "name": "n" * 256},
        f"{DROPPED} display_name (1)",
        ("good-model", "long-name"),
        column="display_name",
    ),
    "nul-in-name": Bad(
        "mistral",
        {"id": "nul-name", "name": "a\x00b"},
        f"{DROPPED} display_name (1)",
        ("good-model", "nul-name"),
        column="display_name",
    ),
    "lone-surrogate-in-name": Bad(
        "mistral",
        {"id": "odd-name", "name": "a\udc80b"},
        f"{DROPPED} display_name (1)",
        ("good-model", "odd-name"),
        column="display_name",
    ),
    "nan-and-infinity-in-raw": Bad(
        "groq",
        None,
        "raw payload of 1 model(s) stored with non-finite numbers (NaN, Infinity) as null",
        ("good-model", "nan"),
        raw=b'{"data": [{"id": "good-model", "context_window": 8192},'
        b' {"id": "nan", "score": NaN, "limits": [Infinity, -Infinity, 1.5]}]}',
    ),
    "nul-and-surrogate-in-raw": Bad(
        "groq",
        {"id": "odd-raw", "note": "a\x00b", "other": "c\udc80d", "k\x00": 1},
        "raw payload of 1 model(s) stored with lone surrogates as U+FFFD",
        ("good-model", "odd-raw"),
    ),
    "raw-nested-too-deep": Bad(
        "groq",
        {"id": "deep", "nested": nested(100)},
        "raw payload of 1 model(s) stored with what is nested deeper than 30 levels as null",
        ("good-model", "deep"),
    ),
}


def environment(url: str, server: FakeServer, provider: str) -> dict[str, str]:
    prefix = f"AISYNC_{provider.upper()}"
    return {
        "AISYNC_DATABASE_URL": url,
        "AISYNC_RETRIES": "0",
        f"{prefix}_API_KEY": f"sk-{provider}-bad-values-0123",
        f"{prefix}_BASE_URL": f"{server.url}/{provider}",
    }


def reply(case: Bad) -> Reply:
    if case.raw is not None:
        return Reply(200, raw=case.raw)
    body = {"object": "list", "data": [GOOD, case.entry]}
    return Reply(200, raw=_dumps(body))


def _dumps(body: Any) -> bytes:
    """JSON as a provider might send it: lone surrogates escaped, as JSON allows."""
    return json.dumps(body).encode("ascii")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bad_value_costs_its_value_or_entry_not_the_run(
    case: Bad, database_url: str, fake_server: FakeServer
) -> None:
    fake_server.route(f"/{case.provider}/models", reply(case))
    env = environment(database_url, fake_server, case.provider)

    result = run(["sync-models", "-v", "--provider", case.provider, "--provider", "mock"], env)

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "Unexpected error" not in result.output
    found = "1 model" if len(case.stored) == 1 else f"{len(case.stored)} models"
    assert f"{case.provider}:\n  ✓ Found {found}\n" in result.stdout
    assert "mock:\n  ✓ Found 3 models" in result.stdout
    if case.warning:
        assert f"  ⚠ {case.warning}" in result.stdout
    ids = query(
        database_url,
        "SELECT model_id FROM models WHERE provider = :p",
        p=case.provider,
    )
    assert sorted(row[0] for row in ids) == sorted(case.stored)
    statuses = query(database_url, "SELECT provider, status FROM provider_syncs ORDER BY provider")
    assert sorted(statuses) == sorted([("mock", "synced"), (case.provider, "synced")])
    if len(case.stored) > 1:
        [(value,)] = query(
            database_url,
            f"SELECT v.{case.column} FROM model_versions v JOIN models m ON m.id = v.model "
            "WHERE m.model_id = :id",
            id=case.stored[1],
        )
        assert value == case.value


def test_a_listing_of_unreadable_entries_fails_its_provider_on_a_first_sync(
    database_url: str, fake_server: FakeServer
) -> None:
    """An OpenAI-style listing whose entries have no id is not "0 models"."""
    entries = [{"object": "model", "owned_by": "x"}, {"id": 7}, {"id": "two\nlines"}]
    fake_server.route("/openai/models", Reply(200, {"object": "list", "data": entries}))
    env = environment(database_url, fake_server, "openai")

    result = run(["sync-models", "--provider", "openai", "--provider", "mock"], env)

    message = (
        "Malformed listing: none of its 3 entries could be read (a model id with control "
        "characters, a line break or a lone surrogate (1), no model id (2))"
    )
    assert result.exit_code == 2, result.output
    assert f"openai:\n  ❌ Synchronization failed: {message}\n" in result.stdout
    assert "mock:\n  ✓ Found 3 models" in result.stdout
    assert query(database_url, "SELECT COUNT(*) FROM models WHERE provider = 'openai'") == [(0,)]


def test_an_empty_listing_is_still_an_empty_listing(
    sqlite_url: str, fake_server: FakeServer
) -> None:
    """No entry at all is not malformed: a new account may list nothing yet."""
    fake_server.route("/openai/models", Reply(200, {"object": "list", "data": []}))
    result = run(
        ["sync-models", "--provider", "openai"], environment(sqlite_url, fake_server, "openai")
    )
    assert result.exit_code == 0, result.output
    assert "✓ Found 0 models" in result.stdout


def test_models_piped_stays_one_line_per_model(sqlite_url: str, fake_server: FakeServer) -> None:
    """Ids that would break a line (a newline, a carriage return, U+2028) never reach the
    catalog, so the plain listing a script reads stays one model per line."""
    entries = [GOOD, {"id": "two\nlines"}, {"id": "carriage\rreturn"}, {"id": "para\u2028sep"}]
    fake_server.route("/groq/models", Reply(200, raw=_dumps({"data": entries})))
    env = environment(sqlite_url, fake_server, "groq")
    assert run(["sync-models", "--provider", "groq", "--provider", "mock"], env).exit_code == 0

    listed = run(["models"], env).stdout.splitlines()

    assert len(listed) == 1 + 4  # the header, mock's 3 models and good-model
    assert [line.split()[1] for line in listed[1:]] == [
        "good-model",
        "mock-advanced",
        "mock-basic",
        "mock-model",
    ]


@dataclass(frozen=True)
class Listing:
    """Where a provider reads its listing under its base URL, the key of its entries, and
    an entry it reads as a model named `good-model` (None: reading one asks for more)."""

    path: str
    key: str
    good: dict[str, Any] | None
    extra: dict[str, Any] | None = None


LISTINGS = {
    "anthropic": Listing("/v1/models", "data", {"id": "good-model"}, {"has_more": False}),
    "gemini": Listing("/models", "models", {"name": "models/good-model"}),
    "mistral": Listing("/models", "data", {"id": "good-model"}),
    "openrouter": Listing("/models", "data", {"id": "good-model"}),
    "ollama": Listing("/api/tags", "models", None),
    "groq": Listing("/models", "data", {"id": "good-model"}),
    "xai": Listing("/models", "data", {"id": "good-model"}),
    "deepseek": Listing("/models", "data", {"id": "good-model"}),
}
#: Entries no provider can read: not an object, an id that is no string, no id at all.
UNREADABLE = ["good-model", {"id": 7, "name": 7}, {"object": "model"}]


def serve(server: FakeServer, provider: str, entries: list[Any]) -> None:
    listing = LISTINGS[provider]
    body = {listing.key: entries, **(listing.extra or {})}
    server.route(f"/{provider}{listing.path}", Reply(200, body))


@pytest.mark.parametrize("provider", LISTINGS)
def test_every_provider_fails_a_listing_of_unreadable_entries(
    provider: str, sqlite_url: str, fake_server: FakeServer
) -> None:
    """No provider drops what it cannot read before the normalize step counts it: a
    listing of nothing else is malformed, not "Found 0 models"."""
    serve(fake_server, provider, UNREADABLE)
    env = environment(sqlite_url, fake_server, provider)

    result = run(["sync-models", "--provider", provider, "--provider", "mock"], env)

    message = "Malformed listing: none of its 3 entries could be read (no model id (3))"
    assert result.exit_code == 2, result.output
    assert f"{provider}:\n  ❌ Synchronization failed: {message}\n" in result.stdout
    assert "mock:\n  ✓ Found 3 models" in result.stdout


@pytest.mark.parametrize("provider", [name for name, case in LISTINGS.items() if case.good])
def test_every_provider_counts_the_entries_it_cannot_read(
    provider: str, sqlite_url: str, fake_server: FakeServer
) -> None:
    """Beside a readable entry, the unreadable ones are skipped and told of, one line."""
    serve(fake_server, provider, [LISTINGS[provider].good, *UNREADABLE])
    env = environment(sqlite_url, fake_server, provider)

    result = run(["sync-models", "--provider", provider], env)

    assert result.exit_code == 0, result.output
    assert f"{provider}:\n  ✓ Found 1 model\n" in result.stdout
    assert "  ⚠ 3 of 4 entries skipped: no model id (3)\n" in result.stdout
