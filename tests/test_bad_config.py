"""Bad configuration: each a one-line message naming the problem, a non-zero exit, no traceback.

Config files that cannot be read or parsed, values of the wrong kind (from the file and from
the environment), database URLs that cannot connect or name no usable driver, a read-only
database file and a full disk. Permission bits do not stop root, and a full disk needs a
small filesystem: those cases run the real CLI in a subprocess inside a user (and mount)
namespace, where root's privileges do not apply and a 512 KB tmpfs can be mounted.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli import run

SYNC = ["sync-models", "--provider", "mock"]
COMMANDS = [SYNC, ["db", "current"], ["db", "upgrade"]]


def assert_one_line(result: Result, message: str, *, exact: bool = True) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    line = result.stderr.rstrip("\n")
    assert line == message if exact else message in line, line


def in_namespace(
    *command: str, mount: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `command` in a new user namespace (and mount namespace): file permissions apply
    even to root there, and a tmpfs can be mounted without privileges."""
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux unshare")
    flags = ["--user", "--map-root-user", "--mount"] if mount else ["--user"]
    return subprocess.run(
        ["unshare", *flags, *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"timeout = ", "Invalid TOML in {path}: Invalid value (at end of document)"),
        (b"\xff\xfe timeout = 3", "Invalid TOML in {path}: not UTF-8 text"),
        (b"colour = 1", "Unknown setting 'colour' in {path}"),
        (b'[providers.x]\nbase-url = "y"', "Unknown key 'base-url' in [providers.x] of {path}"),
        (b"providers = 5", "'providers' in {path} must be a table of [providers.NAME] tables"),
        (b"[providers.mock]\noptions = 3", "[providers.mock].options in {path} must be a table"),
        (b"database_url = 5", "'database_url' in {path} must be a string"),
        (b"env = true", "'env' in {path} must be a string"),
        (
            b"[providers.openai]\nbase_url = 5",
            "[providers.openai].base_url in {path} must be a string",
        ),
        (
            b"[providers.openai]\napi_key = 5",
            "[providers.openai].api_key in {path} must be a string",
        ),
        (
            b'[providers.openai]\nenabled = "maybe"',
            "[providers.openai].enabled in {path} must be true or false",
        ),
        (
            b'cache_ttl = "forever"',
            "Invalid cache_ttl in {path}: 'forever' (use seconds or a duration like 12h)",
        ),
        (
            b"[providers.mock]\ncache_ttl = true",
            "Invalid [providers.mock].cache_ttl in {path}: True "
            "(use seconds or a duration like 12h)",
        ),
        (b"timeout = nan", "Invalid timeout in {path}: nan (expected a positive number)"),
        (b"timeout = inf", "Invalid timeout in {path}: inf (expected a positive number)"),
        (b"timeout = -1", "Invalid timeout in {path}: -1 (expected a positive number)"),
        (
            b"concurrency = 0.5",
            "Invalid concurrency in {path}: 0.5 (expected a whole number of at least 1)",
        ),
        (
            b"concurrency = 0",
            "Invalid concurrency in {path}: 0 (expected a whole number of at least 1)",
        ),
        (b"retries = -1", "Invalid retries in {path}: -1 (expected a whole number)"),
        (
            b'retry_wait_cap = "later"',
            "Invalid retry_wait_cap in {path}: 'later' (use seconds or a duration like 12h)",
        ),
    ],
)
def test_bad_config_file(tmp_path: Path, sqlite_url: str, content: bytes, message: str) -> None:
    config = tmp_path / "aisync.toml"
    config.write_bytes(content)
    env = {"AISYNC_DATABASE_URL": sqlite_url}
    for command in COMMANDS:
        result = run([*command, "--config", str(config)], env)
        assert_one_line(result, message.format(path=config))
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AISYNC_TIMEOUT", "nan", "Invalid timeout: 'nan' (expected a positive number)"),
        ("AISYNC_TIMEOUT", "soon", "Invalid timeout: 'soon' (expected a positive number)"),
        (
            "AISYNC_CONCURRENCY",
            "0",
            "Invalid concurrency: '0' (expected a whole number of at least 1)",
        ),
        ("AISYNC_RETRIES", "two", "Invalid retries: 'two' (expected a whole number)"),
        (
            "AISYNC_CACHE_TTL",
            "-5",
            "Invalid cache TTL: '-5' must not be negative",
        ),
        (
            "AISYNC_MOCK_ENABLED",
            "maybe",
            "Invalid AISYNC_MOCK_ENABLED: 'maybe' (use true or false)",
        ),
    ],
)
def test_bad_environment_value(sqlite_url: str, variable: str, value: str, message: str) -> None:
    result = run(SYNC, {"AISYNC_DATABASE_URL": sqlite_url, variable: value})
    assert_one_line(result, message)


def test_config_file_that_is_a_directory(tmp_path: Path) -> None:
    result = run(SYNC, {"AISYNC_CONFIG": str(tmp_path)})
    assert_one_line(result, f"Cannot read config file {tmp_path}: Is a directory")


def test_missing_config_file(tmp_path: Path) -> None:
    result = run(SYNC, {"AISYNC_CONFIG": str(tmp_path / "nope.toml")})
    assert_one_line(result, f"Config file not found: {tmp_path / 'nope.toml'}")


