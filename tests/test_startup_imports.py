"""What `aisync --help`, the catalog commands and an all-fresh `sync-models` load: start-up
time is a goal (README Performance), and a module-level import in a renderer once pulled
the plugin machinery into every command. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: Loaded only by commands that sync or discover providers.
HEAVY = (
    "pluggy",
    "httpx",
    "sqlalchemy",
    "aisync.sync.discovery",
    "aisync.sync.plugins",
    "aisync.sync.engine",
)
#: Loaded only when something is rendered: `aisync --help` prints with click alone.
RENDERING = ("rich", "rich.console", "rich.table")
#: Loaded only when a provider is fetched: an all-fresh run (the cron path) fetches nothing.
FETCHING = ("httpx", "httpcore", "aisync.http", "aisync.sync.fetch", "aisync.sync.writing")
#: The catalog commands and their renderers, which `sync-models` never runs.
CATALOG_COMMANDS = ("aisync.cli.browse", "aisync.cli.catalog_render", "aisync.cli.export")


def loaded_after(code: str) -> set[str]:
    return _run(code)[1]


def run_cli(*args: str) -> tuple[str, set[str]]:
    """The real CLI in a fresh interpreter: what it printed, and every module it loaded."""
    code = f"from aisync.cli import cli\ntry:\n    cli.main({list(args)!r}, 'aisync')\n"
    code += "except SystemExit as exc:\n    assert not exc.code, exc.code"
    return _run(code)


def _run(code: str) -> tuple[str, set[str]]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    *printed, modules = out.splitlines()
    return "\n".join(printed), set(json.loads(modules))


def test_importing_the_cli_loads_no_plugin_machinery_http_or_database() -> None:
    loaded = loaded_after("import aisync.cli")
    assert not [name for name in HEAVY if name in loaded]


def test_help_loads_no_rich() -> None:
    loaded = loaded_after("import aisync.cli")
    assert not [name for name in RENDERING if name in loaded]


def test_help_loads_no_database_http_or_rendering() -> None:
    printed, loaded = run_cli("--help")
    assert "sync-models" in printed
    assert not [name for name in (*HEAVY, *RENDERING) if name in loaded]


def test_a_command_loads_its_own_module_alone() -> None:
    printed, loaded = run_cli("sync-models", "--help")
    assert "--force" in printed
    assert "aisync.cli.sync" in loaded
    assert not [name for name in (*CATALOG_COMMANDS, *HEAVY, *RENDERING) if name in loaded]


def test_an_all_fresh_sync_loads_no_http_client_and_no_rich(tmp_path: Path) -> None:
    options = ("--provider", "mock", "--database-url", f"sqlite:///{tmp_path / 'catalog.db'}")
    run_cli("sync-models", "--quiet", *options)  # the first sync fetches
    printed, loaded = run_cli("sync-models", "--quiet", *options)
    assert printed == ""
    assert not [name for name in (*FETCHING, *RENDERING, *CATALOG_COMMANDS) if name in loaded]
    report, loaded = run_cli("sync-models", "--json", *options)
    assert json.loads(report)["providers"][0]["reason"] == "cache_valid"
    assert not [name for name in (*FETCHING, *RENDERING) if name in loaded]
