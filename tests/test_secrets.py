"""No API key and no database password ever leaves the process.

Every built-in provider gets a unique fake key, is pointed at the fake server and run
through every command: healthy listings first, then hostile answers that echo the key back
in error messages, bodies and model entries. The key must then be absent from stdout,
stderr, every log record at DEBUG, every column of every table (a plain SQL dump) and the
committed cassettes. Add a new command to `COMMANDS` and it is checked the same way.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from aisync.records import ModelRecord
from aisync.sync.fetch import without_key
from aisync.sync.normalize import normalize
from tests import databases
from tests.cli import run
from tests.fakeserver import FakeServer, Reply
from tests.providers.helpers import CASSETTES, recorded_body
from tests.test_enrich import LITELLM, MODELS_DEV, cassette_body

#: The variable each built-in provider's key is given in: ecosystem and `AISYNC_` forms.
KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "xai": "XAI_API_KEY",
    "groq": "AISYNC_GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "mistral": "AISYNC_MISTRAL_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}
#: Ollama takes no key; it is pointed at the fake server all the same.
PROVIDERS = [*KEY_VARIABLES, "ollama"]

#: The catalog's read commands; each also runs with `--json`.
CATALOG_COMMANDS: list[list[str]] = [
    ["providers"],
    ["models"],
    ["models", "--include-removed"],
    ["models", "show", "openai-eu/gpt-4o"],
    ["models", "show", "openrouter/openrouter/aurora-alpha"],
    ["models", "show", "openai-eu/gpt-4o", "--sources"],
    ["models", "show", "openrouter/openrouter/aurora-alpha", "--sources"],
    ["runs"],
    ["runs", "show", "1"],
    ["changes"],
    ["stats"],
    ["stats", "--history"],
    ["override", "list"],
]

#: Every command, with the options that change what is printed or logged. New commands go
#: here; each runs once against healthy providers and once against hostile ones. The
#: override is set first, so the syncs apply it and the reports show it.
COMMANDS: list[list[str]] = [
    ["override", "set", "openai-eu/gpt-4o", "context_window", "64000", "--note", "ours"],
    ["sync-models", "--force"],
    ["sync-models", "--force", "-v"],
    ["sync-models", "--force", "-vv"],
    ["sync-models", "--force", "--json"],
    ["sync-models", "--force", "--json", "-vv"],
    ["sync-models", "--force", "--quiet"],
    ["sync-models", "--force", "--dry-run", "-vv"],
    ["sync-models", "--force", "--dry-run", "--json"],
    ["sync-models", "-vv"],
    ["sync-models", "--provider", "openai", "--provider", "openai-eu", "--force", "-vv"],
    ["db", "current"],
    ["db", "upgrade"],
    *CATALOG_COMMANDS,
    *([*command, "--json"] for command in CATALOG_COMMANDS),
    *(["export", "--format", format] for format in ("json", "jsonl", "csv")),
    ["override", "unset", "openai-eu/gpt-4o", "context_window"],
]
#: Run last: they empty the database, so the SQL dump is taken before them.
FINAL_COMMANDS: list[list[str]] = [["db", "downgrade", "base"], ["db", "upgrade"]]

#: Shapes of real keys, for the cassette scan: a real key must never be committed.
REAL_KEY_PATTERNS = (
    r"sk-(?:proj-|ant-|or-v1-)?[A-Za-z0-9_-]{20,}",
    r"AIza[0-9A-Za-z_-]{35}",
    r"gsk_[A-Za-z0-9]{20,}",
    r"xai-[A-Za-z0-9]{20,}",
)


def new_key(name: str) -> str:
    return f"sk-{name}-{uuid.uuid4().hex}"


def fingerprints(secret: str) -> list[str]:
    """The secret and a middle piece of it, so a truncated leak is caught too."""
    return [secret, secret[len(secret) // 3 : len(secret) // 3 + 12]]


def healthy_routes(server: FakeServer) -> None:
    """Each provider's real recorded listing (Ollama: an empty server)."""
    server.route("/openai/models", Reply(200, recorded_body("openai")))
    server.route("/openai-eu/models", Reply(200, recorded_body("openai")))
    server.route("/xai/models", Reply(200, recorded_body("xai")))
    server.route("/xai/language-models", Reply(200, recorded_body("xai", 1)))
    for name in ("groq", "deepseek", "gemini", "mistral", "openrouter"):
        server.route(f"/{name}/models", Reply(200, recorded_body(name)))
    server.route("/anthropic/v1/models", Reply(200, recorded_body("anthropic")))
    server.route("/ollama/api/tags", Reply(200, {"models": []}))
    server.route("/models-dev.json", Reply(200, cassette_body(MODELS_DEV)))
    server.route("/litellm.json", Reply(200, cassette_body(LITELLM)))


