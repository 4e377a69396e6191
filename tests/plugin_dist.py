"""Install a throwaway plugin distribution with a real `aisync` entry point.

The distribution is a `*.dist-info` directory next to the plugin module on `sys.path`, so
`importlib.metadata` finds it exactly as it finds an installed package: the test exercises
the same entry-point loading a user's plugin goes through, in-process or in a subprocess
(pass the directory on `PYTHONPATH`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_plugin_dist(
    site: Path, *, dist: str, module: str, source: str, version: str = "1.0.0"
) -> Path:
    """Write `module.py` and a dist-info declaring it under the `aisync` entry-point group."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[aisync]\n{module} = {module}\n", encoding="utf-8")
    return site
