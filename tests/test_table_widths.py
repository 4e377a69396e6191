"""Tables fit the terminal: at 80, 120 and 160 columns no model id, provider name or status
is broken across lines; the least useful columns give way first."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from aisync.catalog.catalog import Catalog
from aisync.cli import catalog_render
from aisync.cli.render import Output
from aisync.cli.tables import print_table
from aisync.settings import load_settings

IDS = [
    "claude-3-5-haiku-20241022",
    "gpt-4.1-2025-04-14",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free",
    "text-embedding-3-large",
]
CAPS = ["chat", "vision", "function_calling", "structured_output", "reasoning"]
PROVIDERS = ["mock", "openrouter-eu-west"]
WIDTHS = [80, 120, 160]


def listing(price: float) -> list[dict[str, Any]]:
    return [
        {
            "id": model_id,
            "display_name": model_id.upper(),
            "context_window": 1047576,
            "max_output_tokens": 32768,
            "input_price_per_mtok": price,
            "output_price_per_mtok": 12.5,
            "capabilities": CAPS,
        }
        for model_id in IDS
    ]


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    """Two instances with long ids, synced twice (prices change) and once failing."""
    from aisync.cli import cli

    files = {name: tmp_path / f"{name}.json" for name in PROVIDERS}
    config = tmp_path / "aisync.toml"
    config.write_text(
        '[providers.openrouter-eu-west]\ntype = "mock"\n'
        f'options = {{ models = "{files["openrouter-eu-west"]}" }}\n'
    )
    env = {
        "AISYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "AISYNC_CONFIG": str(config),
        "AISYNC_MOCK_MODELS": str(files["mock"]),
    }
    for price in (2.0, 3.0):
        for path in files.values():
            path.write_text(json.dumps(listing(price)))
        args = ["sync-models", "--force", "--provider", "mock", "--provider", PROVIDERS[1]]
        assert CliRunner().invoke(cli, args, env=env).exit_code == 0
    files["mock"].write_text("not json")
    CliRunner().invoke(cli, ["sync-models", "--force", "--provider", "mock"], env=env)
    return load_settings({"database_url": env["AISYNC_DATABASE_URL"]}, config_path=config)


def rendered(width: int, render: Callable[[Output], None]) -> str:
    output = Output()
    output.out = Console(
        file=io.StringIO(),
        width=width,
        force_terminal=True,
        color_system=None,
        soft_wrap=True,
        highlight=False,
    )
    render(output)
    text = output.out.file.getvalue()  # type: ignore[attr-defined]
    for line in text.splitlines():
        assert len(line) <= width, f"{len(line)} > {width}: {line!r}\n{text}"
    return text


def assert_whole(text: str, words: list[str]) -> None:
    for word in words:
        assert word in text, f"{word!r} is broken or missing:\n{text}"


@pytest.mark.parametrize("width", WIDTHS)
def test_models_fit(settings: Any, width: int) -> None:
    with Catalog(settings=settings) as catalog:
        found = catalog.models()
    text = rendered(width, lambda o: catalog_render.render_models(found, o, removed=False))
    assert_whole(text, [*IDS, *PROVIDERS])
    if width >= 120:
        assert "CONTEXT" in text and "1047576" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_runs_fit(settings: Any, width: int) -> None:
    with Catalog(settings=settings) as catalog:
        found = catalog.runs()
    text = rendered(width, lambda o: catalog_render.render_runs(found, o))
    assert_whole(text, ["succeeded", "failed"])
    assert "STATUS" in text or "Status" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_run_fits(settings: Any, width: int) -> None:
    with Catalog(settings=settings) as catalog:
        run = catalog.run(2)
    text = rendered(width, lambda o: catalog_render.render_run(run, o))
    assert_whole(text, [*PROVIDERS, "synced"])


@pytest.mark.parametrize("width", WIDTHS)
def test_providers_fit(settings: Any, width: int) -> None:
    with Catalog(settings=settings) as catalog:
        found = catalog.providers()
    text = rendered(width, lambda o: catalog_render.render_providers(found, o))
    assert_whole(text, PROVIDERS)


@pytest.mark.parametrize("width", WIDTHS)
def test_changes_fit(settings: Any, width: int) -> None:
    with Catalog(settings=settings) as catalog:
        found = catalog.changes()
    text = rendered(width, lambda o: catalog_render.render_changes(found, o))
    assert_whole(text, [*IDS, *PROVIDERS, "changed", "added"])


@pytest.mark.parametrize("width", WIDTHS)
def test_stats_fit(settings: Any, width: int) -> None:
    with Catalog(settings=settings) as catalog:
        found = catalog.stats()
    text = rendered(width, lambda o: catalog_render.render_stats(found, o, history=False))
    assert_whole(text, PROVIDERS)


def test_one_record_per_block_when_nothing_fits() -> None:
    rows = [("a-very-long-model-identifier-that-cannot-break", "succeeded")]
    text = rendered(
        60, lambda o: print_table(o, ("MODEL", "STATUS"), rows, solid=("MODEL", "STATUS"))
    )
    assert text.splitlines() == [
        "MODEL:  a-very-long-model-identifier-that-cannot-break",
        "STATUS: succeeded",
    ]
