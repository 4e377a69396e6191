"""`aisync export`: the documented shape in JSON, JSON Lines and CSV, checked against SQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from aisync.catalog.export import EXPORT_FIELDS
from aisync.cli import cli
from tests.catalog_data import fill


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return fill(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path)


def export(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(cli, ["export", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def current(env: dict[str, str]) -> list[tuple[Any, ...]]:
    engine = create_engine(env["AISYNC_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT provider, model_id, display_name, input_price_per_mtok, version"
                " FROM current_models ORDER BY provider, model_id"
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_json_is_utf8_sorted_one_object_per_model(env: dict[str, str]) -> None:
    raw = export(env).stdout_bytes
    assert "Modèle γ".encode() not in raw  # gamma was removed; the export is the current catalog
    models = json.loads(raw.decode("utf-8"))
    assert [
        (m["provider"], m["model_id"], m["display_name"], m["input_price_per_mtok"], m["version"])
        for m in models
    ] == current(env)
    for model in models:
        assert list(model) == sorted(EXPORT_FIELDS)
    assert raw.decode("utf-8") == json.dumps(models, indent=2, sort_keys=True) + "\n"


def test_non_ascii_is_written_as_utf8(env: dict[str, str], tmp_path: Path) -> None:
    models = tmp_path / "mock.json"
    models.write_text(json.dumps([{"id": "ü-1", "display_name": "Modèle γ"}]), encoding="utf-8")
    sync = CliRunner().invoke(
        cli, ["sync-models", "--provider", "mock", "--force", "--allow-removals"], env=env
    )
    assert sync.exit_code == 0, sync.output
    raw = export(env, "--provider", "mock").stdout_bytes
    assert '"display_name": "Modèle γ"'.encode() in raw


def test_jsonl_one_object_per_line(env: dict[str, str]) -> None:
    lines = export(env, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["model_id"] for line in lines] == [r[1] for r in current(env)]
    assert all(line == json.dumps(json.loads(line), sort_keys=True) for line in lines)


def test_csv_header_and_cells(env: dict[str, str]) -> None:
    rows = list(csv.reader(io.StringIO(export(env, "--format", "csv").stdout)))
    assert tuple(rows[0]) == EXPORT_FIELDS
    by_id = {row[1]: dict(zip(EXPORT_FIELDS, row, strict=True)) for row in rows[1:]}
    assert by_id["alpha"]["capabilities"] == "chat;vision;function_calling"
    assert by_id["alpha"]["input_price_per_mtok"] == "2.0"
    assert by_id["delta"]["display_name"] == ""
    assert len(by_id) == len(current(env))


def test_provider_filter_and_output_file(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = export(env, "--format", "jsonl", "--provider", "mock-eu", "--output", str(target))
    assert result.stdout == ""
    assert result.stderr == f"Exported 1 model to {target}\n"
    [line] = target.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["model_id"] == "eu-one"


def test_unwritable_output_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", "--output", str(tmp_path / "missing-dir" / "x.json")], env=env
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Cannot write ")
