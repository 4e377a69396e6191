"""Reporting at scale: the catalog's views must answer in milliseconds over a long history.

A synthetic history, written straight into a migrated catalog with `INSERT ... SELECT`:
10 providers x 1,000 models, 100 versions each (1,000,000 `model_versions` rows and as
many `model_events`), spread over 1,000 daily runs (each model changes every 10 days, so
the last 7 days hold 7,000 changes). Goals, on SQLite and PostgreSQL
(`AISYNC_TEST_POSTGRES_URL`, skipped with a note when unset): the README's `current_models`
query for one provider and `model_changes` for the last 7 days, each under 50 ms, measured
without and with the candidate indexes (created here, ad hoc, and dropped again); and
`aisync models --provider X` under 500 ms, whole process (a stand-in process running the
same query when this aisync has no `models` command). Floor: reading as many rows from a
plain table by primary key.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import harness
from sqlalchemy import Connection, Engine, text

from aisync.db.connect import open_engine
from aisync.db.migrate import upgrade

PROVIDERS = 10
MODELS_PER_PROVIDER = 1_000
VERSIONS = 100
RUNS_OF_HISTORY = 1_000
CHANGE_EVERY_DAYS = 10
LIMIT = 0.050
COMMAND_LIMIT = 0.500
PROVIDER = "prov3"
#: SQL literals of the synthetic rows' JSON columns.
CAPABILITIES_JSON = """'["chat"]'"""
RAW_JSON = """'{"type": "model"}'"""

#: Indexes the reporting queries could want beyond the initial schema's, measured ad hoc.
CANDIDATE_INDEXES = {
    "ix_model_versions_model_version_desc": "model_versions (model, version DESC)",
    "ix_models_provider_removed_at": "models (provider, removed_at)",
}

STAND_IN = """
import sys
from aisync.cli.render import Output
from aisync.db.connect import open_engine
from aisync.db.migrate import ensure_schema
from sqlalchemy import text
engine = open_engine(sys.argv[1])
ensure_schema(engine)
with engine.connect() as connection:
    rows = connection.execute(text(sys.argv[2]), {"provider": sys.argv[3]}).all()
output = Output()
for row in rows:
    output.line("  ".join("" if value is None else str(value) for value in row))
