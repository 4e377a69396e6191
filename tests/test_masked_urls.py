"""A base URL may carry `user:password@`: it is shown masked everywhere, and the request
sends it deliberately.

The userinfo never reaches a repr, `aisync providers` (table or `--json`), the `-vv` log or
a request URL. For the request it means: with an API key the key is sent as usual and the
userinfo is dropped; without one it is sent as Basic auth (a proxy in front of a keyless
server).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from pathlib import Path

import pytest

from aisync.settings import load_settings
from aisync.sync.discovery import discover
from aisync.sync.plugins import get_plugin_manager
from tests.cli import run
from tests.fakeserver import FakeServer, Reply
from tests.providers.helpers import recorded_body


@pytest.fixture
def password() -> str:
    return f"pw-{uuid.uuid4().hex}"


def with_userinfo(url: str, password: str) -> str:
    return url.replace("http://", f"http://proxyuser:{password}@")


def config_with_secrets(tmp_path: Path, server: FakeServer, password: str, key: str) -> Path:
    config = tmp_path / "aisync.toml"
    config.write_text(
        f'[providers.openai-eu]\ntype = "openai"\napi_key = "{key}"\n'
        f'base_url = "{with_userinfo(server.url, password)}/openai-eu"\n'
        f'options = {{ token = "{key}" }}\n'
        f'[enrich.models-dev]\nurl = "{with_userinfo(server.url, password)}/m.json"\n',
        encoding="utf-8",
    )
    return config


def test_no_repr_shows_a_key_or_a_url_password(
    tmp_path: Path, fake_server: FakeServer, password: str
) -> None:
    key = f"sk-{uuid.uuid4().hex}"
    config = config_with_secrets(tmp_path, fake_server, password, key)
    environ = {
        "AISYNC_DATABASE_URL": f"postgresql+psycopg://aisync:{password}@db/catalog",
        "OPENAI_API_KEY": key,
        "AISYNC_OPENAI_BASE_URL": with_userinfo(fake_server.url, password),
        "AISYNC_OPENROUTER_BASE_URL": with_userinfo(fake_server.url, password),
    }
    settings = load_settings(environ=environ, config_path=config)
    discovery = discover(get_plugin_manager(), settings)
    objects = [
        settings,
        settings.provider_config("openai-eu"),
        settings.provider_config("openai"),
        discovery,
        discovery.get("openai-eu"),
        discovery.get("openai"),
        discovery.get("openrouter"),
    ]
    for item in objects:
        shown = repr(item)
        assert key not in shown and password not in shown, shown
    assert "base_url='http://***@127.0.0.1" in repr(discovery.get("openrouter"))
    assert "base_url='http://127.0.0.1" in repr(discovery.get("openai-eu"))
    assert "postgresql+psycopg://***@db/catalog" in repr(settings)


def routes(server: FakeServer) -> None:
    server.route("/openai-eu/models", Reply(200, recorded_body("openai")))
    server.route("/openrouter/models", Reply(200, recorded_body("openrouter")))


def test_cli_outputs_and_log_mask_the_url_password(
    tmp_path: Path,
    fake_server: FakeServer,
    password: str,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    routes(fake_server)
    key = f"sk-{uuid.uuid4().hex}"
    config = config_with_secrets(tmp_path, fake_server, password, key)
    env = {
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_CONFIG": str(config),
        "AISYNC_OPENROUTER_BASE_URL": f"{with_userinfo(fake_server.url, password)}/openrouter",
        "AISYNC_OPENROUTER_ENABLED": "true",
    }
    seen = []
    for args in (
        ["sync-models", "--provider", "openai-eu", "--provider", "openrouter", "-vv"],
        ["sync-models", "--provider", "openai-eu", "--force", "--json", "-vv"],
        ["providers"],
        ["providers", "--json"],
    ):
        result = run(args, env)
        assert result.exit_code == 0, result.output
        seen += [result.stdout, result.stderr]
    port = fake_server.url.rsplit(":", 1)[1]
    masked = f"http://***@127.0.0.1:{port}/openrouter"
    assert masked in seen[-4]
    listed = {p["name"]: p["base_url"] for p in json.loads(seen[-2])}
    assert listed["openrouter"] == masked
    # With a key the userinfo means nothing (the key wins): it is dropped, not shown.
    assert listed["openai-eu"] == f"http://127.0.0.1:{port}/openai-eu"
    log = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: GET http://127.0.0.1" in log
    everything = "\n".join(seen) + log
    assert password not in everything and key not in everything


def test_the_key_wins_over_url_userinfo_and_basic_auth_is_sent_without_one(
    tmp_path: Path, fake_server: FakeServer, password: str, sqlite_url: str
) -> None:
    routes(fake_server)
    key = f"sk-{uuid.uuid4().hex}"
    config = config_with_secrets(tmp_path, fake_server, password, key)
    env = {
        "AISYNC_DATABASE_URL": sqlite_url,
        "AISYNC_CONFIG": str(config),
        "AISYNC_OPENROUTER_BASE_URL": f"{with_userinfo(fake_server.url, password)}/openrouter",
        "AISYNC_OPENROUTER_ENABLED": "true",
    }
    result = run(["sync-models", "--provider", "openai-eu", "--provider", "openrouter"], env)
    assert result.exit_code == 0, result.output
    received = {r.path: r.headers.get("Authorization") for r in fake_server.requests}
    assert received["/openai-eu/models"] == f"Bearer {key}"
    basic = base64.b64encode(f"proxyuser:{password}".encode()).decode()
    assert received["/openrouter/models"] == f"Basic {basic}"
