"""Regenerate `providers/presets.json` from a models.dev `api.json`, in one command.

    python scripts/generate_presets.py path/to/api.json [--readme README.md]

Every provider models.dev files under an OpenAI-compatible SDK package (`OPENAI_PACKAGES`)
with an `api` base URL becomes a preset, unless a built-in module serves it or its URL
holds an account-specific placeholder; `providers/presets_overlay.toml` then applies the
hand corrections, each with its reason. Every provider left out is recorded with why, so a
test can check that nothing models.dev adds is silently dropped. With `--readme`, the
supported-providers table between the README's markers is rewritten from the same data.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OVERLAY = ROOT / "providers" / "presets_overlay.toml"
OUTPUT = ROOT / "providers" / "presets.json"
#: models.dev's SDK packages whose providers answer the OpenAI wire format.
OPENAI_PACKAGES = ("@ai-sdk/openai-compatible", "@ai-sdk/openai")
#: Built-in provider type -> the models.dev provider it covers: never shadowed by a preset.
BUILTINS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "xai": "xai",
    "groq": "groq",
    "deepseek": "deepseek",
    "mistral": "mistral",
    "openrouter": "openrouter",
    "ollama": "ollama",
}


def openai_compatible(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """models.dev id -> entry, for every provider with an OpenAI-compatible `api` URL."""
    return {
        key: entry
        for key, entry in sorted(data.items())
        if isinstance(entry, dict)
        and entry.get("npm") in OPENAI_PACKAGES
        and isinstance(entry.get("api"), str)
    }


def generate(data: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """The presets file's content: presets sorted by name, and the exclusions with reasons."""
    presets: dict[str, dict[str, Any]] = {}
    excluded: dict[str, str] = {}
    builtin_ids = set(BUILTINS) | set(BUILTINS.values())
    for key, entry in openai_compatible(data).items():
        if key in builtin_ids:
            excluded[key] = "built-in provider with its own module"
        elif "${" in entry["api"]:
            excluded[key] = (
                "the base URL holds an account-specific placeholder; declare an instance "
                'of type "openai-compatible" with your base_url'
            )
        elif key in overlay.get("exclude", {}):
            excluded[key] = overlay["exclude"][key]
        else:
            presets[key] = _from_models_dev(key, entry)
    for name, added in overlay.get("add", {}).items():
        presets[name] = _added(name, added)
    for name, patch in overlay.get("patch", {}).items():
        presets[name].update({k: v for k, v in patch.items() if k != "reason"})
    for name, reason in overlay.get("local", {}).items():
        presets[name].update(local=True, reason=reason)
    for name, reason in overlay.get("named_only", {}).items():
        presets[name].update(named_only=True, reason=reason)
    _mark_shared_keys(presets, overlay.get("shared_keys", {}))
    for preset in presets.values():
        if preset.get("local"):
            preset["named_only"] = True
    return {
        "source": "models.dev api.json, corrected by providers/presets_overlay.toml",
        "presets": [_ordered(presets[name]) for name in sorted(presets)],
        "excluded": dict(sorted(excluded.items())),
    }


def _from_models_dev(key: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": key,
        "display_name": str(entry.get("name") or key),
        "base_url": str(entry["api"]).rstrip("/"),
        "env": [str(v) for v in entry.get("env") or []],
        "models_dev": key,
        "doc": entry.get("doc"),
    }


def _added(name: str, added: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": added["display_name"],
        "base_url": added.get("base_url"),
        "env": list(added.get("env", [])),
        "models_dev": added.get("models_dev"),
        "local": added.get("local", False),
        "named_only": added.get("named_only", False),
        "reason": added["reason"],
    }


def _mark_shared_keys(presets: dict[str, dict[str, Any]], defaults: Mapping[str, str]) -> None:
    """Of the presets sharing a key variable, only the overlay's choice is discovered by it."""
    readers: dict[str, list[str]] = {}
    for name, preset in presets.items():
        for variable in preset["env"]:
            readers.setdefault(variable, []).append(name)
    for variable, names in readers.items():
        if len(names) < 2:
            continue
        chosen = defaults.get(variable)
        if chosen not in names:
            raise SystemExit(
                f"{variable} is read by {', '.join(names)}: name the one discovered by "
                "default under [shared_keys] in presets_overlay.toml"
            )
        for name in names:
            if name != chosen and not presets[name].get("named_only"):
                presets[name].update(
                    named_only=True, reason=f"shares {variable} with {chosen}, the default"
                )


_FIELDS = ("name", "display_name", "base_url", "env", "models_dev", "list_path", "doc")


def _ordered(preset: Mapping[str, Any]) -> dict[str, Any]:
    """Fixed key order, defaults left out: a diff of the file shows only what changed."""
    result = {k: preset[k] for k in _FIELDS if preset.get(k) is not None}
    for flag in ("local", "named_only"):
        if preset.get(flag):
            result[flag] = True
    if preset.get("reason"):
        result["reason"] = preset["reason"]
    return result


def render(content: Mapping[str, Any]) -> str:
    return json.dumps(content, indent=1, ensure_ascii=False) + "\n"


def update_readme(readme: Path) -> None:
    """Rewrite the table between the README's supported-providers markers."""
    from aisync_providers.presets import README_END, README_START, load_presets, readme_table

    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    table = readme_table(load_presets())
    readme.write_text(f"{head}{README_START}\n{table}{README_END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api_json", type=Path, help="models.dev's api.json")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--overlay", type=Path, default=OVERLAY)
    parser.add_argument("--readme", type=Path, help="also rewrite this README's table")
    args = parser.parse_args(argv)
    data = json.loads(args.api_json.read_text(encoding="utf-8"))
    overlay = tomllib.loads(args.overlay.read_text(encoding="utf-8"))
    args.output.write_text(render(generate(data, overlay)), encoding="utf-8")
    if args.readme:
        update_readme(args.readme)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