def test_unreadable_config_file(tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text("timeout = 3\n")
    config.chmod(0)
    result = in_namespace(sys.executable, "-m", "aisync", *SYNC, AISYNC_CONFIG=str(config))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"Cannot read config file {config}: Permission denied\n"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql+psycopg://aisync:secretpw@127.0.0.1:1/catalog",
            'Cannot open the database: connection failed: connection to server at "127.0.0.1", '
            "port 1 failed: Connection refused",
        ),
        (
            "postgresql+psycopg://aisync:secretpw@db.invalid/catalog",
            "Cannot open the database: failed to resolve host 'db.invalid'",
        ),
        (
            "mysql+pymysql://aisync:secretpw@127.0.0.1:1/catalog",
            "Cannot open the database: (2003, \"Can't connect to MySQL server on '127.0.0.1'",
        ),
        (
            "mysql+pymysql://aisync:secretpw@db.invalid/catalog",
            "Cannot open the database: (2003, \"Can't connect to MySQL server on 'db.invalid'",
        ),
        ("nonsense://", "Unsupported database URL: nonsense://"),
        (
            "postgresql+nodriver://aisync:secretpw@db/catalog",
            "Unsupported database URL: postgresql+nodriver://aisync:***@db/catalog",
        ),
        (
            "mysql+mysqldb://aisync:secretpw@db/catalog",
            "The driver for mysql+mysqldb is not installed (MySQLdb): install aisync[mysql]",
        ),
        (
            "oracle+cx_oracle://aisync:secretpw@db/catalog",
            "The driver for oracle+cx_oracle is not installed (cx_Oracle): aisync supports "
            "SQLite, PostgreSQL (postgresql+psycopg://) and MariaDB/MySQL (mysql+pymysql://)",
        ),
        ("not a url://x", "Invalid database URL: <unparseable database URL>"),
        ("sqlite:////proc/nope/catalog.db", "Cannot create the database directory /proc/nope"),
    ],
)
def test_database_that_cannot_be_used(url: str, message: str) -> None:
    for command in COMMANDS:
        result = run(command, {"AISYNC_DATABASE_URL": url})
        assert_one_line(result, message, exact=False)
        assert "secretpw" not in result.output


def test_read_only_database_file(sqlite_url: str) -> None:
    assert run(SYNC, {"AISYNC_DATABASE_URL": sqlite_url}).exit_code == 0
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = path.read_bytes()
    path.chmod(0o444)
    args = ["-m", "aisync", *SYNC, "--force"]
    result = in_namespace(sys.executable, *args, AISYNC_DATABASE_URL=sqlite_url)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Database error: attempt to write a readonly database\n"
    assert path.read_bytes() == before


def test_read_only_sqlite_uri(sqlite_url: str) -> None:
    env = {"AISYNC_DATABASE_URL": sqlite_url}
    assert run(SYNC, env).exit_code == 0
    path = sqlite_url.removeprefix("sqlite:///")
    env["AISYNC_DATABASE_URL"] = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = run([*SYNC, "--force"], env)
    assert_one_line(result, "Database error: attempt to write a readonly database")


#: Inside the namespace: a 512 KB tmpfs, a first sync, the disk filled up to FREE KB, a big
#: second sync, then the catalog is copied out for the test to read with plain SQL.
FULL_DISK_SCRIPT = """
set -u
mount -t tmpfs -o size=512k tmpfs "$DISK" || exit 90
"$PYTHON" -m aisync sync-models --provider mock --quiet || exit 91
free=$(df -k --output=avail "$DISK" | tail -1)
head -c $(( (free - FREE) * 1024 )) /dev/zero > "$DISK/filler" 2>/dev/null
AISYNC_MOCK_MODELS="$BIG" "$PYTHON" -m aisync sync-models --provider mock --force \
    --allow-removals
code=$?
cp "$DISK/catalog.db" "$OUT"
exit $code
"""


@pytest.mark.parametrize("free_kb", [0, 16, 32])
def test_full_disk(tmp_path: Path, free_kb: int) -> None:
    """Whether the disk fills before the run row, before the listing or during it, the run
    fails with one clear line and the catalog is exactly as the last good sync left it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    result = in_namespace(
        "sh",
        "-c",
        FULL_DISK_SCRIPT,
        mount=True,
        DISK=str(disk),
        PYTHON=sys.executable,
        FREE=str(free_kb),
        BIG=",".join(f"model-{n}" for n in range(2000)),
        OUT=str(tmp_path / "catalog.db"),
        AISYNC_DATABASE_URL=f"sqlite:///{disk}/catalog.db",
    )
    if result.returncode == 90:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {result.stderr.strip()}")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "database or disk is full" in result.stderr
    errors = [line for line in result.stderr.splitlines() if "disk is full" in line]
    assert len(errors) == 1, result.stderr
    catalog = sqlite3.connect(tmp_path / "catalog.db")
    assert catalog.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert catalog.execute("SELECT COUNT(*) FROM models").fetchall() == [(3,)]
    assert catalog.execute("SELECT COUNT(*) FROM model_versions").fetchall() == [(3,)]
    runs = catalog.execute("SELECT status, exit_code FROM sync_runs ORDER BY id").fetchall()
    assert runs[0] == ("succeeded", 0)
    assert all(run == ("failed", 1) for run in runs[1:]), runs
    catalog.close()


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    path.write_bytes(b"this is a text file, not SQLite\n" * 200)
    for command in COMMANDS:
        result = run(command, {"AISYNC_DATABASE_URL": f"sqlite:///{path}"})
        assert_one_line(result, ": file is not a database", exact=False)
