"""Live progress: pages attributed to the provider whose fetch thread received them, and
the board a terminal shows while a sync runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from aisync import Syncer, load_settings
from aisync.cli.render import _Board
from aisync.report import ProviderResult
from aisync.sync.progress import PagesFetched
from tests.fakeserver import Reply


def page(ids: list[str], has_more: bool) -> dict[str, Any]:
    """One page of Anthropic's Models API."""
    return {
        "data": [
            {"type": "model", "id": i, "display_name": i, "created_at": "2025-01-01T00:00:00Z"}
            for i in ids
        ],
        "has_more": has_more,
        "first_id": ids[0],
        "last_id": ids[-1],
    }


def test_pages_are_reported_per_provider(fake_server: Any, tmp_path: Path) -> None:
    fake_server.route(
        "/v1/models",
        Reply(body=page(["claude-a", "claude-b"], True)),
        Reply(body=page(["claude-c"], True)),
        Reply(body=page(["claude-d"], False)),
    )
    config = tmp_path / "aisync.toml"
    config.write_text(
        f'[providers.paged]\ntype = "anthropic"\nbase_url = "{fake_server.url}"\napi_key = "k"\n'
    )
    settings = load_settings(
        {"database_url": f"sqlite:///{tmp_path / 'catalog.db'}"}, environ={}, config_path=config
    )
    events: list[object] = []
    syncer = Syncer(settings=settings)
    try:
        report = syncer.sync_models(["paged"], progress=events.append)
    finally:
        syncer.close()
    assert report.exit_code == 0
    pages = [e for e in events if isinstance(e, PagesFetched)]
    assert pages == [PagesFetched("paged", 1), PagesFetched("paged", 2), PagesFetched("paged", 3)]
    assert isinstance(events[-1], ProviderResult) and events[-1].models_found == 4


def test_board_shows_pages_and_models_so_far() -> None:
    board = _Board("Syncing models from AI providers...")
    board.update(PagesFetched("openrouter", 3))
    board.update(PagesFetched("gemini", 2))
    board.update(ProviderResult("gemini", "synced", models_found=45))
    console = Console(record=True, width=80, force_terminal=True, color_system=None)
    console.print(board)
    text = console.export_text()
    assert "openrouter  3 pages fetched" in text
    assert "✓ gemini  2 pages fetched, 45 models" in text
    assert "45 models so far" in text


def test_a_failing_progress_callback_costs_no_provider(fake_server: Any, tmp_path: Path) -> None:
    """The callback is the embedder's display: whatever it raises, for a page, a fetch
    starting or a result, the sync goes on and reports as if nobody watched."""
    fake_server.route("/v1/models", Reply(body=page(["claude-a"], False)))
    config = tmp_path / "aisync.toml"
    config.write_text(
        f'[providers.paged]\ntype = "anthropic"\nbase_url = "{fake_server.url}"\napi_key = "k"\n'
    )
    settings = load_settings(
        {"database_url": f"sqlite:///{tmp_path / 'catalog.db'}"}, environ={}, config_path=config
    )
    seen: list[object] = []

    def broken(event: object) -> None:
        seen.append(event)
        raise RuntimeError("display gone")

    syncer = Syncer(settings=settings)
    try:
        report = syncer.sync_models(["paged"], progress=broken)
    finally:
        syncer.close()
    assert report.exit_code == 0, report.results
    assert report.results[0].models_found == 1
    assert any(isinstance(e, PagesFetched) for e in seen)
    assert any(isinstance(e, ProviderResult) for e in seen)
