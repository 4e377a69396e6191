"""Big catalogs stream: `export` and `models` write rows as the database returns them.

What they write is byte for byte what the list-based API renders at once, on every backend
(`render_export` of `Catalog.export_rows()`, `print_json` and `render_models` of
`Catalog.models()`); and the iterators really are lazy: the first model of a big catalog
arrives before the rest are read.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from aisync.catalog.catalog import Catalog
from aisync.catalog.export import EXPORT_FIELDS, FORMATS, render_export, write_export_columns
from aisync.catalog.records import as_dict
from aisync.cli import catalog_render
from aisync.cli.render import Output
from aisync.db.tables import UTCDateTime, models
from aisync.settings import load_settings
from aisync.sync.engine import Syncer
from tests.catalog_data import fill
from tests.cli import run

#: Enough models that reading them all costs far more memory than the first batch.
MANY = 20_000


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return fill(database_url, tmp_path)


def catalog_of(env: dict[str, str]) -> Catalog:
    return Catalog(env["AISYNC_DATABASE_URL"])


@pytest.mark.parametrize("format_", FORMATS)
def test_export_is_byte_identical_to_the_list_based_export(
    env: dict[str, str], format_: str
) -> None:
    with catalog_of(env) as catalog:
        expected = render_export(catalog.export_rows(), format_).encode("utf-8")
        streamed = list(catalog.iter_export_rows())
        batches = list(catalog.iter_export_columns())
    assert run(["export", "--format", format_], env).stdout_bytes == expected
    assert render_export(streamed, format_).encode("utf-8") == expected
    assert len(streamed) == 4
    by_columns = [
        dict(zip(EXPORT_FIELDS, row, strict=True))
        for batch in batches
        for row in zip(*batch, strict=True)
    ]
    assert by_columns == streamed
    written = io.BytesIO()
    assert write_export_columns(iter(batches), format_, written) == 4
    assert written.getvalue() == expected


@pytest.mark.parametrize("format_", FORMATS)
def test_export_to_a_file_is_the_same_bytes(
    env: dict[str, str], format_: str, tmp_path: Path
) -> None:
    target = tmp_path / f"out.{format_}"
    result = run(["export", "--format", format_, "--provider", "mock", "-o", str(target)], env)
    with catalog_of(env) as catalog:
        expected = render_export(catalog.export_rows(provider="mock"), format_)
    assert target.read_bytes() == expected.encode("utf-8")
    assert result.stderr == f"Exported 3 models to {target}\n"


@pytest.mark.parametrize(
    "options",
    [[], ["--sort", "-input_price_per_mtok"], ["--include-removed", "--sort", "model_id"]],
)
def test_models_json_and_piped_table_are_what_the_lists_render(
    env: dict[str, str], options: list[str]
) -> None:
    removed = "--include-removed" in options
    sort = options[options.index("--sort") + 1] if "--sort" in options else "provider"
    with catalog_of(env) as catalog:
        found = catalog.models(sort=sort, include_removed=removed)
        assert list(catalog.iter_models(sort=sort, include_removed=removed)) == found
    expected_json = json.dumps(as_dict(found), indent=2, sort_keys=True, ensure_ascii=False)
    assert run(["models", "--json", *options], env).stdout == expected_json + "\n"
    with CliRunner().isolation() as (stdout, *_):
        catalog_render.render_models(found, Output(), removed=removed)
        expected_table = stdout.getvalue().decode("utf-8")
    assert run(["models", *options], env).stdout == expected_table
    assert ("gamma" in expected_table) == removed


def test_last_seen_at_is_the_views_for_listed_models_and_the_rows_for_removed_ones(
    env: dict[str, str],
) -> None:
    """The reads get each provider's last successful sync once (a join), where the view
    `current_models` runs a subquery per row: the same times, after syncs, a failure and
    a removal."""
    engine = create_engine(env["AISYNC_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            view = text("SELECT provider, model_id, last_seen_at FROM current_models")
            listed = {
                (row.provider, row.model_id): row.last_seen_at
                for row in connection.execute(view.columns(last_seen_at=UTCDateTime()))
            }
            removed = {
                (row.provider, row.model_id): row.last_seen_at
                for row in connection.execute(
                    select(models).where(models.c.removed_at.is_not(None))
                )
            }
    finally:
        engine.dispose()
    with catalog_of(env) as catalog:
        found = {
            (m.provider, m.model_id): m.last_seen_at
            for m in catalog.iter_models(include_removed=True)
        }
        exported = {
            (r["provider"], r["model_id"]): r["last_seen_at"] for r in catalog.iter_export_rows()
        }
    assert removed and listed
    assert found == {**listed, **removed}
    assert exported == {key: seen.isoformat() for key, seen in listed.items()}


def test_limit_keeps_the_first_in_sort_order(env: dict[str, str]) -> None:
    sort = "-input_price_per_mtok"
    with catalog_of(env) as catalog:
        first = [m.model_id for m in catalog.models(sort=sort)][:2]
        assert [m.model_id for m in catalog.iter_models(sort=sort, limit=2)] == first
    listed = json.loads(run(["models", "--json", "--limit", "2", "--sort", sort], env).stdout)
    assert [m["model_id"] for m in listed] == first


def test_a_terminal_gets_a_table_of_the_first_limit_and_a_note(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = {**fill(sqlite_url, tmp_path), "TTY_COMPATIBLE": "1", "FORCE_COLOR": "1"}
    result = run(["models", "--limit", "2"], env)
    assert "Showing the first 2 models" in result.stderr
    assert result.stdout.count("mock") == 2
    everything = run(["models", "--limit", "0"], env)
    assert "Showing" not in everything.stderr
    assert "eu-one" in everything.stdout


def test_nothing_matches_is_a_note_and_an_empty_json_list(env: dict[str, str]) -> None:
    result = run(["models", "--search", "no-such-model"], env)
    assert (result.stdout, result.stderr) == ("", "No models match.\n")
    assert run(["models", "--json", "--search", "no-such-model"], env).stdout == "[]\n"
    assert run(["export", "--provider", "mock-eu", "--format", "csv"], env).stdout.count("\n") == 2


def test_an_unknown_provider_is_still_named_when_the_stream_is_empty(
    env: dict[str, str],
) -> None:
    for args in (["models", "--provider", "opnai"], ["export", "--provider", "opnai"]):
        result = run(args, env)
        assert result.exit_code == 1
        assert result.stderr.startswith("Unknown provider 'opnai'. Known:")


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One provider listing `MANY` models, synced once (SQLite)."""
    home = tmp_path_factory.mktemp("big")
    listing = home / "models.json"
    models = [
        {"id": f"model-{n:05d}", "display_name": f"Model {n}", "context_window": n}
        for n in range(MANY)
    ]
    listing.write_text(json.dumps(models), encoding="utf-8")
    url = f"sqlite:///{home / 'catalog.db'}"
    settings = load_settings({"database_url": url}, environ={"AISYNC_MOCK_MODELS": str(listing)})
    syncer = Syncer(settings=settings)
    try:
        syncer.sync_models(["mock"], force=True)
    finally:
        syncer.close()
    return url


def peak_bytes(step: object) -> int:
    tracemalloc.start()
    try:
        step()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_first_row_arrives_before_the_rest_are_read(big_catalog: str) -> None:
    with Catalog(big_catalog) as catalog:
        whole = peak_bytes(lambda: catalog.export_rows())
        rows = catalog.iter_export_rows()
        first = peak_bytes(lambda: next(rows))
        assert next(rows)["model_id"] == "model-00001"
        rows.close()
        models = catalog.iter_models(sort="model_id")
        assert next(models).model_id == "model-00000"
        models.close()
    assert first * 5 < whole, (first, whole)


def test_a_closed_iterator_releases_its_connection(big_catalog: str) -> None:
    """More iterators than the connection pool holds: a leaked connection would block."""
    with Catalog(big_catalog) as catalog:
        for _ in range(20):
            rows = catalog.iter_export_rows()
            next(rows)
            rows.close()
        assert len(catalog.models()) == MANY
