"""Live progress of `aisync sync-models`, run as a person and as cron run it: the real
command in a child process whose streams are a pseudo-terminal, or pipes, syncing
OpenAI-compatible instances served by a fake server on 127.0.0.1.

On a terminal every fetch under way shows a spinner and its elapsed seconds; `-v` adds a
line per retry; Ctrl-C still exits 130 with the board erased. Piped, the output is the
report and nothing else, byte for byte.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aisync import Syncer, load_settings
from aisync.report import ProviderResult
from aisync.sync.progress import FetchBegan, PagesFetched, Retrying
from tests.fakeserver import FakeServer, Reply

KEY = "sk-live-progress-secret"
LISTING = {
    "object": "list",
    "data": [
        {"id": f"live-{n}", "object": "model", "created": 1715367049, "owned_by": "system"}
        for n in range(3)
    ],
}
RATE_LIMITED = Reply(
    429, {"error": {"message": "Rate limit reached"}}, headers={"Retry-After": "1"}
)
#: What rich and terminals read besides isatty: none may leak in from the test's own run.
TERMINAL_VARIABLES = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")


@dataclass
class Ran:
    code: int
    #: Everything written to the terminal (stdout and stderr, as a person sees them), or,
    #: piped, stdout alone.
    out: str
    err: str = ""


def write_config(tmp_path: Path, server: FakeServer, names: list[str]) -> Path:
    config = tmp_path / "aisync.toml"
    config.write_text(
        "".join(
            f'[providers.{name}]\ntype = "openai"\nbase_url = "{server.url}/{name}/v1"\n'
            f'api_key = "{KEY}"\n'
            for name in names
        ),
        encoding="utf-8",
    )
    return config


def sync_command(tmp_path: Path, server: FakeServer, names: list[str], *args: str) -> list[str]:
    """`aisync sync-models` for one OpenAI-compatible instance per name, each served at
    `/<name>/v1` by the fake server, into a fresh SQLite catalog."""
    config = write_config(tmp_path, server, names)
    database = f"sqlite:///{tmp_path / 'catalog.db'}"
    return [
        sys.executable,
        "-m",
        "aisync",
        "sync-models",
        "--config",
        str(config),
        "--database-url",
        database,
        *args,
    ]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TERMINAL_VARIABLES}
    env.update(extra)
    return env


def run_in_terminal(
    command: list[str],
    *,
    interrupt_when: Callable[[str], bool] | None = None,
    timeout: float = 60,
) -> tuple[Ran, float | None]:
    """Run `command` with stdin, stdout and stderr on a pseudo-terminal of 100 columns; send
    SIGINT once `interrupt_when(output so far)` holds. Returns the run and, when
    interrupted, the seconds from the signal to the exit."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environment(TERM="xterm-256color"),
    )
    os.close(slave)
    received = bytearray()
    interrupted: float | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not chunk:
                break
            received += chunk
            text = received.decode("utf-8", "replace")
            if interrupt_when is not None and interrupted is None and interrupt_when(text):
                process.send_signal(signal.SIGINT)
                interrupted = time.monotonic()
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    took = None if interrupted is None else time.monotonic() - interrupted
    return Ran(code, received.decode("utf-8", "replace")), took


def run_piped(command: list[str]) -> Ran:
    """As cron runs it: stdout and stderr are pipes, no terminal anywhere."""
    done = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(TERM="dumb"),
        timeout=60,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def spinner_lines(output: str, provider: str) -> list[int]:
    """The elapsed seconds of every spinner line of `provider` the terminal was shown."""
    return [int(s) for s in re.findall(rf"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] {provider}  (\d+) s", output)]


