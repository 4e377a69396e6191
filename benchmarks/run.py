"""Run every benchmark (`benchmarks/bench_*.py`), each in its own process, and summarise.

    python benchmarks/run.py                 # all of them
    python benchmarks/run.py fanout startup  # those whose names contain a word

Each benchmark prints its figures, the floor it measured in the same run and the ratio,
and exits 1 when it misses a goal; this script passes their output through, lists the
outcome of each, and exits 1 unless every goal was met. `BENCH_RUNS` sets how many runs
each median is taken over (default 5).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def selected(words: list[str]) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    if not words:
        return scripts
    return [script for script in scripts if any(word in script.stem for word in words)]


def outcome(code: int) -> str:
    return {0: "all goals met", 1: "goal missed"}.get(code, f"broken (exit {code})")


def main() -> int:
    scripts = selected(sys.argv[1:])
    if not scripts:
        print("No benchmark matches.", file=sys.stderr)
        return 64
    results: list[tuple[str, int, float]] = []
    for script in scripts:
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        results.append((script.stem, code, time.perf_counter() - started))
        print()
    print("Summary")
    for name, code, seconds in results:
        print(f"  {name:<24} {outcome(code):<20} ({seconds:.0f} s)")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
