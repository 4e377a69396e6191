"""Every SQL and Python example of the README runs against a catalog filled by real syncs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from aisync.engine import Syncer
from aisync.settings import load_settings

README = Path(__file__).parent.parent / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def filled(database_url: str, tmp_path: Path) -> Syncer:
    """Two mock syncs with an addition, a change and a removal between them."""
    if database_url.startswith("mysql"):
        pytest.skip("the README's SQL is written for SQLite and PostgreSQL")
    models = tmp_path / "models.json"
    environ = {"AISYNC_MOCK_MODELS": str(models)}
    syncer = Syncer(settings=load_settings({"database_url": database_url}, environ=environ))
    models.write_text(
        '[{"id": "a", "input_price_per_mtok": 1, "capabilities": ["vision"]}, {"id": "b"}]'
    )
    syncer.sync_models(["mock"])
    models.write_text(
        '[{"id": "a", "input_price_per_mtok": 2, "capabilities": ["vision"]}, {"id": "c"}]'
    )
    syncer.sync_models(["mock"], force=True)
    return syncer


@pytest.mark.parametrize("query", blocks("sql"), ids=lambda q: q.splitlines()[0][3:40])
def test_sql_examples_run(filled: Syncer, query: str) -> None:
    with filled.engine().connect() as connection:
        rows = connection.execute(text(query)).all()
    assert rows, f"the example returned nothing:\n{query}"
    filled.close()


def test_there_are_sql_examples() -> None:
    assert len(blocks("sql")) >= 5


def test_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for number, source in enumerate(blocks("python")):
        namespace: dict[str, object] = {"__name__": f"readme_example_{number}"}
        exec(compile(source, f"README.md python block {number}", "exec"), namespace)
    assert (tmp_path / "catalog.db").exists()
