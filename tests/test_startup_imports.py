"""What `aisync --help` and the catalog commands load: start-up time is a goal (README
Performance), and a module-level import in a renderer once pulled the plugin machinery
into every command."""

from __future__ import annotations

import json
import subprocess
import sys

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


def loaded_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_importing_the_cli_loads_no_plugin_machinery_http_or_database() -> None:
    loaded = loaded_after("import aisync.cli")
    assert not [name for name in HEAVY if name in loaded]


def test_help_loads_no_rich() -> None:
    loaded = loaded_after("import aisync.cli")
    assert not [name for name in RENDERING if name in loaded]
