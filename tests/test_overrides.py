"""Overrides from the CLI and the API: they beat the API and every source, survive re-syncs,
wait for models not listed yet, and bad fields or values exit 64."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from aisync.catalog.overrides import OverrideError, list_overrides, set_override, unset_override
from aisync.cli import cli
from aisync.db.connect import open_engine
from aisync.db.migrate import ensure_schema
from tests.fakeserver import FakeServer, Reply
from tests.test_bad_config import in_namespace
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


#: Values of the right type the catalog cannot store: each would have failed every later
#: sync of its provider (or the `override set` itself) with an unexpected error.
DEEP_PRICING = "[" * 40 + "1" + "]" * 40
UNSTORABLE = {
    "beyond-32-bit": (
        ["mock/m", "context_window", "2147483648"],
        "Invalid value '2147483648' for context_window: beyond 2147483647",
    ),
    "beyond-64-bit": (
        ["mock/m", "max_output_tokens", str(2**70)],
        f"Invalid value '{2**70}' for max_output_tokens: beyond 2147483647",
    ),
    "nul-in-successor": (
        ["mock/m", "successor", "next\x00model"],
        "Invalid value 'next\\x00model' for successor: a NUL byte or a lone surrogate",
    ),
    "overlong-successor": (
        ["mock/m", "successor", "s" * 256],
        f"Invalid value '{'s' * 256}' for successor: longer than 255 characters",
    ),
    "deep-pricing": (
        ["mock/m", "pricing", '{"tiers": ' + DEEP_PRICING + "}"],
        "Invalid value for pricing: nested deeper than 30 levels",
    ),
    "nan-pricing": (
        ["mock/m", "pricing", '{"tiers": [{"input": NaN}]}'],
        "Invalid value for pricing: a number that is not finite (NaN, Infinity)",
    ),
    "infinity-pricing": (
        ["mock/m", "pricing", '{"input": Infinity}'],
        "Invalid value for pricing: a number that is not finite (NaN, Infinity)",
    ),
    "surrogate-pricing": (
        ["mock/m", "pricing", '{"note": "\\udc80"}'],
        "Invalid value for pricing: a lone surrogate",
    ),
    "nul-in-model-id": (
        ["mock/a\x00b", "context_window", "1000"],
        "Invalid model 'mock/a\\x00b': a model id with control characters, a line break or "
        "a lone surrogate",
    ),
    "newline-in-model-id": (
        ["mock/a\nb", "context_window", "1000"],
        "Invalid model 'mock/a\\nb': a model id with control characters",
    ),
    "overlong-model-id": (
        [f"mock/{'m' * 256}", "context_window", "1000"],
        f"Invalid model 'mock/{'m' * 256}': a model id longer than 255 characters",
    ),
    "overlong-provider": (
        [f"{'p' * 101}/m", "context_window", "1000"],
        f"Invalid model '{'p' * 101}/m': a provider name longer than 100 characters",
    ),
    "nul-in-note": (
        ["mock/m", "context_window", "1000", "--note", "a\x00b"],
        "Invalid note 'a\\x00b': a NUL byte or a lone surrogate",
    ),
}


@pytest.mark.parametrize(("args", "message"), UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_values_the_catalog_cannot_store_exit_64_and_later_syncs_work(
    database_url: str, args: list[str], message: str
) -> None:
    env = {"AISYNC_DATABASE_URL": database_url, "AISYNC_MOCK_MODELS": "m"}
    result = run(["override", "set", *args], env)
    assert result.exit_code == 64, result.output
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
    assert run(["override", "list"], env).stdout == "No overrides.\n"
    synced = run(["sync-models", "--provider", "mock"], env)
    assert synced.exit_code == 0, synced.output


def test_the_largest_values_the_catalog_stores_are_accepted(database_url: str) -> None:
    env = {"AISYNC_DATABASE_URL": database_url, "AISYNC_MOCK_MODELS": "m"}
    pricing = '{"tiers": ' + "[" * 28 + '{"input": 1e308}' + "]" * 28 + "}"
    for args in (
        ["mock/m", "context_window", "2147483647"],
        ["mock/m", "successor", "s" * 255],
        ["mock/m", "pricing", pricing],
        [f"mock/{'m' * 255}", "open_weights", "true"],
    ):
        assert run(["override", "set", *args], env).exit_code == 0, args
    env["AISYNC_MOCK_MODELS"] = f"m,{'m' * 255}"
    synced = run(["sync-models", "--provider", "mock"], env)
    assert synced.exit_code == 0, synced.output
    assert current(database_url, "mock", "m", "context_window") == (2147483647,)


def test_a_read_only_catalog_is_one_line_not_a_traceback(sqlite_url: str) -> None:
    env = {"AISYNC_DATABASE_URL": sqlite_url}
    assert run(["override", "set", "mock/m", "context_window", "1000"], env).exit_code == 0
    path = sqlite_url.removeprefix("sqlite:///")
    env["AISYNC_DATABASE_URL"] = f"sqlite:///file:{path}?mode=ro&uri=true"
    for args in (
        ["set", "mock/m", "context_window", "2000"],
        ["unset", "mock/m", "context_window"],
    ):
        result = CliRunner().invoke(cli, ["override", *args], env=env)
        assert result.exit_code == 1, result.output
        assert result.stderr == "Database error: attempt to write a readonly database\n"
    listed = run(["override", "list"], env)
    assert "mock/m context_window = 1000" in listed.stdout


FULL_DISK_SCRIPT = """
set -u
mount -t tmpfs -o size=512k tmpfs "$DISK" || exit 90
"$PYTHON" -m aisync override set mock/m context_window 1000 || exit 91
head -c 1048576 /dev/zero > "$DISK/filler" 2>/dev/null
"$PYTHON" -m aisync override set mock/m successor "$LONG" --note "$LONG"
"""


def test_a_full_disk_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    result = in_namespace(
        "sh",
        "-c",
        FULL_DISK_SCRIPT,
        mount=True,
        DISK=str(disk),
        PYTHON=sys.executable,
        LONG="x" * 250,
        AISYNC_DATABASE_URL=f"sqlite:///{disk}/catalog.db",
    )
    if result.returncode == 90:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {result.stderr.strip()}")
    assert result.returncode == 1, result.stderr
    assert result.stderr == "Database error: database or disk is full\n", result.stderr
