"""Input that used to end in a traceback: each is now one line on stderr and its exit code.

Usage errors (a bad option value or argument) exit 64, configuration errors 1, as the
README's exit-code table says. Every case runs through the real CLI; the non-UTF-8
argument comes from a real subprocess, whose argv Python decodes with surrogate escapes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import Result

from tests.catalog_data import fill
from tests.cli import run
from tests.fakeserver import FakeServer, Reply
from tests.providers.helpers import recorded_body

HUGE = "9" * 30

#: Arguments that are usage errors, whatever the database.
USAGE_ERRORS: list[list[str]] = [
    ["changes", "--since", "99999999d"],
    ["changes", "--since", "0001-01-01"],
    ["changes", "--since", "9999-12-31T23:59:59-12:00"],
    ["changes", "--since", "1e400"],
    ["changes", "--run", HUGE],
    ["changes", "--run", f"-{HUGE}"],
    ["runs", "show", HUGE],
    ["runs", "--limit", HUGE],
    ["models", "show", "mock/\udcff\udcfe"],
    ["models", "--provider", "\udcff"],
    ["models", "--search", "\udcff"],
    ["stats", "--provider", "\udcff"],
    ["export", "--provider", "\udcff"],
]


def assert_one_line(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert result.stdout == "", result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr


def test_usage_errors_are_one_line_exit_64(database_url: str, tmp_path: Path) -> None:
    env = fill(database_url, tmp_path)
    for args in USAGE_ERRORS:
        line = assert_one_line(run(args, env), 64)
        assert line.startswith("Error: "), (args, line)
    assert "at most 100 years" in run(USAGE_ERRORS[0], env).stderr
    # Within range, the same options still answer.
    assert run(["changes", "--since", "1970-01-01", "--run", "2"], env).exit_code == 0
    assert run(["runs", "--limit", "2147483647"], env).exit_code == 0


def test_non_utf8_argument_from_a_real_process(tmp_path: Path) -> None:
    env = fill(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path)
    for argument in (b"mock/\xff\xfe", b"\xffmock/x"):
        done = subprocess.run(
            [sys.executable, "-m", "aisync", "models", "show", argument],
            env={**os.environ, **env},
            capture_output=True,
            timeout=120,
            check=False,
        )
        stderr = done.stderr.decode("utf-8", "replace")
        assert done.returncode == 64, stderr
        assert done.stdout == b""
        assert "Traceback" not in stderr
        assert len(stderr.splitlines()) == 1, stderr
        assert "not valid UTF-8" in stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            'cache_ttl = "99999999999d"',
            "Invalid cache_ttl in {path}: '99999999999d' (at most 100 years)",
        ),
        (
            "cache_ttl = 1e400",
            "Invalid cache_ttl in {path}: inf (at most 100 years)",
        ),
        (
            '[providers.mock]\ncache_ttl = "99999999999d"',
            "Invalid [providers.mock].cache_ttl in {path}: '99999999999d' (at most 100 years)",
        ),
        (
            '[enrich]\ncache_ttl = "99999999999d"',
            "Invalid [enrich].cache_ttl in {path}: '99999999999d' (at most 100 years)",
        ),
        (
            'lock_timeout = "99999999999d"',
            "Invalid lock_timeout in {path}: '99999999999d' (at most 100 years)",
        ),
        ("x = " + "[" * 5000 + "]" * 5000, "Invalid TOML in {path}: nested too deeply"),
        ("cache_ttl = " + "9" * 4000, "Invalid cache_ttl in {path}: 9999"),
        ("cache_ttl = " + "9" * 5000, "Invalid TOML in {path}: a number with too many digits"),
    ],
)
def test_config_errors_are_one_line_naming_file_and_key(
    tmp_path: Path, sqlite_url: str, content: str, message: str
) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text(content, encoding="utf-8")
    env = {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_CONFIG": str(config)}
    for args in (["sync-models", "--provider", "mock"], ["runs"], ["providers"]):
        line = assert_one_line(run(args, env), 1)
        assert line.startswith(message.format(path=config)), line


@pytest.fixture
def openai_env(fake_server: FakeServer, sqlite_url: str) -> dict[str, str]:
    fake_server.route("/models", Reply(200, recorded_body("openai")))
    return {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_OPENAI_BASE_URL": fake_server.url}


def test_a_key_with_a_trailing_newline_is_sent_without_it(
    fake_server: FakeServer, openai_env: dict[str, str]
) -> None:
    key = f"sk-{uuid.uuid4().hex}"
    result = run(
        ["sync-models", "--provider", "openai"], {**openai_env, "OPENAI_API_KEY": f"{key}\n"}
    )
    assert result.exit_code == 0, result.output
    assert fake_server.requests[0].headers["Authorization"] == f"Bearer {key}"


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "AISYNC_OPENAI_API_KEY"])
@pytest.mark.parametrize("bad", ["ü", "\x1b", "\n-inside-"])
def test_a_key_no_header_can_carry_is_refused_in_one_line(
    fake_server: FakeServer, openai_env: dict[str, str], variable: str, bad: str
) -> None:
    key = f"sk-{uuid.uuid4().hex}{bad}{uuid.uuid4().hex}"
    result = run(["sync-models", "--provider", "openai"], {**openai_env, variable: key})
    line = assert_one_line(result, 1)
    assert line == (
        f"The API key in {variable} contains characters an HTTP header cannot carry "
        "(non-ASCII or control characters)\n"
    )
    assert fake_server.requests == []


def test_a_config_file_key_no_header_can_carry_names_the_file(
    tmp_path: Path, openai_env: dict[str, str]
) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text('[providers.openai]\napi_key = "sk-clé-secrète"\n', encoding="utf-8")
    result = run(["providers"], {**openai_env, "AISYNC_CONFIG": str(config)})
    line = assert_one_line(result, 1)
    assert f"[providers.openai].api_key in {config}" in line
    assert "secr" not in line