"""


def current_models_sql() -> str:
    return (
        "SELECT model_id, display_name, context_window, input_price_per_mtok, "
        "output_price_per_mtok FROM current_models WHERE provider = :provider ORDER BY model_id"
    )


def model_changes_sql(connection: Connection) -> str:
    change = connection.dialect.identifier_preparer.quote("change")
    return (
        f"SELECT changed_at, provider, model_id, {change}, version FROM model_changes "
        "WHERE changed_at >= :since ORDER BY changed_at DESC, provider, model_id"
    )


def fill(engine: Engine, now: datetime) -> None:
    """Write the synthetic history with a handful of set-based statements."""
    json_value = "CAST({} AS JSON)" if engine.dialect.name == "postgresql" else "{}"
    capabilities, raw = json_value.format(CAPABILITIES_JSON), json_value.format(RAW_JSON)
    change = engine.dialect.identifier_preparer.quote("change")
    models = PROVIDERS * MODELS_PER_PROVIDER
    started = now - timedelta(days=RUNS_OF_HISTORY)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_numbers (n INTEGER PRIMARY KEY)"))
        connection.execute(
            text("INSERT INTO bench_numbers (n) VALUES (:n)"), [{"n": n} for n in range(models)]
        )
        connection.execute(
            text(
                "INSERT INTO sync_runs (id, started_at, finished_at, status, forced, "
                "exit_code, aisync_version) VALUES (:id, :at, :at, 'succeeded', :forced, 0, "
                "'bench')"
            ),
            [
                {"id": day + 1, "at": _naive(started + timedelta(days=day + 1)), "forced": False}
                for day in range(RUNS_OF_HISTORY)
            ],
        )
        connection.execute(
            text(
                "INSERT INTO models (id, provider, model_id, first_seen_at, last_seen_at) "
                f"SELECT n + 1, 'prov' || CAST(n / {MODELS_PER_PROVIDER} AS VARCHAR(10)), "
                "'model-' || CAST(n AS VARCHAR(10)), :first, :last FROM bench_numbers"
            ),
            {"first": _naive(started), "last": _naive(now)},
        )
        # Version v (0-based) of model m was written by run 10 * v + m % 10 + 1.
        history = (
            "FROM models m CROSS JOIN bench_numbers v "
            f"JOIN sync_runs r ON r.id = {CHANGE_EVERY_DAYS} * v.n "
            f"+ m.id % {CHANGE_EVERY_DAYS} + 1 "
            f"WHERE v.n < {VERSIONS}"
        )
        connection.execute(
            text(
                "INSERT INTO model_versions (model, version, run_id, content_hash, display_name, "
                "context_window, max_output_tokens, input_price_per_mtok, output_price_per_mtok, "
                "capabilities, raw, created_at) "
                "SELECT m.id, v.n + 1, r.id, 'hash-' || CAST(v.n AS VARCHAR(10)), m.model_id, "
                f"128000 + v.n, 8192, 1.0 + v.n, 2.0 + v.n, {capabilities}, {raw}, "
                f"r.started_at {history}"
            )
        )
        connection.execute(
            text(
                f"INSERT INTO model_events (run_id, model, {change}, version, changed_at) "
                "SELECT r.id, m.id, CASE WHEN v.n = 0 THEN 'added' ELSE 'changed' END, v.n + 1, "
                f"r.started_at {history}"
            )
        )
        connection.execute(text("DROP TABLE bench_numbers"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def _naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def timed_query(engine: Engine, sql: str, params: dict[str, object]) -> tuple[float, int]:
    with engine.connect() as connection:
        started = time.perf_counter()
        rows = connection.execute(text(sql), params).all()
        return time.perf_counter() - started, len(rows)


def median_query(engine: Engine, sql: str, params: dict[str, object]) -> tuple[float, int]:
    timed_query(engine, sql, params)
    count = 0

    def once() -> float:
        nonlocal count
        seconds, count = timed_query(engine, sql, params)
        return seconds

    return harness.median_of(once), count


def floor_for(engine: Engine, rows: int) -> float:
    """Reading `rows` rows of model_events by primary key: the cost of the rows alone."""
    sql = "SELECT id, run_id, model, version, changed_at FROM model_events WHERE id <= :last"
    return median_query(engine, sql, {"last": rows})[0]


def query_goals(engine: Engine, label: str, now: datetime) -> list[harness.Goal]:
    with engine.connect() as connection:
        changes_sql = model_changes_sql(connection)
    current, current_rows = median_query(engine, current_models_sql(), {"provider": PROVIDER})
    since = _naive(now - timedelta(days=7))
    changes, change_rows = median_query(engine, changes_sql, {"since": since})
    return [
        harness.Goal(
            f"{label}: current_models, {current_rows} rows",
            current,
            floor=floor_for(engine, current_rows),
            at_most=LIMIT,
        ),
        harness.Goal(
            f"{label}: model_changes 7 days, {change_rows} rows",
            changes,
            floor=floor_for(engine, change_rows),
            at_most=LIMIT,
        ),
    ]


@contextmanager
def candidate_indexes(engine: Engine) -> Iterator[None]:
    """The candidate indexes exist inside the block only: the schema is left as migrated."""
    with engine.begin() as connection:
        for name, target in CANDIDATE_INDEXES.items():
            connection.execute(text(f"CREATE INDEX {name} ON {target}"))
        connection.execute(text("ANALYZE"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for name in CANDIDATE_INDEXES:
                connection.execute(text(f"DROP INDEX {name}"))


def has_models_command(env: dict[str, str]) -> bool:
    listing = harness.run_process(harness.aisync_command("--help"), env).stdout
    return any(line.split()[:1] == ["models"] for line in listing.splitlines())


def command_goal(url: str, label: str, env: dict[str, str]) -> harness.Goal:
    if has_models_command(env):
        name = f"{label}: aisync models --provider {PROVIDER}"
        command = harness.aisync_command("models", "--provider", PROVIDER, "--database-url", url)
    else:
        name = f"{label}: stand-in for aisync models (*)"
        command = [sys.executable, "-c", STAND_IN, url, current_models_sql(), PROVIDER]
    floor = harness.median_of(
        lambda: harness.checked(harness.run_process([sys.executable, "-c", "pass"], env)).seconds
    )
    seconds = harness.median_of(lambda: harness.checked(harness.run_process(command, env)).seconds)
    return harness.Goal(name, seconds, floor=floor, at_most=COMMAND_LIMIT)


def databases(home: Path) -> dict[str, str]:
    found = {"SQLite": f"sqlite:///{home / 'history.db'}"}
    postgres = os.environ.get("AISYNC_TEST_POSTGRES_URL")
    if postgres:
        from tests.databases import empty_server_database

        found["PostgreSQL"] = empty_server_database(postgres)
    else:
        print("  (PostgreSQL skipped: AISYNC_TEST_POSTGRES_URL is not set)")
    return found


def main() -> int:
    harness.header(
        "reporting",
        f"{PROVIDERS * MODELS_PER_PROVIDER:,} models x {VERSIONS} versions "
        f"({PROVIDERS * MODELS_PER_PROVIDER * VERSIONS:,} model_versions rows)",
    )
    now = datetime.now(UTC)
    goals: list[harness.Goal] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = harness.clean_environ(home)
        for label, url in databases(home).items():
            engine = open_engine(url)
            upgrade(engine)
            started = time.perf_counter()
            fill(engine, now)
            print(f"  ({label}: history written in {time.perf_counter() - started:.0f} s)")
            goals.extend(query_goals(engine, f"{label}, schema 0001", now))
            with candidate_indexes(engine):
                goals.extend(query_goals(engine, f"{label}, +indexes", now))
            goals.append(command_goal(url, label, env))
            engine.dispose()
    code = harness.report(goals)
    if not has_models_command(env):
        print("  (*) this aisync has no `models` command: a process running the same query")
    print(f"  candidate indexes: {', '.join(f'{n} ON {t}' for n, t in CANDIDATE_INDEXES.items())}")
    return code


if __name__ == "__main__":
    sys.exit(main())
