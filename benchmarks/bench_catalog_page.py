"""The catalog page (`aisync export --format html`) for 10,000 models: size, export, browser.

A catalog of 10,000 mock models synced twice (every tenth model's price changes in the
second sync), written by `aisync sync-models` beforehand (untimed). Goals: the page under
4 MB; `export --format html` at most 2x `export --format json` of the same catalog (the
floor: the same `Catalog` rows, without the changelog and the page); in headless chromium
(`/usr/bin/chromium`, Playwright; skipped with a note when either is missing) the page
ready (data parsed, first 200 rows and the recent changes drawn) at most 3x the floor of a
page that only parses the same data block, and a sort by price and a filter over all
10,000 models each under 250 ms, measured inside the page.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import harness

MODELS = 10_000
SIZE_LIMIT_KB = 4_000.0
INTERACTION_LIMIT = 0.250
CHROMIUM = "/usr/bin/chromium"

#: The floor page: the same data block, parsed, and nothing drawn.
PARSE_ONLY = (
    '<!doctype html><meta charset="utf-8"><title>floor</title>'
    '<script type="application/json" id="catalog-data">{data}</script>'
    "<script>JSON.parse(document.getElementById('catalog-data').textContent);"
    "document.documentElement.dataset.ready = 'true';</script>"
)


def listing(changed: bool) -> list[dict[str, object]]:
    return [
        {
            "id": f"model-{n:05d}-20250101",
            "display_name": f"Model {n}",
            "context_window": 8192 * (1 + n % 16),
            "max_output_tokens": 4096 * (1 + n % 4),
            "input_price_per_mtok": round(
                0.1 + n % 50 / 10 + (1 if changed and n % 10 == 0 else 0), 2
            ),
            "output_price_per_mtok": round(0.3 + n % 70 / 10, 2),
            "capabilities": ["chat", "vision", "function_calling"][: 1 + n % 3],
        }
        for n in range(MODELS)
    ]


def build_catalog(home: Path) -> dict[str, str]:
    models = home / "models.json"
    env = harness.clean_environ(
        home,
        AISYNC_DATABASE_URL=f"sqlite:///{home / 'catalog.db'}",
        AISYNC_MOCK_MODELS=str(models),
        AISYNC_ENRICH="none",
    )
    for changed in (False, True):
        models.write_text(json.dumps(listing(changed)), encoding="utf-8")
        command = harness.aisync_command("sync-models", "--quiet", "--force", "--provider", "mock")
        harness.checked(harness.run_process(command, env))
    return env


def export_seconds(env: dict[str, str], format_: str, path: Path) -> float:
    command = harness.aisync_command("export", "--format", format_, "-o", str(path))
    return harness.checked(harness.run_process(command, env)).seconds


def browser_goals(page_path: Path, floor_path: Path) -> list[harness.Goal]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  (browser figures skipped: playwright is not installed)")
        return []
    if not os.path.isfile(CHROMIUM):
        print(f"  (browser figures skipped: no {CHROMIUM}; apt-get install chromium)")
        return []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

        def ready_seconds(path: Path) -> float:
            tab = browser.new_page()
            started = time.perf_counter()
            tab.goto(path.as_uri())
            tab.wait_for_selector("html[data-ready]", state="attached")
            seconds = time.perf_counter() - started
            tab.close()
            return seconds

        def in_page(script: str) -> float:
            tab = browser.new_page()
            tab.goto(page_path.as_uri())
            tab.wait_for_selector("html[data-ready]", state="attached")
            milliseconds = float(tab.evaluate(script))
            tab.close()
            return milliseconds / 1000

        floor = harness.median_of(lambda: ready_seconds(floor_path))
        ready = harness.median_of(lambda: ready_seconds(page_path))
        sort = harness.median_of(lambda: in_page(SORT_SCRIPT))
        filtered = harness.median_of(lambda: in_page(FILTER_SCRIPT))
        browser.close()
    return [
        harness.Goal("page ready in chromium (10,000 models)", ready, floor, at_most_ratio=3),
        harness.Goal("sort 10,000 models by input price", sort, at_most=INTERACTION_LIMIT),
        harness.Goal("filter 10,000 models ('vision')", filtered, at_most=INTERACTION_LIMIT),
    ]


SORT_SCRIPT = """() => {
  const started = performance.now();
  document.querySelector('th[data-key=input_price] button').click();
  return performance.now() - started;
}"""
FILTER_SCRIPT = """() => {
  const filter = document.getElementById('filter');
  const started = performance.now();
  filter.value = 'vision';
  filter.dispatchEvent(new Event('input'));
  return performance.now() - started;
}"""


def main() -> int:
    harness.header("catalog page", f"{MODELS:,} models, two syncs, SQLite")
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        env = build_catalog(home)
        page, floor_page = home / "catalog.html", home / "floor.html"
        json_floor = harness.median_of(lambda: export_seconds(env, "json", home / "c.json"))
        html = harness.median_of(lambda: export_seconds(env, "html", page))
        text = page.read_text(encoding="utf-8")
        found = re.search(r'id="catalog-data">(.*?)</script>', text, re.S)
        assert found is not None
        floor_page.write_text(PARSE_ONLY.format(data=found.group(1)), encoding="utf-8")
        size_kb = page.stat().st_size / 1000
        print(f"  page: {size_kb:,.0f} kB ({len(text):,} characters)")
        goals = [
            harness.Goal("page size", size_kb, at_most=SIZE_LIMIT_KB, unit="kB"),
            harness.Goal(
                "export --format html (floor: --format json)", html, json_floor, at_most_ratio=2
            ),
            *browser_goals(page, floor_page),
        ]
    return harness.report(goals)


if __name__ == "__main__":
    sys.exit(main())
