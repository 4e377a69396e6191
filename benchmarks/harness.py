"""What every benchmark shares: running aisync as a whole process, medians, the goal table.

Each `bench_*.py` measures its floor in the same run (this machine is shared and noisy, so
a figure from another day means little), reports medians of several runs and the ratio to
the floor, and exits 1 when a goal is missed. The repository root goes on `sys.path` so the
benchmarks reuse the test suite's fake provider server.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Variables that would let the developer's own keys, config or catalog into a benchmark.
_LEAKY_PREFIXES = ("AISYNC_",)
_LEAKY_SUFFIXES = ("_API_KEY",)
_LEAKY_NAMES = ("OLLAMA_HOST",)
#: An installed aisync runs from cached bytecode; a sandbox that forbids writing it would
#: make every start pay for compiling aisync's sources.
_UNREALISTIC = ("PYTHONDONTWRITEBYTECODE",)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


@dataclass(frozen=True)
class Run:
    """One whole-process run: wall time, exit code, peak resident memory, output."""

    seconds: float
    exit_code: int
    peak_rss_mb: float
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Goal:
    """A measured median and what it must be: at most a limit, a ratio of the floor, or exact."""

    name: str
    median: float
    floor: float | None = None
    at_most: float | None = None
    at_most_ratio: float | None = None
    exactly: float | None = None
    unit: str = "s"

    @property
    def ratio(self) -> float | None:
        return None if not self.floor else self.median / self.floor

    @property
    def met(self) -> bool:
        checks = [
            self.at_most is None or self.median <= self.at_most,
            self.at_most_ratio is None or (self.ratio or 0) <= self.at_most_ratio,
            self.exactly is None or self.median == self.exactly,
        ]
        return all(checks)

    def wanted(self) -> str:
        if self.exactly is not None:
            return f"= {_value(self.exactly, self.unit)}"
        if self.at_most_ratio is not None:
            return f"<= {self.at_most_ratio:g}x"
        return f"<= {_value(self.at_most or 0, self.unit)}"


def aisync_command(*args: str) -> list[str]:
    """The installed `aisync` console script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("aisync")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "aisync", *args]


def clean_environ(home: Path, **extra: str) -> dict[str, str]:
    """The environment minus keys and AISYNC_* settings, with config and data under `home`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_LEAKY_PREFIXES)
        and not name.endswith(_LEAKY_SUFFIXES)
        and name not in _LEAKY_NAMES
        and name not in _UNREALISTIC
    }
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    env.update(extra)
    return env


def run_process(command: Sequence[str], env: Mapping[str, str]) -> Run:
    """Run to completion; the peak RSS is the child's own (`wait4`), not this process's."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stdout, stderr = _drain(process)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, process.returncode, usage.ru_maxrss / 1024, stdout, stderr)


def _drain(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Read both pipes to the end without reaping the child (wait4 must see it)."""
    import threading

    chunks: dict[str, str] = {}

    def read(name: str) -> None:
        stream = getattr(process, name)
        chunks[name] = stream.read()
        stream.close()

    readers = [threading.Thread(target=read, args=(name,)) for name in ("stdout", "stderr")]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    return chunks["stdout"], chunks["stderr"]


def checked(run: Run, allowed: Sequence[int] = (0,)) -> Run:
    """A run that failed is a broken benchmark, not a slow one: stop with its output."""
    if run.exit_code not in allowed:
        sys.exit(f"aisync exited {run.exit_code}:\n{run.stdout}\n{run.stderr}")
    return run


def median_of(measure: Callable[[], float], runs: int = RUNS) -> float:
    return statistics.median(measure() for _ in range(runs))


def header(title: str, detail: str) -> None:
    print(f"== {title}: {detail} (medians of {RUNS} runs)", flush=True)


def report(goals: Sequence[Goal]) -> int:
    """Print the goal table and return the exit code: 1 when any goal is missed."""
    print(f"  {'measurement':<56} {'median':>10} {'floor':>9} {'ratio':>7} {'goal':>11}  result")
    for goal in goals:
        floor = "" if goal.floor is None else _value(goal.floor, goal.unit)
        ratio = "" if goal.ratio is None else f"{goal.ratio:.2f}x"
        result = "ok" if goal.met else "MISSED"
        print(
            f"  {goal.name:<56} {_value(goal.median, goal.unit):>10} {floor:>9} {ratio:>7} "
            f"{goal.wanted():>11}  {result}"
        )
    sys.stdout.flush()
    return 0 if all(goal.met for goal in goals) else 1


def _value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.0f} {unit}"
