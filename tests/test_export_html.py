"""`aisync export --format html`: one self-contained page, checked as a file and in a real
browser (Debian's chromium, headless, driven by Playwright).

The catalog is the one real syncs leave (tests/catalog_data.py), plus an override that
gives `alpha` a deprecation date and a model whose id tries to close the data block.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aisync.catalog import Catalog
from aisync.catalog.page import page_data
from tests import databases
from tests.catalog_data import fill
from tests.cli import run

CHROMIUM = os.environ.get("AISYNC_TEST_CHROMIUM", "/usr/bin/chromium")
HOSTILE_ID = "</script><script>window.pwned = 1</script><!--"
HOSTILE_NAME = '<img src=x onerror="window.pwned = 2">'


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The shared history catalog; then `alpha` gets a deprecation date by override and the
    `mock` instance lists a model with a hostile id and name, in one more sync."""
    env = fill(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path)
    models = Path(env["AISYNC_MOCK_MODELS"])
    listed = json.loads(models.read_text(encoding="utf-8"))
    listed.append({"id": HOSTILE_ID, "display_name": HOSTILE_NAME, "context_window": 1})
    models.write_text(json.dumps(listed), encoding="utf-8")
    ok(run(["override", "set", "mock/alpha", "deprecation_date", "2020-01-31"], env))
    ok(run(["sync-models", "--force", "--provider", "mock"], env))
    return env


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def export_page(env: dict[str, str], path: Path, *args: str) -> str:
    result = ok(run(["export", "--format", "html", "-o", str(path), *args], env))
    assert f"to {path}" in result.stderr
    return path.read_text(encoding="utf-8")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_block(page: str) -> Any:
    found = re.search(r'<script type="application/json" id="catalog-data">(.*?)</script>', page)
    assert found is not None
    return json.loads(found.group(1))


def test_the_page_loads_nothing_from_anywhere(env: dict[str, str], tmp_path: Path) -> None:
    page = export_page(env, tmp_path / "catalog.html")
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"<(img|iframe|object|embed)\b", page, re.IGNORECASE)
    assert "@import" not in page
    assert not re.search(r"url\s*\(", page, re.IGNORECASE)
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", page, re.IGNORECASE)
    assert "default-src 'none'" in page  # and the browser refuses anything else


def test_the_data_block_holds_what_the_json_export_holds(
    env: dict[str, str], tmp_path: Path
) -> None:
    data = data_block(export_page(env, tmp_path / "catalog.html"))
    exported = json.loads(ok(run(["export", "--format", "json"], env)).stdout)
    unpacked = []
    for row in data["models"]:
        model = dict(zip(data["fields"], row, strict=True))
        model["field_sources"] = data["sources"][model["field_sources"]]
        unpacked.append(model)
    for model in exported:
        for name in ("first_seen_at", "last_seen_at", "version_created_at"):
            moment = datetime.fromisoformat(model[name]).astimezone(UTC)
            model[name] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert unpacked == exported
    alpha = next(m for m in unpacked if m["model_id"] == "alpha")
    assert alpha["deprecation_date"] == "2020-01-31"
    assert alpha["field_sources"]["deprecation_date"] == "override"


def test_a_script_end_in_a_model_id_stays_inside_the_data(
    env: dict[str, str], tmp_path: Path
) -> None:
    page = export_page(env, tmp_path / "catalog.html")
    # The version, the data and the page's own script: no model text closes a block.
    assert page.lower().count("</script") == 3
    assert "<!--" not in page and HOSTILE_NAME not in page
    data = data_block(page)
    ids = {row[data["fields"].index("model_id")] for row in data["models"]}
    names = {row[data["fields"].index("display_name")] for row in data["models"]}
    assert HOSTILE_ID in ids and HOSTILE_NAME in names


