"""A database that refuses one provider's listing fails that provider alone: one
`Database error` line, its transaction rolled back, the other providers written and the run
recorded (exit 2), on every backend.

The refusal is the database's own (a trigger on `models`), so the test holds whatever
aisync validates before it writes."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from sqlalchemy import create_engine

from tests.cli import query, run
from tests.plugin_dist import write_plugin_dist

POISON = """
from aisync import hookimpl
from aisync.records import ModelRecord, ProviderInfo


@hookimpl
def discover_providers(settings):
    return [ProviderInfo(name="poison", display_name="Poison", requires_api_key=False)]


@hookimpl
def fetch_models(provider, client, settings):
    if provider.type != "poison":
        return None
    return [ModelRecord("fine-1"), ModelRecord("poisoned"), ModelRecord("fine-2")]
"""

REFUSAL = "poisoned model refused"
TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER poison BEFORE INSERT ON models WHEN NEW.model_id = 'poisoned' "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
        f"IF NEW.model_id = 'poisoned' THEN RAISE EXCEPTION '{REFUSAL}'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER poison BEFORE INSERT ON models FOR EACH ROW EXECUTE FUNCTION poison()",
    ],
    "mysql": [
        "CREATE TRIGGER poison BEFORE INSERT ON models FOR EACH ROW BEGIN "
        "IF NEW.model_id = 'poisoned' THEN "
        f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL}'; END IF; END"
    ],
}


def execute(url: str, statements: list[str]) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    engine.dispose()


def sync_with(plugin_site: Path, url: str, source: str, module: str) -> dict[str, str]:
    write_plugin_dist(plugin_site, dist=f"aisync-{module}", module=module, source=source)
    env = {"AISYNC_DATABASE_URL": url}
    assert run(["sync-models", "--provider", "mock"], env).exit_code == 0
    return env


def assert_only_poison_failed(result: Result, url: str) -> str:
    """Exit 2, mock written, poison failed with one line and none of its models stored."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "mock:\n  ✓ Found 3 models\n" in result.stdout
    [line] = [row for row in result.stderr.splitlines() if row.startswith("- poison: ")]
    assert "INSERT" not in line and "[SQL" not in line and "parameters" not in line
    assert query(url, "SELECT model_id FROM models WHERE provider = 'poison'") == []
    syncs = "SELECT provider, status, error FROM provider_syncs WHERE run_id = 2 ORDER BY provider"
    [(mock_name, mock_status, _), (name, status, error)] = query(url, syncs)
    assert (mock_name, mock_status, name, status) == ("mock", "synced", "poison", "failed")
    assert query(url, "SELECT status, exit_code FROM sync_runs WHERE id = 2") == [("partial", 2)]
    assert line == f"- poison: {error}"
    return str(error)


def test_a_listing_the_database_refuses_fails_only_its_provider(
    plugin_site: Path, database_url: str
) -> None:
    env = sync_with(plugin_site, database_url, POISON, "aisync_poison")
    backend = create_engine(database_url).dialect.name
    execute(database_url, TRIGGERS[backend])

    result = run(["sync-models", "--provider", "poison", "--provider", "mock", "--force"], env)

    error = assert_only_poison_failed(result, database_url)
    assert error.startswith("Database error: ") and REFUSAL in error
