"""The JSON Schemas shipped in `aisync/schemas`: `aisync schema NAME` prints them, and real
output validates against them.

Real output means catalogs made by real syncs: the recorded OpenAI, Anthropic, Mistral and
OpenRouter listings enriched by both recorded sources (every field filled somewhere), and
`tests.catalog_data`'s runs of the mock provider (every kind of change).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from aisync import schemas
from aisync.catalog.export import EXPORT_FIELDS
from aisync.catalog.records import VERSION_FIELDS
from tests.catalog_data import fill
from tests.cli import run
from tests.test_deprecations import CASSETTES, TESTS, synced

OPENROUTER = str(TESTS / "providers" / "cassettes" / "test_openrouter" / "test_full_listing.yaml")
SHIPPED = ("changes", "deprecations", "export")


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        schemas.schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def stdout(env: dict[str, str], *args: str) -> Any:
    result = run(list(args), env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", SHIPPED)
def test_schema_prints_each_shipped_schema_and_it_is_a_valid_2020_12_schema(name: str) -> None:
    result = run(["schema", name], {})
    assert result.exit_code == 0
    shipped = Path(schemas.__file__).parent / f"{name}.schema.json"
    assert result.stdout == shipped.read_text(encoding="utf-8")
    printed = json.loads(result.stdout)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(printed)


def test_an_unknown_schema_is_one_line_naming_the_known_ones() -> None:
    assert set(SHIPPED) <= set(schemas.names())
    result = run(["schema", "webhooks"], {})
    assert result.exit_code == 64
    assert (
        result.stderr == f"Error: Unknown schema 'webhooks'; known: {', '.join(schemas.names())}\n"
    )


def test_the_schemas_name_every_field_the_output_has() -> None:
    model = schemas.schema("export")["$defs"]["model"]
    assert model["required"] == list(model["properties"]) == list(EXPORT_FIELDS)
    change = schemas.schema("changes")["$defs"]["fieldChange"]
    assert change["properties"]["field"]["enum"] == list(VERSION_FIELDS)


@pytest.mark.vcr(*CASSETTES, OPENROUTER)
def test_export_changes_and_deprecations_of_enriched_syncs_validate(
    vcr: Any, database_url: str
) -> None:
    env = synced(database_url)
    env["OPENROUTER_API_KEY"] = "test-key"
    result = run(["sync-models", "--provider", "openrouter"], env)
    assert result.exit_code == 0, result.output
    exported = stdout(env, "export", "--format", "json")
    assert {row["provider"] for row in exported} == {"openai", "anthropic", "mistral", "openrouter"}
    # Every field has a value somewhere, so each field's type is really checked.
    assert all(any(row[name] is not None for row in exported) for name in VERSION_FIELDS)
    validator("export").validate(exported)
    jsonl = run(["export", "--format", "jsonl"], env).stdout.splitlines()
    validator("export").validate([json.loads(line) for line in jsonl])
    validator("changes").validate(stdout(env, "changes", "--json"))
    validator("deprecations").validate(stdout(env, "deprecations", "--json"))
    picked = stdout(env, "deprecations", "--json", "--models", "gpt-4o,nope", "--within", "1y")
    validator("deprecations").validate(picked)
    assert picked["not_in_catalog"] == ["nope"]


def test_changes_of_every_kind_validate(database_url: str, tmp_path: Path) -> None:
    env = fill(database_url, tmp_path)
    changes = stdout(env, "changes", "--json")
    assert {c["change"] for c in changes} == {"added", "changed", "removed"}
    assert any(c["fields"] for c in changes)
    validator("changes").validate(changes)
    validator("export").validate(stdout(env, "export"))


def test_the_schemas_reject_what_the_output_must_not_be(tmp_path: Path) -> None:
    env = fill(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path)
    (row, *_) = stdout(env, "export")
    (change, *_) = stdout(env, "changes", "--json")
    broken_rows = [
        {**row, "surprise": 1},
        {**row, "capabilities": ["telepathy"]},
        {**row, "context_window": "8k"},
        {**row, "first_seen_at": "yesterday"},
        {k: v for k, v in row.items() if k != "version"},
    ]
    for broken in broken_rows:
        with pytest.raises(ValidationError):
            validator("export").validate([broken])
    for broken_change in ({**change, "change": "renamed"}, {**change, "fields": [{"field": "x"}]}):
        with pytest.raises(ValidationError):
            validator("changes").validate([broken_change])
