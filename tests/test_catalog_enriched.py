"""The catalog commands on an enriched catalog: the new fields, their origins, `--sources`.

The recorded OpenAI listing and both sources' recorded subsets are served by the fake
server, so a test can sync again (after an override) on every backend; each command's
output is checked against what `current_models` holds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

from click.testing import CliRunner, Result

from aisync.catalog.catalog import Catalog
from aisync.cli import cli
from tests.fakeserver import FakeServer, Reply
from tests.test_enrich import LITELLM, MODELS_DEV, OPENAI, cassette_body, current, sources_of

NEW_FIELDS = (
    "max_input_tokens",
    "cache_read_price_per_mtok",
    "cache_write_price_per_mtok",
    "successor",
    "knowledge_cutoff",
    "open_weights",
    "pricing",
    "field_sources",
)


def run(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def synced(url: str, server: FakeServer) -> dict[str, str]:
    """A catalog of the recorded OpenAI listing, enriched by both recorded sources."""
    server.route("/v1/models", Reply(200, cassette_body(OPENAI)))
    server.route("/api.json", Reply(200, cassette_body(MODELS_DEV)))
    server.route("/litellm.json", Reply(200, cassette_body(LITELLM)))
    env = {
        "AISYNC_DATABASE_URL": url,
        "OPENAI_API_KEY": "test-key",
        "AISYNC_OPENAI_BASE_URL": f"{server.url}/v1",
        "AISYNC_ENRICH": "models.dev,litellm",
        "AISYNC_MODELS_DEV_URL": f"{server.url}/api.json",
        "AISYNC_LITELLM_URL": f"{server.url}/litellm.json",
    }
    run(env, "sync-models", "--provider", "openai")
    return env


def test_sources_name_each_fields_origin_and_who_disagreed(
    database_url: str, fake_server: FakeServer
) -> None:
    env = synced(database_url, fake_server)
    fields = json.loads(run(env, "models", "show", "openai/gpt-4o", "--sources", "--json").stdout)
    by_name = {f["field"]: f for f in fields}
    stored = sources_of(database_url, "openai", "gpt-4o")
    assert {f["field"]: f["source"] for f in fields if f["source"]} == stored
    assert by_name["context_window"] == {
        "field": "context_window",
        "value": 128000,
        "source": "models.dev",
        "others": {},
    }
    assert by_name["max_input_tokens"]["source"] == "litellm"
    # The API's release date stands; models.dev's differing date is kept beside it.
    assert by_name["release_date"] == {
        "field": "release_date",
        "value": "2024-05-10",
        "source": "api",
        "others": {"models.dev": "2024-05-13"},
    }
    assert by_name["cache_write_price_per_mtok"] == {
        "field": "cache_write_price_per_mtok",
        "value": None,
        "source": None,
        "others": {},
    }
    # Unknown is SQL NULL, not the JSON text `null`, so reports can ask `IS NULL`.
    unknown = "CASE WHEN pricing IS NULL AND cache_write_price_per_mtok IS NULL THEN 1 END"
    assert current(database_url, "openai", "gpt-4o", unknown) == (1,)
    lines = run(env, "models", "show", "openai/gpt-4o", "--sources").stdout.splitlines()
    assert re.match(r"cache_write_price_per_mtok +- +no source knows it +-$", lines[7])
    assert re.match(r"release_date +2024-05-10 +api +models.dev: 2024-05-13$", lines[9])
    assert lines[0].split() == ["FIELD", "VALUE", "SOURCE", "OTHERS", "OFFERED"]


def test_sources_from_python_are_typed_and_an_unknown_model_is_not_found(
    sqlite_url: str, fake_server: FakeServer
) -> None:
    synced(sqlite_url, fake_server)
    with Catalog(sqlite_url) as catalog:
        fields = {f.field: f for f in catalog.model_sources("openai", "gpt-4o")}
    assert fields["release_date"].value == date(2024, 5, 10)
    assert fields["release_date"].others == {"models.dev": date(2024, 5, 13)}
    assert fields["capabilities"].value == (
        "chat",
        "vision",
        "function_calling",
        "structured_output",
    )
    missing = CliRunner().invoke(
        cli, ["models", "show", "openai/nope", "--sources"], env={"AISYNC_DATABASE_URL": sqlite_url}
    )
    assert missing.exit_code == 1
    assert missing.stderr == "No model 'nope' from provider 'openai' in the catalog\n"


def test_models_json_show_and_export_carry_the_new_fields(
    sqlite_url: str, fake_server: FakeServer
) -> None:
    env = synced(sqlite_url, fake_server)
    columns = ", ".join(NEW_FIELDS)
    stored = dict(zip(NEW_FIELDS, current(sqlite_url, "openai", "gpt-4o", columns), strict=True))
    stored["field_sources"] = json.loads(stored["field_sources"])
    stored["open_weights"] = bool(stored["open_weights"])
    assert stored["max_input_tokens"] == 128000 and stored["knowledge_cutoff"] == "2023-09"

    models = json.loads(run(env, "models", "--json", "--provider", "openai").stdout)
    [gpt_4o] = [m for m in models if m["model_id"] == "gpt-4o"]
    assert {name: gpt_4o[name] for name in NEW_FIELDS} == stored

    history = json.loads(run(env, "models", "show", "openai/gpt-4o", "--json").stdout)
    assert {name: history["model"][name] for name in NEW_FIELDS} == stored
    assert history["versions"][0]["field_sources"] == stored["field_sources"]
    shown = run(env, "models", "show", "openai/gpt-4o").stdout
    assert re.search(r"^Max input tokens: +128000  \(litellm\)$", shown, re.MULTILINE)
    assert re.search(r"^Release date: +2024-05-10$", shown, re.MULTILINE)  # the API: no note

    [exported] = [m for m in json.loads(run(env, "export").stdout) if m["model_id"] == "gpt-4o"]
    assert {name: exported[name] for name in NEW_FIELDS} == stored
    rows = list(csv.DictReader(io.StringIO(run(env, "export", "--format", "csv").stdout)))
    [row] = [r for r in rows if r["model_id"] == "gpt-4o"]
    assert json.loads(row["field_sources"]) == stored["field_sources"]
    assert (row["open_weights"], row["max_input_tokens"], row["pricing"]) == ("false", "128000", "")


def test_changes_and_versions_name_the_origins_that_changed(
    database_url: str, fake_server: FakeServer
) -> None:
    env = synced(database_url, fake_server)
    run(env, "override", "set", "openai/gpt-4o", "context_window", "64000")
    run(env, "sync-models", "--provider", "openai", "--force")
    [change] = [
        c for c in json.loads(run(env, "changes", "--json").stdout) if c["change"] == "changed"
    ]
    assert change["fields"] == [
        {
            "field": "context_window",
            "old": 128000,
            "new": 64000,
            "old_source": "models.dev",
            "new_source": "override",
        }
    ]
    details = "context_window: 128000 -> 64000 (models.dev -> override)"
    assert details in run(env, "changes").stdout
    shown = run(env, "models", "show", "openai/gpt-4o").stdout
    assert details in shown
    assert re.search(r"^Context window: +64000  \(override\)$", shown, re.MULTILINE)
    sources = json.loads(run(env, "models", "show", "openai/gpt-4o", "--sources", "--json").stdout)
    assert sources[0] == {
        "field": "context_window",
        "value": 64000,
        "source": "override",
        "others": {"models.dev": 128000},
    }
