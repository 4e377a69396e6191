"""`aisync deprecations` on a catalog made by real syncs of recorded listings.

OpenAI, Anthropic and Mistral listings are synced from their cassettes with both recorded
enrichment sources: Mistral's own listing dates two models (with a replacement model),
LiteLLM dates many OpenAI and Anthropic ones. Every answer is checked against what
`current_models` holds, and `--as-of` fixes the day so the boundaries are exact.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from aisync.catalog import Catalog
from aisync.catalog.deprecations import parse_model_list, parse_window
from aisync.errors import UsageError
from tests.cli import query, run
from tests.test_enrich import ANTHROPIC, LITELLM, MODELS_DEV, OPENAI, TESTS, enriched_env
from tests.test_table_widths import WIDTHS, assert_whole, rendered

MISTRAL = str(TESTS / "providers" / "cassettes" / "test_mistral" / "test_full_listing.yaml")
CASSETTES = (OPENAI, ANTHROPIC, MISTRAL, MODELS_DEV, LITELLM)
AS_OF = "2026-07-01"
#: LiteLLM dates this OpenAI model 2026-07-23: 22 days after AS_OF.
DEEP_RESEARCH = "openai/o4-mini-deep-research-2025-06-26"


def synced(url: str) -> dict[str, str]:
    env = enriched_env(url, MISTRAL_API_KEY="test-key")
    names = ("openai", "anthropic", "mistral")
    result = run(["sync-models", *(f"--provider={name}" for name in names)], env)
    assert result.exit_code == 0, result.output
    return env


def dated_in_sql(url: str) -> dict[tuple[str, str], date]:
    rows = query(
        url,
        "SELECT provider, model_id, deprecation_date FROM current_models "
        "WHERE deprecation_date IS NOT NULL",
    )
    # Through a view, SQLite gives dates back as text.
    return {(p, m): date.fromisoformat(str(d)) for p, m, d in rows}


def listed(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = run(["deprecations", "--as-of", AS_OF, "--json", *args], env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.vcr(*CASSETTES)
def test_every_dated_model_with_days_left_successor_and_origin(vcr: Any, database_url: str) -> None:
    env = synced(database_url)
    report = listed(env)
    expected = dated_in_sql(database_url)
    found = {(d["provider"], d["model_id"]): d for d in report["deprecations"]}
    assert len(found) > 50
    assert {key: date.fromisoformat(d["deprecation_date"]) for key, d in found.items()} == expected
    assert all(
        d["days_left"] == (expected[key] - date(2026, 7, 1)).days for key, d in found.items()
    )
    # Soonest first.
    dates = [d["deprecation_date"] for d in report["deprecations"]]
    assert dates == sorted(dates)
    # Mistral's own listing: a date and its replacement model, from the provider's API.
    assert found[("mistral", "mistral-small-2501")] == {
        "provider": "mistral",
        "model_id": "mistral-small-2501",
        "display_name": "mistral-small-2501",
        "deprecation_date": "2026-02-28",
        "days_left": -123,
        "source": "api",
        "successor": "mistral-small-latest",
        "successor_source": "api",
    }
    # LiteLLM's `deprecation_date` and `successor_model` for a model the API does not date.
    sonnet = found[("anthropic", "claude-sonnet-4-5-20250929")]
    assert (sonnet["deprecation_date"], sonnet["source"]) == ("2026-11-30", "litellm")
    assert (sonnet["successor"], sonnet["successor_source"]) == ("claude-sonnet-5-5", "litellm")
    assert report["as_of"] == AS_OF and report["within_days"] is None
    # Plain text when piped: one row per line, past dates as "retired N days ago".
    lines = run(["deprecations", "--as-of", AS_OF, "--provider", "mistral"], env).stdout
    assert lines.splitlines()[0].split() == [
        "PROVIDER",
        "MODEL",
        "DATE",
        "LEFT",
        "SUCCESSOR",
        "SOURCE",
    ]
    assert lines.splitlines()[1].split() == [
        "mistral",
        "mistral-small-2501",
        "2026-02-28",
        "retired",
        "123",
        "days",
        "ago",
        "mistral-small-latest",
        "api",
    ]


@pytest.mark.vcr(*CASSETTES)
def test_within_keeps_past_dates_and_those_at_most_that_many_days_ahead(
    vcr: Any, sqlite_url: str
) -> None:
    env = synced(sqlite_url)
    expected = dated_in_sql(sqlite_url)
    for window, days in (("22d", 22), ("21", 21), ("3w", 21), ("1y", 365)):
        report = listed(env, "--within", window)
        assert report["within_days"] == days
        found = {(d["provider"], d["model_id"]) for d in report["deprecations"]}
        assert found == {k for k, d in expected.items() if (d - date(2026, 7, 1)).days <= days}
    assert ("openai", DEEP_RESEARCH.split("/")[1]) in {
        (d["provider"], d["model_id"]) for d in listed(env, "--within", "22d")["deprecations"]
    }
    providers = listed(env, "--provider", "mistral", "--provider", "anthropic")["deprecations"]
    assert {d["provider"] for d in providers} == {"mistral", "anthropic"}


@pytest.mark.vcr(*CASSETTES)
def test_fail_within_exits_4_at_the_boundary_and_not_a_day_before(
    vcr: Any, database_url: str
) -> None:
    env = synced(database_url)
    base = ["deprecations", "--models", DEEP_RESEARCH, "--fail-within", "30d"]
    # 2026-07-23 is 30 days after 2026-06-23: due. From 2026-06-22 it is 31 days away.
    due = run([*base, "--as-of", "2026-06-23"], env)
    assert due.exit_code == 4, due.output
    assert DEEP_RESEARCH.split("/")[1] in due.stdout
    assert due.stderr == (
        "Retiring within 30 days of 2026-06-23 or retired: "
        "openai/o4-mini-deep-research-2025-06-26\n"
    )
    assert run([*base, "--as-of", "2026-06-22"], env).exit_code == 0
    assert run([*base[:-1], "31d", "--as-of", "2026-06-22"], env).exit_code == 4
    # On the day and after it, still due.
    assert run([*base, "--as-of", "2026-07-23"], env).exit_code == 4
    assert run([*base, "--as-of", "2027-01-01"], env).exit_code == 4
    # JSON is printed in full before the verdict.
    as_json = run([*base, "--as-of", "2026-06-23", "--json"], env)
    assert as_json.exit_code == 4
    assert json.loads(as_json.stdout)["deprecations"][0]["days_left"] == 30
    # A model with no date never fails the check.
    calm = run(["deprecations", "--models", "gpt-4o-search-preview", "--fail-within", "1y"], env)
    assert (calm.exit_code, calm.stdout) == (0, "")
    assert calm.stderr == "No listed model has a known deprecation date.\n"


@pytest.mark.vcr(*CASSETTES)
def test_models_file_limits_the_list_and_notes_ids_not_in_the_catalog(
    vcr: Any, sqlite_url: str, tmp_path: Path
) -> None:
    env = synced(sqlite_url)
    used = tmp_path / "models.txt"
    used.write_text(
        "# the models this project calls\n"
        "\n"
        "mistral/mistral-small-2501   # provider/id\n"
        "gpt-4o\n"
        "gpt-4o-search-preview\n"
        "openai/no-such-model\n"
        "claude-sonnet-4-5-20250929\n",
        encoding="utf-8",
    )
    result = run(["deprecations", "--as-of", AS_OF, "--models-file", str(used), "--json"], env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(d["provider"], d["model_id"]) for d in report["deprecations"]] == [
        ("mistral", "mistral-small-2501"),
        ("anthropic", "claude-sonnet-4-5-20250929"),
        ("openai", "gpt-4o"),
    ]
    assert report["not_in_catalog"] == ["openai/no-such-model"]
    assert (
        result.stderr == "Not in the catalog (no provider lists them now): openai/no-such-model\n"
    )
    # `--models` adds to the file; a bare id matches that model of any provider.
    both = run(["deprecations", "--models-file", str(used), "--models", "o3", "--json"], env).stdout
    assert ("openai", "o3") in {
        (d["provider"], d["model_id"]) for d in json.loads(both)["deprecations"]
    }


def test_the_models_file_grammar() -> None:
    text = "# head\n\n  a/b  \nc # note\n#x\n   \nd/e/f\n"
    assert parse_model_list(text) == ("a/b", "c", "d/e/f")


@pytest.mark.parametrize(
    ("text", "days"), [("0", 0), ("90d", 90), ("12w", 84), ("1y", 365), (" 2Y ", 730)]
)
def test_window_grammar(text: str, days: int) -> None:
    assert parse_window(text) == days


@pytest.mark.parametrize("text", ["6m", "-1d", "1.5d", "d", "", "36501d", "101y", "1h"])
def test_a_bad_window_is_one_line_and_exit_64(text: str, sqlite_url: str) -> None:
    with pytest.raises(UsageError):
        parse_window(text)
    for option in ("--within", "--fail-within"):
        result = run(["deprecations", option, text], {"AISYNC_DATABASE_URL": sqlite_url})
        assert result.exit_code == 64
        assert len(result.stderr.splitlines()) == 1
        assert "90d" in result.stderr


@pytest.mark.vcr(*CASSETTES)
def test_bad_input_is_one_line(vcr: Any, sqlite_url: str, tmp_path: Path) -> None:
    env = synced(sqlite_url)
    cases = {
        ("--as-of", "July"): 64,
        ("--models-file", str(tmp_path / "missing.txt")): 64,
        ("--provider", "opnai"): 1,
    }
    for args, code in cases.items():
        result = run(["deprecations", *args], env)
        assert (result.exit_code, len(result.stderr.splitlines())) == (code, 1), result.output
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    result = run(["deprecations", "--models-file", str(binary)], env)
    assert result.exit_code == 64 and "not UTF-8" in result.stderr


@pytest.mark.vcr(*CASSETTES)
def test_the_api_returns_typed_records(vcr: Any, sqlite_url: str) -> None:
    synced(sqlite_url)
    with Catalog(sqlite_url) as catalog:
        report = catalog.deprecations(
            within="30d", providers=["mistral"], models=["mistral-ocr-2503"], as_of=date(2026, 4, 1)
        )
    (ocr,) = report.deprecations
    assert (ocr.deprecation_date, ocr.days_left, ocr.retired) == (date(2026, 3, 31), -1, True)
    assert (ocr.successor, ocr.source) == ("mistral-ocr-latest", "api")
    assert report.due_within(0) == (ocr,)


@pytest.mark.vcr(*CASSETTES)
@pytest.mark.parametrize("width", WIDTHS)
def test_the_table_fits_the_terminal(vcr: Any, sqlite_url: str, width: int) -> None:
    from aisync.cli.deprecations import render

    synced(sqlite_url)
    with Catalog(sqlite_url) as catalog:
        found = catalog.deprecations(as_of=date(2026, 7, 1)).deprecations
    text = rendered(width, lambda output: render(found, output))
    assert_whole(text, [d.model_id for d in found])
