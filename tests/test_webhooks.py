"""Webhooks: real syncs post signed notifications to a real receiver on 127.0.0.1.

The outbox (`notifications`) is written with the run's close and emptied by delivery; a
receiver that fails, hangs or is down never fails the sync and gets the notification at the
next run, with the same delivery id; so does one whose sender was killed mid-delivery.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import inspect

from aisync.db.connect import open_engine
from aisync.db.migrate import HEAD_REVISION, downgrade, ensure_schema, stored_revision
from aisync.notify_settings import Webhook
from aisync.settings import load_settings
from aisync_providers.mock import DEFAULT_MODELS
from tests.cli import query, run
from tests.receiver import HANG, Receiver, free_port
from tests.test_migrations import drift

README = Path(__file__).parent.parent / "README.md"
SCHEMA = json.loads(
    (Path(__file__).parent.parent / "aisync" / "schemas" / "webhook.schema.json").read_text("utf-8")
)
SECRET = "whsec-test-0123456789abcdef"
SYNC = ["sync-models", "--provider", "mock"]


def readme_verify() -> Callable[[bytes, Any, bytes], bool]:
    """The README's receiver example, exactly as written there."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.S)
    [source] = [block for block in blocks if "X-Aisync-Signature" in block]
    assert len(source.strip().splitlines()) <= 10
    namespace: dict[str, Any] = {}
    exec(compile(source, "README receiver example", "exec"), namespace)
    return namespace["verify"]  # type: ignore[no-any-return]


def validate(body: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(body)


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def environment(
    tmp_path: Path,
    database_url: str,
    webhooks: list[dict[str, Any]],
    *,
    extra: str = "",
    **notify: Any,
) -> dict[str, str]:
    """A config file with these webhooks, and the environment a run reads it from."""
    settings = {"timeout": 1, "backoff": 0, **notify}
    lines = ["[notify]", *(f"{k} = {toml_value(v)}" for k, v in settings.items())]
    lines.append(f"webhooks = {toml_value(webhooks)}")
    config = tmp_path / "aisync.toml"
    config.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return {
        "AISYNC_DATABASE_URL": database_url,
        "AISYNC_CONFIG": str(config),
        "HOOK_SECRET": SECRET,
    }


def changed_listing(tmp_path: Path) -> str:
    """The mock's three models with one price changed, one removed and one added."""
    models = [dict(m) for m in DEFAULT_MODELS if m["id"] != "mock-basic"]
    models[0]["input_price_per_mtok"] = 2.0
    models.append({"id": "mock-new", "display_name": "Mock New", "capabilities": ["chat"]})
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(models), encoding="utf-8")
    return str(path)