def hostile_routes(server: FakeServer, keys: dict[str, str]) -> None:
    """Answers that repeat the key they were sent: in error messages, in a body that is not
    JSON, in a header, and inside model entries of a listing that is otherwise fine."""

    def echo(status: int, name: str, **extra: Any) -> Reply:
        message = f"Incorrect API key provided: {keys[name]} ({name})"
        return Reply(status, {"error": {"message": message}, **extra}, {"X-Echo": keys[name]})

    server.route("/openai/models", echo(401, "openai"))
    server.route("/openai-eu/models", echo(500, "openai-eu"))
    xai_error = {"code": "invalid-argument", "error": f"Incorrect API key provided: {keys['xai']}"}
    server.route("/xai/models", Reply(400, xai_error))
    server.route("/groq/models", echo(503, "groq"))
    server.route("/deepseek/models", echo(402, "deepseek"))
    server.route("/gemini/models", echo(429, "gemini", details=[]))
    server.route("/anthropic/v1/models", echo(529, "anthropic"))
    server.route("/mistral/models", Reply(200, raw=f"<html>{keys['mistral']}</html>".encode()))
    listing = recorded_body("openrouter")
    listing["data"][0] = {**listing["data"][0], "description": f"key {keys['openrouter']}"}
    listing["data"][1] = {**listing["data"][1], "name": keys["openrouter"]}
    server.route("/openrouter/models", Reply(200, listing))
    server.route("/ollama/api/tags", Reply(404, {"error": "not found"}))
    # The sources are down: the runs fall back to their cached copies with a warning.
    server.route("/models-dev.json", Reply(500, {"error": "down"}))
    server.route("/litellm.json", Reply(500, raw=b"<html>down</html>"))


def environment(url: str, server: FakeServer, keys: dict[str, str], config: Path) -> dict[str, str]:
    env = {KEY_VARIABLES[name]: keys[name] for name in KEY_VARIABLES}
    env |= {f"AISYNC_{name.upper()}_BASE_URL": f"{server.url}/{name}" for name in PROVIDERS}
    env |= {
        "GOOGLE_API_KEY": keys["google"],
        "AISYNC_OPENROUTER_ENABLED": "true",
        "AISYNC_OLLAMA_ENABLED": "true",
        "AISYNC_DATABASE_URL": url,
        "AISYNC_CONFIG": str(config),
        "AISYNC_RETRIES": "1",
        "AISYNC_RETRY_WAIT_CAP": "0",
        "AISYNC_ENRICH": "models.dev,litellm",
        "AISYNC_MODELS_DEV_URL": f"{server.url}/models-dev.json",
        "AISYNC_LITELLM_URL": f"{server.url}/litellm.json",
        "AISYNC_ENRICH_CACHE_TTL": "0",
    }
    config.write_text(
        f'[providers.openai-eu]\ntype = "openai"\nbase_url = "{server.url}/openai-eu"\n'
        f'api_key = "{keys["openai-eu"]}"\n',
        encoding="utf-8",
    )
    return env


def sql_dump(url: str) -> str:
    """Every column of every row of every table and view, as text."""
    engine = create_engine(url)
    with engine.connect() as connection:
        inspector = inspect(connection)
        names = inspector.get_table_names() + inspector.get_view_names()
        rows = [
            repr(tuple(row))
            for name in names
            for row in connection.execute(text(f"SELECT * FROM {name}"))
        ]
    engine.dispose()
    assert len(rows) > 100, "the dump must hold the synced catalog"
    return "\n".join(rows)