def test_the_api_reports_each_fetch_its_pages_and_its_retries(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    """What the board is drawn from, in the order an embedding app receives it."""
    fake_server.route("/busy/v1/models", RATE_LIMITED, Reply(body=LISTING))
    settings = load_settings(
        {"database_url": f"sqlite:///{tmp_path / 'catalog.db'}"},
        environ={},
        config_path=write_config(tmp_path, fake_server, ["busy"]),
    )
    events: list[object] = []
    syncer = Syncer(settings=settings)
    try:
        report = syncer.sync_models(["busy"], progress=events.append)
    finally:
        syncer.close()
    assert report.exit_code == 0
    assert events[:3] == [
        FetchBegan("busy"),
        Retrying("busy", "429", 1.0),
        PagesFetched("busy", 1),
    ]
    assert isinstance(events[3], ProviderResult) and len(events) == 4


def test_a_slow_provider_shows_a_spinner_and_its_elapsed_time(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.route("/fast/v1/models", Reply(body=LISTING))
    fake_server.route("/slow/v1/models", Reply(body=LISTING, delay=2.5))
    ran, _ = run_in_terminal(sync_command(tmp_path, fake_server, ["fast", "slow"]))
    assert ran.code == 0, ran.out
    # While `slow` was pending the board counted its seconds, with `fast` already done.
    assert max(spinner_lines(ran.out, "slow")) >= 2, ran.out
    assert re.search(r"✓ fast  1 page fetched, 3 models\r\n[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] slow  2 s", ran.out)
    # Erased when the run ended: the report follows as it always has.
    board_ends = ran.out.rindex("models so far")
    report = ran.out[board_ends:]
    assert "\x1b[?25h" in report  # the cursor is shown again
    assert "Sync completed successfully!" in report
    assert "slow:" in report and "Total: 6 models synced across 2 providers" in report


def test_retries_are_shown_with_v_only(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.route("/busy/v1/models", RATE_LIMITED, Reply(body=LISTING))
    command = sync_command(tmp_path, fake_server, ["busy"])
    ran, _ = run_in_terminal([*command, "-v"])
    assert ran.code == 0, ran.out
    assert ran.out.count("busy: retrying after 429, 1 s") == 1, ran.out
    assert KEY not in ran.out

    fake_server.route("/busy/v1/models", RATE_LIMITED, Reply(body=LISTING))
    ran, _ = run_in_terminal([*command, "--force"])
    assert ran.code == 0, ran.out
    assert "retrying" not in ran.out
    assert len(fake_server.requests) == 4  # both runs were retried, one was shown


def test_retries_with_v_go_to_stderr_when_piped(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.route(
        "/busy/v1/models",
        Reply(503, {"error": {"message": "overloaded"}}, headers={"Retry-After": "0.5"}),
        Reply(body=LISTING),
    )
    ran = run_piped([*sync_command(tmp_path, fake_server, ["busy"]), "-v"])
    assert ran.code == 0, ran.err
    assert ran.err == "busy: retrying after 503, 0.5 s\n"
    assert "retrying" not in ran.out and KEY not in ran.out + ran.err


def test_piped_output_is_the_report_alone(fake_server: FakeServer, tmp_path: Path) -> None:
    """Cron's mail stays what it was before the live board: no spinner, no escape codes,
    nothing on stderr, and a retry is silent without -v."""
    fake_server.route("/fast/v1/models", Reply(body=LISTING))
    fake_server.route("/slow/v1/models", RATE_LIMITED, Reply(body=LISTING, delay=0.5))
    ran = run_piped(sync_command(tmp_path, fake_server, ["fast", "slow"]))
    assert ran.code == 0, ran.err
    assert ran.err == ""
    assert ran.out == (
        "Syncing models from AI providers...\n"
        "\n"
        "fast:\n"
        "  ✓ Found 3 models\n"
        "  ✓ Statistics updated\n"
        "\n"
        "slow:\n"
        "  ✓ Found 3 models\n"
        "  ✓ Statistics updated\n"
        "\n"
        "Sync completed successfully!\n"
        "Total: 6 models synced across 2 providers\n"
        f"Catalog created at {tmp_path / 'catalog.db'}: browse it with `aisync models`.\n"
    )


def test_ctrl_c_erases_the_board_and_exits_130(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.route("/stuck/v1/models", Reply(body=LISTING, delay=30))
    ran, took = run_in_terminal(
        sync_command(tmp_path, fake_server, ["stuck"]),
        interrupt_when=lambda out: bool(spinner_lines(out, "stuck")),
    )
    assert ran.code == 130, ran.out
    assert took is not None and took < 5
    after = ran.out[ran.out.rindex("models so far") :]
    assert "\x1b[?25h" in after and "\x1b[2K" in after  # cursor back, board lines erased
    assert after.rstrip().endswith("Aborted!")