@pytest.mark.parametrize("limit", [1, 2, 20])
def test_history_is_the_recent_changes_and_the_last_few_per_model(
    env: dict[str, str], limit: int
) -> None:
    """Every change of the window, then each listed model's newest older changes up to
    `limit` in all (limit 1: some models changed that often lately, so the whole window is
    read; 20: every model's whole history)."""
    with Catalog(env["AISYNC_DATABASE_URL"]) as catalog:
        everything = catalog.changes()
        data = page_data(catalog, recent_days=5, history_limit=limit)
    cutoff = datetime.now(UTC) - timedelta(days=5)
    recent = [c for c in everything if c.changed_at >= cutoff]
    assert 0 < len(recent) < len(everything)  # the first run is ten days old
    assert data["recent"] == len(recent)
    keys = [(provider, model_id) for provider, model_id in data["keys"]]
    listed = keys[: len(data["models"])]
    older: list[Any] = []
    for key in listed:
        new = sum((c.provider, c.model_id) == key for c in recent)
        own = [c for c in everything if (c.provider, c.model_id) == key and c not in recent]
        older += own[: max(0, limit - new)]
    expected = recent + sorted(older, key=everything.index)
    assert [
        (keys[key], at, change, version) for key, at, change, version, *_ in data["changes"]
    ] == [((c.provider, c.model_id), stamp(c.changed_at), c.change, c.version) for c in expected]
    # gamma was removed within the five days: on the page for that removal only.
    assert ("mock", "gamma") in keys and ("mock", "gamma") not in listed
    if limit == 2:  # before the window: eu-one's addition; the others changed twice since
        assert [(c.model_id, c.change) for c in older] == [("eu-one", "added")]
    if limit == 20:  # all of it but gamma's addition: a removed model's older history
        assert len(data["changes"]) == len(everything) - 1


@pytest.mark.parametrize("backend", databases.backend_params())
def test_the_newest_changes_of_each_model(backend: str, tmp_path: Path) -> None:
    """`Catalog.changes(latest_per_model=N)`: the page's bounded history, on every backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        url = databases.empty_server_database(databases.SERVER_URLS[backend])
    fill(url, tmp_path)
    with Catalog(url) as catalog:
        everything = catalog.changes()
        newest = catalog.changes(latest_per_model=1)
        two = catalog.changes(provider="mock", latest_per_model=2)
    models = {(c.provider, c.model_id) for c in everything}
    assert len(newest) == len(models)
    for provider, model_id in models:
        own = [c for c in everything if (c.provider, c.model_id) == (provider, model_id)]
        assert [c for c in newest if (c.provider, c.model_id) == (provider, model_id)] == own[:1]
        if provider == "mock":
            assert [c for c in two if c.model_id == model_id] == own[:2]
    assert {c.provider for c in two} == {"mock"}


def test_html_goes_to_stdout_and_takes_a_provider(env: dict[str, str]) -> None:
    page = ok(run(["export", "--format", "html", "--provider", "mock-eu"], env)).stdout
    data = data_block(page)
    assert data["provider"] == "mock-eu"
    assert [row[1] for row in data["models"]] == ["eu-one"]
    assert {key[0] for key in data["keys"]} == {"mock-eu"}


# In a real browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium from the system (never a browser Playwright downloads)."""
    executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if executable is None:
        pytest.skip(f"chromium is not installed ({CHROMIUM}; apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox"],  # CI runs as root, where chromium's sandbox cannot start
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab that fails the test on a script error, a dialog or any network request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    tab.on(
        "request",
        lambda request: None if request.url.startswith("file://") else problems.append(request.url),
    )
    try:
        yield tab
    finally:
        context.close()
    assert problems == []


def open_page(tab: Any, path: Path) -> None:
    tab.goto(path.as_uri())
    tab.wait_for_selector("html[data-ready]")


def model_rows(tab: Any) -> Any:
    return tab.locator("#model-table tbody tr.model")


def column(tab: Any, index: int) -> list[str]:
    return [
        text.strip() for text in model_rows(tab).locator(f"td:nth-child({index})").all_inner_texts()
    ]


