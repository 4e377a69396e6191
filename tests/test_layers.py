"""The house rules, seen from a fresh interpreter: what importing one layer loads.

`lint-imports` (pyproject `[tool.importlinter]`, run by .ci/run) checks every import
statically; these tests check what really loads, lazy imports included.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: What a plugin author reads: the hookspecs and every type a hook sees or returns.
CONTRACT = (
    "aisync.hookspecs",
    "aisync.records",
    "aisync.report",
    "aisync.errors",
    "aisync.fields",
    "aisync.context",
    "aisync.settings",
    "aisync.http",
    "aisync.notify_settings",
    "aisync.jsontext",
)


def _loaded_after(*modules: str) -> list[str]:
    code = (
        "import json, sys\n"
        + "".join(f"import {module}\n" for module in modules)
        + "print(json.dumps(sorted(m for m in sys.modules if m.startswith('aisync'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_contract_loads_nothing_else_of_aisync() -> None:
    loaded = _loaded_after(*CONTRACT)
    assert set(loaded) <= {"aisync", *CONTRACT}, loaded


@pytest.mark.parametrize("module", ["aisync.db.ledger", "aisync.db.repository"])
def test_storage_loads_no_orchestration(module: str) -> None:
    loaded = _loaded_after(module)
    upward = [m for m in loaded if m.startswith(("aisync.sync", "aisync.catalog", "aisync.cli"))]
    assert upward == [], upward


def test_a_builtin_plugin_loads_the_contract_alone() -> None:
    loaded = _loaded_after("aisync_providers.openrouter", "aisync_providers.models_dev")
    engine = [m for m in loaded if m.startswith(("aisync.sync", "aisync.catalog", "aisync.db"))]
    assert engine == [], engine