def sync_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`aisync sync-models --provider mock` in a process of its own: its real stderr."""
    return subprocess.run(
        [sys.executable, "-m", "aisync", *SYNC],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def outbox(database_url: str) -> list[tuple[Any, ...]]:
    return query(
        database_url,
        "SELECT delivery_id, run_id, attempts, last_error, delivered_at FROM notifications "
        "ORDER BY id",
    )


def test_a_sync_with_changes_posts_one_signed_webhook(database_url: str, tmp_path: Path) -> None:
    hook = {"url": "", "secret_env": "HOOK_SECRET", "on": ["removed", "changed", "price"]}
    with Receiver().running() as receiver:
        env = environment(tmp_path, database_url, [{**hook, "url": receiver.url}])
        first = run(SYNC, env)
        assert first.exit_code == 0, first.output
        assert receiver.requests == [], "a run that only added models matched no filter"
        env["AISYNC_MOCK_MODELS"] = changed_listing(tmp_path)
        second = run([*SYNC, "--force"], env)
        assert second.exit_code == 0, second.output
        assert second.stderr == ""
        listed = json.loads(run(["notify", "list", "--json"], env).stdout)
    [delivery] = receiver.requests
    verify = readme_verify()
    assert verify(SECRET.encode(), delivery.headers, delivery.body)
    assert not verify(b"another secret", delivery.headers, delivery.body)
    assert not verify(SECRET.encode(), delivery.headers, delivery.body + b" ")
    body = json.loads(delivery.body)
    validate(body)
    assert body["delivery_id"] == delivery.headers["X-Aisync-Delivery"]
    assert body["events"] == ["removed", "changed", "price"]
    assert body["run"]["id"] == 2
    assert (body["run"]["status"], body["run"]["exit_code"]) == ("succeeded", 0)
    assert [(p["provider"], p["added"], p["changed"], p["removed"]) for p in body["providers"]] == [
        ("mock", 1, 1, 1)
    ]
    changes = body["changes"]
    assert changes["added"] == [{"provider": "mock", "model_id": "mock-new"}]
    assert changes["removed"] == [{"provider": "mock", "model_id": "mock-basic"}]
    price = {"input_price_per_mtok": {"old": 1.0, "new": 2.0}}
    assert changes["changed"] == [{"provider": "mock", "model_id": "mock-model", "fields": price}]
    assert changes["prices"] == changes["changed"]
    assert changes["deprecations"] == []
    [row] = listed
    assert (row["status"], row["attempts"], row["run_id"]) == ("delivered", 1, 2)
    assert row["delivery_id"] == body["delivery_id"]
    assert row["body"] == body


@pytest.mark.parametrize("failure", ["500", "hang", "down"])
def test_a_failed_delivery_never_fails_the_sync_and_the_next_run_delivers_it_once(
    database_url: str, tmp_path: Path, failure: str
) -> None:
    port = free_port()
    env = environment(tmp_path, database_url, [{"url": f"http://127.0.0.1:{port}/hook"}])
    answer = {"500": 500, "hang": HANG}.get(failure)
    broken = None if answer is None else Receiver(answer, port=port)
    if broken is None:
        result = sync_process(env)
    else:
        with broken.running():
            result = sync_process(env)
        assert len(broken.requests) == 1
    assert result.returncode == 0, result.stderr
    assert "Sync completed successfully!" in result.stdout
    [warning] = result.stderr.splitlines()
    assert warning.startswith("Webhook delivery failed, kept for retry: http://127.0.0.1:")
    [(delivery_id, run_id, attempts, error, delivered_at)] = outbox(database_url)
    assert (run_id, attempts, delivered_at) == (1, 1, None)
    expected = {"500": "HTTP 500", "hang": "no answer within 1 s", "down": "ConnectError"}
    assert expected[failure] in error
    assert expected[failure] in run(["notify", "list"], env).stdout

    with Receiver(port=port).running() as receiver:
        again = run(SYNC, env)  # all fresh: no new notification, the old one goes out
        assert again.exit_code == 0 and again.stderr == ""
        assert run(SYNC, env).exit_code == 0
    [delivery] = receiver.requests
    assert delivery.headers["X-Aisync-Delivery"] == delivery_id
    assert json.loads(delivery.body)["delivery_id"] == delivery_id
    [(_, _, attempts, error, delivered_at)] = outbox(database_url)
    assert (attempts, error) == (2, None) and delivered_at is not None


def test_a_sender_killed_while_posting_loses_nothing(database_url: str, tmp_path: Path) -> None:
    """SIGKILL after the run's commit, with the POST pending: the next run delivers it."""
    with Receiver(HANG, 200).running() as receiver:
        env = environment(tmp_path, database_url, [{"url": receiver.url}])
        child = subprocess.Popen(
            [sys.executable, "-m", "aisync", *SYNC],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert receiver.arrived.wait(60), "the run posted nothing"
            child.send_signal(signal.SIGKILL)
        finally:
            child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        receiver.release()
        assert query(database_url, "SELECT status FROM sync_runs") == [("succeeded",)]
        [(delivery_id, _, attempts, _, delivered_at)] = outbox(database_url)
        assert (attempts, delivered_at) == (1, None)
        # The killed attempt holds the row for 2 x timeout + 1 s, then it is due again.
        time.sleep(3.2)
        result = run(SYNC, env)
        assert result.exit_code == 0 and result.stderr == ""
    assert [d.headers["X-Aisync-Delivery"] for d in receiver.requests] == [delivery_id] * 2
    assert len(receiver.delivered) == 1
    [(_, _, attempts, _, delivered_at)] = outbox(database_url)
    assert attempts == 2 and delivered_at is not None


def test_webhooks_are_filtered_by_event_and_provider(database_url: str, tmp_path: Path) -> None:
    with Receiver().running() as receiver:
        hooks = [
            {"url": f"{receiver.url}/removed-mock", "on": ["removed"], "providers": ["mock"]},
            {"url": f"{receiver.url}/added-mock2", "on": ["added"], "providers": ["mock2"]},
            {"url": f"{receiver.url}/failure", "on": ["failure"]},
            {"url": f"{receiver.url}/deprecation", "on": ["deprecation"]},
        ]
        extra = '[providers.mock2]\ntype = "mock"\n'
        env = environment(tmp_path, database_url, hooks, extra=extra)
        both = [*SYNC, "--provider", "mock2"]

        assert run(both, env).exit_code == 0
        assert [d.path for d in receiver.requests] == ["/hook/added-mock2"]
        added = json.loads(receiver.requests[0].body)
        assert [p["provider"] for p in added["providers"]] == ["mock2"]
        assert {m["provider"] for m in added["changes"]["added"]} == {"mock2"}

        env["AISYNC_MOCK_MODELS"] = changed_listing(tmp_path)
        env["AISYNC_MOCK2_MODELS"] = str(tmp_path / "missing.json")
        assert run([*both, "--force"], env).exit_code == 2
        paths = [d.path for d in receiver.requests[1:]]
        assert sorted(paths) == ["/hook/failure", "/hook/removed-mock"]
        bodies = {d.path: json.loads(d.body) for d in receiver.requests}
        removed = bodies["/hook/removed-mock"]
        assert removed["events"] == ["removed"]
        assert [p["provider"] for p in removed["providers"]] == ["mock"]
        failure = bodies["/hook/failure"]
        assert failure["events"] == ["failure"]
        assert failure["run"]["status"] == "partial" and failure["run"]["exit_code"] == 2
        assert [p["status"] for p in failure["providers"]] == ["synced", "failed"]

        override = ["override", "set", "mock/mock-model", "deprecation_date", "2027-06-30"]
        assert run(override, env).exit_code == 0
        assert run([*SYNC, "--force"], env).exit_code == 0
        assert [d.path for d in receiver.requests[3:]] == ["/hook/deprecation"]
        deprecation = json.loads(receiver.requests[3].body)
        assert deprecation["changes"]["deprecations"] == [
            {"provider": "mock", "model_id": "mock-model", "old": None, "new": "2027-06-30"}
        ]
    for delivery in receiver.requests:
        validate(json.loads(delivery.body))
        assert "X-Aisync-Signature" not in delivery.headers


def test_a_model_that_arrives_with_a_deprecation_date_announces_it(
    database_url: str, tmp_path: Path
) -> None:
    with Receiver().running() as receiver:
        env = environment(tmp_path, database_url, [{"url": receiver.url, "on": ["deprecation"]}])
        assert run(SYNC, env).exit_code == 0
        # The user knows the date before the model is listed; then it is, with the date.
        override = ["override", "set", "mock/mock-new", "deprecation_date", "2027-06-30"]
        assert run(override, env).exit_code == 0, run(override, env).output
        env["AISYNC_MOCK_MODELS"] = changed_listing(tmp_path)
        assert run([*SYNC, "--force"], env).exit_code == 0
        assert run([*SYNC, "--force"], env).exit_code == 0  # listed again: nothing new
    [delivery] = receiver.requests
    body = json.loads(delivery.body)
    validate(body)
    assert body["events"] == ["deprecation"]
    assert body["changes"]["deprecations"] == [
        {"provider": "mock", "model_id": "mock-new", "old": None, "new": "2027-06-30"}
    ]


def test_failed_attempts_back_off_and_notify_retry_sends_at_once(
    database_url: str, tmp_path: Path
) -> None:
    with Receiver(500, 500, 200).running() as receiver:
        env = environment(tmp_path, database_url, [{"url": receiver.url}], backoff="1m")
        assert run(SYNC, env).exit_code == 0
        [(_, _, _, _, _, wait)] = _schedule(database_url)
        assert 55 < wait <= 60
        assert run(SYNC, env).exit_code == 0
        assert len(receiver.requests) == 1, "a run before the backoff ends does not retry"
        failed = run(["notify", "retry"], env)
        assert failed.exit_code == 1
        assert "Delivered 0, failed 1." in failed.stdout and "HTTP 500" in failed.stderr
        [(_, _, attempts, _, _, wait)] = _schedule(database_url)
        assert attempts == 2 and 115 < wait <= 120
        done = run(["notify", "retry"], env)
        assert done.exit_code == 0 and "Delivered 1, failed 0." in done.stdout
        assert run(["notify", "retry"], env).stdout == "Nothing to deliver.\n"
    assert len(receiver.requests) == 3
    assert len({d.headers["X-Aisync-Delivery"] for d in receiver.requests}) == 1


def _schedule(database_url: str) -> list[tuple[Any, ...]]:
    """Each notification's row with the seconds until its next attempt."""
    now = datetime.now(UTC)
    rows = query(
        database_url,
        "SELECT delivery_id, run_id, attempts, last_error, delivered_at, next_attempt_at "
        "FROM notifications ORDER BY id",
    )
    return [(*row[:5], (_utc(row[5]) - now).total_seconds()) for row in rows]


def _utc(value: datetime | str) -> datetime:
    """A naive UTC column as the driver returns it (SQLite: text)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC)


def test_the_secret_never_reaches_the_database_output_or_reprs(
    sqlite_url: str, tmp_path: Path
) -> None:
    with Receiver(500, 200).running() as receiver:
        url = receiver.url.replace("http://", "http://alice:pa55word@")
        hooks = [{"url": url, "secret_env": "HOOK_SECRET"}]
        env = {**environment(tmp_path, sqlite_url, hooks), "AISYNC_WEBHOOK_URL": receiver.url}
        env["AISYNC_WEBHOOK_SECRET"] = SECRET + "-env"
        outputs = [run([*SYNC, "-vv"], env), run(["notify", "list"], env)]
        outputs += [run(["notify", "list", "--json"], env), run(["notify", "retry"], env)]
        settings = load_settings(environ=env)
    assert len(receiver.requests) == 3  # two webhooks, the first answered 500, then a retry
    verify = readme_verify()
    signed = [d for d in receiver.requests if d.headers.get("Authorization")]
    assert all(verify(SECRET.encode(), d.headers, d.body) for d in signed)
    others = [d for d in receiver.requests if not d.headers.get("Authorization")]
    assert all(verify((SECRET + "-env").encode(), d.headers, d.body) for d in others)
    text = "".join(o.stdout + o.stderr for o in outputs) + repr(settings)
    text += repr(Webhook(url, "HOOK_SECRET"))
    database = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    for secret in (SECRET, "pa55word"):
        assert secret not in text
    assert SECRET.encode() not in database
    assert "http://***@127.0.0.1" in outputs[1].stdout


def test_upgrading_a_0002_catalog_adds_the_outbox(database_url: str, tmp_path: Path) -> None:
    with Receiver().running() as receiver:
        env = environment(tmp_path, database_url, [{"url": receiver.url, "on": ["removed"]}])
        assert run(SYNC, env).exit_code == 0
        engine = open_engine(database_url)
        downgrade(engine, "0002")
        assert "notifications" not in inspect(engine).get_table_names()
        env["AISYNC_MOCK_MODELS"] = changed_listing(tmp_path)
        assert run([*SYNC, "--force"], env).exit_code == 0
    assert stored_revision(engine) == HEAD_REVISION
    assert drift(engine) == []
    assert query(database_url, "SELECT COUNT(*) FROM model_versions")[0][0] >= 4
    [(delivery_id, run_id, attempts, _, _)] = outbox(database_url)
    assert (run_id, attempts) == (2, 1)
    assert receiver.requests[0].headers["X-Aisync-Delivery"] == delivery_id
    ensure_schema(engine)
    engine.dispose()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[notify]\nretries = 3\n", "Unknown key 'retries' in [notify] of {path}"),
        (
            '[notify]\nwebhooks = [{url = "https://x.test", on = ["gone"]}]\n',
            "[notify].webhooks[1] in {path}: unknown event 'gone'",
        ),
        (
            '[notify]\nwebhooks = [{url = "https://x.test", secret = "abc"}]\n',
            "Unknown key 'secret' in [notify].webhooks[1] in {path}",
        ),
        ('[notify]\nwebhooks = [{url = "ftp://x.test"}]\n', "needs a url starting with http"),
    ],
)
def test_a_bad_notify_table_is_one_line_naming_file_and_key(
    sqlite_url: str, tmp_path: Path, table: str, message: str
) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text(table, encoding="utf-8")
    result = run(SYNC, {"AISYNC_DATABASE_URL": sqlite_url, "AISYNC_CONFIG": str(config)})
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert message.format(path=config) in line
