"""Every SQL and Python example of the README runs against a catalog filled by real syncs.

SQL examples run unchanged on every backend. Blocks that start with `# <path>` are the files
of the example plugin package: they are written out and the package's own tests run in a
real pytest. Every other Python block is executed, in order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.catalog_data import fill

README = Path(__file__).parent.parent / "README.md"
FILE_BLOCK = re.compile(r"\A# ([\w./-]+\.(?:py|toml|yaml))\n")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def files() -> dict[str, str]:
    """The example package's files: every block whose first line is `# <path>`."""
    found = {}
    for language in ("python", "toml", "yaml"):
        for block in blocks(language):
            match = FILE_BLOCK.match(block)
            if match:
                found[match.group(1)] = block
    return found


def parameters(query: str) -> dict[str, str]:
    """The cutoffs the time-window examples take, as the UTC text the README describes."""
    now = datetime.now(UTC)
    values = {
        "since": now - timedelta(days=7),
        "month_start": now.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
    }
    return {k: f"{v:%Y-%m-%d %H:%M:%S}" for k, v in values.items() if f":{k}" in query}


@pytest.mark.parametrize("query", blocks("sql"), ids=lambda q: q.splitlines()[0][3:40])
def test_sql_examples_run(database_url: str, tmp_path: Path, query: str) -> None:
    fill(database_url, tmp_path)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text(query), parameters(query)).all()
    engine.dispose()
    assert rows, f"the example returned nothing:\n{query}"


def test_time_window_examples_leave_old_rows_out(sqlite_url: str, tmp_path: Path) -> None:
    fill(sqlite_url, tmp_path)
    [query] = [q for q in blocks("sql") if "added in the last 7 days" in q]
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        added = connection.execute(text(query), parameters(query)).all()
    engine.dispose()
    assert sorted(row.model_id for row in added) == ["beta", "delta"]


def test_there_are_sql_examples() -> None:
    assert len(blocks("sql")) >= 10


def test_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = fill(f"sqlite:///{tmp_path / 'filled.db'}", tmp_path)
    monkeypatch.setenv("AISYNC_DATABASE_URL", env["AISYNC_DATABASE_URL"])
    app = tmp_path / "app"
    app.mkdir()
    monkeypatch.chdir(app)
    examples = [b for b in blocks("python") if not FILE_BLOCK.match(b)]
    assert len(examples) >= 2
    for number, source in enumerate(examples):
        namespace: dict[str, object] = {"__name__": f"readme_example_{number}"}
        exec(compile(source, f"README.md python block {number}", "exec"), namespace)
    assert (app / "catalog.db").exists()


def test_plugin_package_example_passes_its_own_tests(tmp_path: Path) -> None:
    project = tmp_path / "aisync-acme"
    for path, content in files().items():
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    assert {"pyproject.toml", "aisync_acme.py", "tests/test_acme.py"} <= set(files())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