def test_in_chromium_sort_filter_history_and_a_screenshot(
    env: dict[str, str], tmp_path: Path, page: Any
) -> None:
    path = tmp_path / "catalog.html"
    export_page(env, path)
    open_page(page, path)
    assert page.locator("#status").inner_text() == "5 models"
    assert page.locator("#summary").inner_text().startswith("5 models from 2 providers, as of ")
    assert column(page, 1) == ["mock", "mock", "mock", "mock", "mock-eu"]
    assert page.locator("th[data-key=provider]").get_attribute("aria-sort") == "ascending"

    page.get_by_role("button", name="Input $/M").click()
    header = page.locator("th[data-key=input_price]")
    assert header.get_attribute("aria-sort") == "ascending"
    assert page.locator("th[data-key=provider]").get_attribute("aria-sort") is None
    assert column(page, 5) == ["$0.25", "$0.5", "$2", "", ""]  # unknown prices last
    page.get_by_role("button", name="Input $/M").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert column(page, 5) == ["$2", "$0.5", "$0.25", "", ""]  # ... in both directions
    page.get_by_role("button", name="Context").click()
    assert column(page, 3) == ["1", "2,000", "8,192", "", ""]

    page.get_by_label("Filter").fill("MOCK-EU")
    assert model_rows(page).count() == 1
    assert page.locator("#status").inner_text() == "1 of 5 models"
    page.get_by_label("Filter").fill("vision mock")
    assert sorted(column(page, 2)) == ["alpha\nAlpha", "delta"]
    page.get_by_label("Filter").fill("")
    page.get_by_label("Provider").select_option("mock-eu")
    assert column(page, 2) == ["eu-one"]
    page.get_by_label("Provider").select_option("")
    assert model_rows(page).count() == 5

    hostile = model_rows(page).filter(has_text="window.pwned")
    assert hostile.locator("button.id").inner_text() == HOSTILE_ID
    assert hostile.locator(".name").inner_text() == HOSTILE_NAME
    assert page.evaluate("() => window.pwned") is None

    alpha = model_rows(page).filter(has_text="Alpha")
    assert alpha.locator("td:nth-child(8)").inner_text() == "2020-01-31"
    alpha.get_by_role("button", name="alpha").click()
    assert alpha.get_by_role("button", name="alpha").get_attribute("aria-expanded") == "true"
    history = page.locator("tr.detail")
    assert history.count() == 1
    text = history.inner_text()
    assert "mock / alpha" in text
    assert "Input $/M tokens: $1 → $2" in text
    assert "Deprecation: – → 2020-01-31 (override)" in text
    assert [
        item.split(" ")[0] for item in history.locator(".history > ol > li").all_inner_texts()
    ] == [
        "changed",
        "changed",
        "added",
    ]
    recent = page.locator("#recent-table tbody tr")
    assert recent.count() == data_block(path.read_text(encoding="utf-8"))["recent"] > 0

    # The top of the page: heading, controls, the first rows (a clip keeps decoding quick).
    shot = page.screenshot(clip={"x": 0, "y": 0, "width": 800, "height": 450})
    assert len(shot) > 10_000
    assert distinct_colours(shot) > 8


def test_in_chromium_ten_thousand_models_render_in_chunks(tmp_path: Path, page: Any) -> None:
    """Functional, not timed (benchmarks/bench_catalog_page.py has the figures): the page
    opens, holds one chunk of rows, filters and sorts all 10,000 in memory."""
    models = tmp_path / "models.json"
    listed = [
        {
            "id": f"model-{n:05d}",
            "display_name": f"Model {n}",
            "context_window": 1000 + n,
            "input_price_per_mtok": (n * 7919) % 10_000 / 100,
            "capabilities": ["chat", "vision"] if n % 2 else ["chat"],
        }
        for n in range(10_000)
    ]
    models.write_text(json.dumps(listed), encoding="utf-8")
    env = {
        "AISYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'big.db'}",
        "AISYNC_MOCK_MODELS": str(models),
    }
    ok(run(["sync-models", "--quiet", "--provider", "mock"], env))
    path = tmp_path / "catalog.html"
    export_page(env, path)
    assert path.stat().st_size < 4_000_000

    open_page(page, path)
    assert page.locator("#status").inner_text() == "10,000 models, showing the first 200"
    assert model_rows(page).count() == 200
    page.get_by_role("button", name="Show 200 more").click()
    assert model_rows(page).count() == 400

    page.get_by_role("button", name="Input $/M").click()
    prices = [float(p.lstrip("$")) for p in column(page, 5)]
    assert len(prices) == 200 and prices == sorted(prices) and prices[0] == 0
    page.get_by_label("Filter").fill("model-0999")
    assert model_rows(page).count() == 10
    page.get_by_label("Filter").fill("vision")
    assert page.locator("#status").inner_text() == "5,000 of 10,000 models, showing the first 200"
    assert page.locator("#model-table tbody tr").count() == 200


def distinct_colours(png: bytes) -> int:
    """How many different pixels an 8-bit RGB(A) PNG holds, decoded with the stdlib."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, list[bytes]] = {}
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        chunks.setdefault(kind, []).append(png[offset + 8 : offset + 8 + length])
        offset += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert depth == 8 and colour_type in (2, 6)
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        line = unfilter(
            raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels
        )
        colours.update(bytes(line[x : x + channels]) for x in range(0, stride, channels * 7))
        previous = line
    return len(colours)


def unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    """Undo one scanline's PNG filter (None, Sub, Up, Average, Paeth)."""
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        corner = previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 0xFF
    return line