def with_password(url: str, password: str) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


@pytest.fixture
def secrets() -> dict[str, str]:
    names = [*KEY_VARIABLES, "openai-eu", "google"]
    return {name: new_key(name) for name in names}


def test_keys_never_leak(
    fake_server: FakeServer,
    database_url: str,
    secrets: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    password = f"pw-{uuid.uuid4().hex}"
    if database_url.startswith("postgresql"):
        database_url = with_password(database_url, password)  # the test server trusts it
    env = environment(database_url, fake_server, secrets, tmp_path / "aisync.toml")
    seen: list[str] = []

    healthy_routes(fake_server)
    first = run(["sync-models", "-vv"], env)
    assert first.exit_code == 0, first.output
    assert first.stdout.count("✓ Found") == len(PROVIDERS) + 1  # with openai-eu
    for args in COMMANDS:
        result = run(args, env)
        assert result.exit_code in (0, 3), (args, result.output)
        seen += [result.stdout, result.stderr]
    sources = run(["models", "show", "openai-eu/gpt-4o", "--sources"], env).stdout
    assert re.search(r"^context_window +64000 +override +models\.dev: 128000$", sources, re.M)

    hostile_routes(fake_server, secrets)
    hostile = run(["sync-models", "--force"], env)
    assert hostile.exit_code == 2, hostile.output
    assert "- openai: Invalid API key\n" in hostile.stderr
    assert "- xai: Invalid API key\n" in hostile.stderr
    assert "- openai-eu: Provider error 500: Incorrect API key provided: *** (openai-eu)\n" in (
        hostile.stderr
    )
    assert "openrouter:\n  ✓ Found" in hostile.stdout
    assert "⚠ Enrichment source models.dev is unavailable (Provider error 500" in hostile.stderr
    for args in COMMANDS:
        result = run(args, env)
        assert result.exit_code in (0, 1, 2, 3), (args, result.output)
        seen += [result.stdout, result.stderr]

    seen.append(sql_dump(database_url))
    for args in FINAL_COMMANDS:
        result = run(args, env)
        assert result.exit_code == 0, result.output
        seen += [result.stdout, result.stderr]
    seen.append(caplog.text)
    seen += [record.getMessage() for record in caplog.records]

    assert any("HTTP Request: GET" in record.getMessage() for record in caplog.records)
    everything = "\n".join(seen)
    for name, secret in [*secrets.items(), ("database password", password)]:
        for piece in fingerprints(secret):
            assert piece not in everything, f"the {name} secret leaked"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://aisync:{password}@127.0.0.1:1/catalog",
        "mysql+pymysql://aisync:{password}@127.0.0.1:1/catalog",
        "postgresql+psycopg://aisync:{password}@db.invalid/catalog",
        "postgresql+nodriver://aisync:{password}@db/catalog",
        "mysql+mysqldb://aisync:{password}@db/catalog",
    ],
)
def test_database_password_is_masked_in_every_message(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = f"pw-{uuid.uuid4().hex}"
    env = {"AISYNC_DATABASE_URL": url.format(password=password)}
    for args in [*COMMANDS, *FINAL_COMMANDS, ["sync-models", "--provider", "mock", "-vv"]]:
        result = run(args, env)
        assert result.exit_code == 1, (args, result.output)
        for piece in fingerprints(password):
            assert piece not in result.output + caplog.text


@pytest.mark.skipif("postgresql" not in databases.SERVER_URLS, reason="needs PostgreSQL")
def test_database_url_is_shown_masked() -> None:
    password = f"pw-{uuid.uuid4().hex}"
    url = with_password(databases.SERVER_URLS["postgresql"], password)
    masked = make_url(url).render_as_string(hide_password=True)
    assert ":***@" in masked
    for command in (["db", "upgrade"], ["db", "current"]):
        result = run(command, {"AISYNC_DATABASE_URL": url})
        assert result.exit_code == 0, result.output
        assert masked in result.stdout
        assert password not in result.output


def test_committed_cassettes_hold_no_key() -> None:
    """No credential header, no key parameter, and nothing shaped like a real key."""
    test_keys = re.compile("|".join(REAL_KEY_PATTERNS))
    cassettes = sorted(CASSETTES.rglob("*.yaml"))
    assert len(cassettes) >= 40
    for path in cassettes:
        content = path.read_text(encoding="utf-8")
        assert not test_keys.search(content), path
        for interaction in yaml.safe_load(content)["interactions"]:
            request = interaction["request"]
            headers = {name.lower() for name in request["headers"]}
            assert not headers & {"authorization", "x-api-key", "x-goog-api-key", "cookie"}
            assert not re.search(r"[?&](key|api_key)=", request["uri"]), path


@pytest.mark.parametrize(
    "key", ["sk-plain-0123456789", 'sk-"quoted"-0123', "sk-ünïcode-0123", "sk-back\\slash-0123"]
)
def test_a_key_echoed_in_a_listing_is_blanked_out_however_json_writes_it(key: str) -> None:
    """Raw payloads are searched as JSON text, where a quote, a backslash or a non-ASCII
    letter of the key would stand escaped: such keys are searched in the parsed payload."""
    echoed = ModelRecord(
        "echoing-model",
        display_name=f"for {key}",
        raw={"note": f"key={key}", "nested": [{"k": key}], key: 1},
    )
    records, _ = normalize([echoed, ModelRecord("innocent", raw={"note": "nothing"})])
    clean, innocent = without_key(records, key)
    assert clean.model_id == "echoing-model" and key not in (clean.display_name or "")
    assert key not in json.dumps(clean.raw.value(), ensure_ascii=False)
    assert clean.raw["note"] == "key=***" and clean.raw["***"] == 1
    assert innocent is records[1]


def test_a_model_whose_id_holds_the_key_is_left_out_never_rewritten() -> None:
    """Storing the id would store the key, and a rewritten id names no real model."""
    key = "sk-echo-0123456789"
    records, _ = normalize([ModelRecord(f"model-{key}"), ModelRecord("kept")])
    assert [r.model_id for r in without_key(records, key)] == ["kept"]


@pytest.mark.parametrize("key", ["gpt-4o", "mini", "1234567"])
def test_a_key_too_short_to_be_a_secret_blanks_out_nothing(key: str) -> None:
    records, _ = normalize(
        [ModelRecord("gpt-4o-mini-1234567", display_name="GPT-4o mini", raw={"id": "x"})]
    )
    assert without_key(records, key) == records


def test_a_short_key_leaves_model_ids_and_messages_whole(
    fake_server: FakeServer, sqlite_url: str
) -> None:
    """A local server's key of a few characters (`gpt-4o` here) is no secret worth
    mangling every model id and error message that contains it."""
    listing = {"data": [{"id": "gpt-4o"}, {"id": "gpt-4o-mini"}]}
    fake_server.route("/openai/models", Reply(200, listing))
    fake_server.route(
        "/openai-b/models", Reply(500, {"error": {"message": "gpt-4o is overloaded"}})
    )
    config = Path(sqlite_url.removeprefix("sqlite:///")).with_name("aisync.toml")
    config.write_text(
        f'[providers.openai-b]\ntype = "openai"\nbase_url = "{fake_server.url}/openai-b"\n'
        'api_key = "gpt-4o"\n',
        encoding="utf-8",
    )
    env = {
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_CONFIG": str(config),
        "AISYNC_RETRIES": "0",
        "AISYNC_OPENAI_API_KEY": "gpt-4o",
        "AISYNC_OPENAI_BASE_URL": f"{fake_server.url}/openai",
    }
    result = run(["sync-models", "--provider", "openai", "--provider", "openai-b"], env)
    assert result.exit_code == 2, result.output
    assert "- openai-b: Provider error 500: gpt-4o is overloaded\n" in result.stderr
    listed = run(["models", "--provider", "openai"], env).stdout
    assert "gpt-4o-mini" in listed and "***" not in listed
