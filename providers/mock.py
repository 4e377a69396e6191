"""The `mock` provider: deterministic, offline, no credentials.

It lists three models by default. `AISYNC_MOCK_MODELS` (or `AISYNC_<NAME>_MODELS` for
another instance, or `models` in its `[providers.<name>.options]` table) replaces the list:
either comma-separated ids or the path of a JSON file holding a list of objects with `id`,
`display_name`, `context_window`, `max_output_tokens`, `input_price_per_mtok`,
`output_price_per_mtok` and `capabilities`. Tests and demos edit it between runs to add,
change and remove models. It is skipped in production unless asked for by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse
from aisync.records import ModelRecord, Provider, ProviderInfo
from aisync.settings import Settings, env_name

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

INFO = ProviderInfo(
    name="mock",
    display_name="Mock",
    requires_api_key=False,
    development_only=True,
)

DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    {
        "id": "mock-model",
        "display_name": "Mock Model",
        "context_window": 8192,
        "max_output_tokens": 2048,
        "input_price_per_mtok": 1.0,
        "output_price_per_mtok": 2.0,
        "capabilities": ["chat", "function_calling"],
    },
    {
        "id": "mock-advanced",
        "display_name": "Mock Advanced",
        "context_window": 128000,
        "max_output_tokens": 16384,
        "input_price_per_mtok": 5.0,
        "output_price_per_mtok": 15.0,
        "capabilities": ["chat", "function_calling", "vision", "reasoning"],
    },
    {
        "id": "mock-basic",
        "display_name": "Mock Basic",
        "context_window": 4096,
        "max_output_tokens": 1024,
        "input_price_per_mtok": 0.1,
        "output_price_per_mtok": 0.2,
        "capabilities": ["chat"],
    },
)

_FIELDS = (
    "display_name",
    "context_window",
    "max_output_tokens",
    "input_price_per_mtok",
    "output_price_per_mtok",
)


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(
    provider: Provider, client: httpx.Client, settings: Settings
) -> list[ModelRecord] | None:
    if provider.type != INFO.name:
        return None
    spec = settings.environ.get(f"AISYNC_{env_name(provider.name)}_MODELS")
    spec = spec or provider.options.get("models")
    entries = DEFAULT_MODELS if not spec else _load(str(spec))
    return [_record(entry) for entry in entries]


def _load(spec: str) -> Sequence[Mapping[str, Any]]:
    if not spec.endswith(".json"):
        return [{"id": model_id.strip()} for model_id in spec.split(",") if model_id.strip()]
    try:
        data = json.loads(Path(spec).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadResponse(f"Mock model file not found: {spec}") from None
    except (OSError, ValueError) as exc:
        raise BadResponse(f"Mock model file {spec} is not readable JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(e, dict) and "id" in e for e in data):
        raise BadResponse(f"Mock model file {spec} must hold a list of objects with an 'id'")
    return data


def _record(entry: Mapping[str, Any]) -> ModelRecord:
    values = {name: entry.get(name) for name in _FIELDS}
    return ModelRecord(
        model_id=str(entry["id"]),
        capabilities=tuple(entry.get("capabilities") or ("chat",)),
        raw=dict(entry),
        **values,
    )
