"""Overrides from the CLI and the API: they beat the API and every source, survive re-syncs,
wait for models not listed yet, and bad fields or values exit 64."""

from __future__ import annotations

import json
from datetime import date

import pytest

from aisync.db.connect import open_engine
from aisync.db.migrate import ensure_schema
from aisync.overrides import OverrideError, list_overrides, set_override, unset_override
from tests.fakeserver import FakeServer, Reply
from tests.test_enrich import (
    MODELS_DEV_BODY,
    current,
    enriched_env,
    run,
    source_server,
    sources_of,
    versions,
)


def test_override_beats_api_and_sources_and_survives_resyncs(
    database_url: str, fake_server: FakeServer
) -> None:
    env = enriched_env(database_url, **source_server(fake_server, Reply(200, MODELS_DEV_BODY)))
    assert run(["sync-models", "--provider", "openai"], env).exit_code == 0
    set_result = run(
        ["override", "set", "openai/gpt-4o", "context_window", "64000", "--note", "our tier"], env
    )
    assert set_result.exit_code == 0, set_result.output
    assert "Override set: openai/gpt-4o context_window = 64000" in set_result.stdout
    # The API's release date is overruled too; what it said is kept beside the override.
    assert (
        run(["override", "set", "openai/gpt-4o", "release_date", "2024-05-13"], env).exit_code == 0
    )
    assert run(["sync-models", "--force", "--provider", "openai"], env).exit_code == 0
    assert current(database_url, "openai", "gpt-4o", "context_window, input_price_per_mtok") == (
        64000,
        2.5,
    )
    origins = sources_of(database_url, "openai", "gpt-4o")
    assert origins["context_window"] == origins["release_date"] == "override"
    assert origins["input_price_per_mtok"] == "models.dev"
    assert versions(database_url, "openai", "gpt-4o") == 2
    assert run(["sync-models", "--force", "--provider", "openai"], env).exit_code == 0
    assert current(database_url, "openai", "gpt-4o", "context_window") == (64000,)
    assert versions(database_url, "openai", "gpt-4o") == 2
    listed = run(["override", "list", "--json"], env)
    assert [(o["field"], o["value"], o["note"]) for o in json.loads(listed.stdout)] == [
        ("context_window", 64000, "our tier"),
        ("release_date", "2024-05-13", None),
    ]
    assert run(["override", "unset", "openai/gpt-4o", "context_window"], env).exit_code == 0
    assert run(["sync-models", "--force", "--provider", "openai"], env).exit_code == 0
    assert current(database_url, "openai", "gpt-4o", "context_window") == (128000,)
    assert sources_of(database_url, "openai", "gpt-4o")["context_window"] == "models.dev"
    assert versions(database_url, "openai", "gpt-4o") == 3


def test_an_override_waits_for_its_model(sqlite_url: str) -> None:
    env = {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_MOCK_MODELS": "alpha"}
    assert run(["override", "set", "mock/beta", "max_output_tokens", "4_096"], env).exit_code == 0
    assert run(["sync-models", "--provider", "mock"], env).exit_code == 0
    assert "mock/beta max_output_tokens = 4096" in run(["override", "list"], env).stdout
    env["AISYNC_MOCK_MODELS"] = "alpha,beta"
    assert run(["sync-models", "--force", "--provider", "mock"], env).exit_code == 0
    assert current(sqlite_url, "mock", "beta", "max_output_tokens") == (4096,)
    assert sources_of(sqlite_url, "mock", "beta")["max_output_tokens"] == "override"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mock/m", "colour", "red"], "Unknown field 'colour'; fields that can be overridden: "),
        (["mock/m", "context_window", "lots"], "Invalid value 'lots' for context_window: "),
        (
            ["--", "mock/m", "input_price_per_mtok", "-1"],
            "Invalid value '-1' for input_price_per_mtok",
        ),
        (["mock/m", "open_weights", "maybe"], "Invalid value 'maybe' for open_weights: "),
        (["mock/m", "capabilities", "vision,telepathy"], "Unknown capabilities: telepathy"),
        (["mock/m", "knowledge_cutoff", "soon"], "Invalid value 'soon' for knowledge_cutoff"),
        (["gpt-4o", "context_window", "1"], "Invalid model 'gpt-4o': use PROVIDER/MODEL"),
    ],
)
def test_bad_fields_and_values_exit_64_with_one_line(
    sqlite_url: str, args: list[str], message: str
) -> None:
    result = run(["override", "set", *args], {"AISYNC_DATABASE_URL": sqlite_url})
    assert result.exit_code == 64
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_unsetting_what_is_not_there_exits_64(sqlite_url: str) -> None:
    result = run(
        ["override", "unset", "mock/m", "context_window"], {"AISYNC_DATABASE_URL": sqlite_url}
    )
    assert result.exit_code == 64
    assert result.stderr == "No override of context_window for mock/m\n"
    assert (
        run(["override", "list"], {"AISYNC_DATABASE_URL": sqlite_url}).stdout == "No overrides.\n"
    )


def test_the_python_api_types_values(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    ensure_schema(engine)
    set_override(engine, "openai", "gpt-4o", "deprecation_date", date(2027, 1, 1), note="memo")
    set_override(engine, "openai", "gpt-4o", "capabilities", ("vision", "chat"))
    set_override(engine, "openai", "gpt-4o", "deprecation_date", "2027-02-01")
    found = {o.field: o.value for o in list_overrides(engine, "openai")}
    assert found == {"capabilities": ("chat", "vision"), "deprecation_date": date(2027, 2, 1)}
    with pytest.raises(OverrideError):
        set_override(engine, "openai", "gpt-4o", "context_window", 1.5)
    unset_override(engine, "openai", "gpt-4o", "capabilities")
    assert [o.field for o in list_overrides(engine)] == ["deprecation_date"]
    engine.dispose()
