"""The `ollama` provider: the models pulled on a local (or self-hosted) Ollama server.

`GET {base}/api/tags` lists the installed models (`name`, `model`, `modified_at`, `size`,
`digest`, `details` with `family` and `quantization_level`), with no key and no paging. It says
nothing about context or capabilities, so each model is then asked about with
`POST {base}/api/show {"model": name}`: `model_info["<architecture>.context_length"]` gives the
context window and `capabilities` (recent servers: `completion`, `insert`, `tools`,
`vision`, `thinking`, `embedding`) the capabilities, mapped by `SHOW_CAPABILITIES`. At most
`MAX_SHOW_REQUESTS` models are asked about per sync. A model beyond that bound, or whose show
answers 404 (removed since the listing), is kept without a context window; it, and every model
of a server too old to list `capabilities`, gets its capabilities from `NAME_RULES`.

Rules applied:

- base URL: `OLLAMA_HOST` style values are read the way the ollama CLI reads them
  (`server_url`): no scheme means `http://` and port 11434; `http://` or `https://` without a
  port means 80 or 443; an empty host or a listen-on-all address (`0.0.0.0`, `::`) means
  this machine (loopback).
- model id: `name` exactly as the server reports it, `:latest` included, since that is what
  `ollama run` and the API accept and what the server echoes back.
- no prices (a local model has none to publish), no release or deprecation dates
  (`modified_at` is when the model was pulled).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aisync import hookimpl
from aisync.errors import BadResponse, ProviderError
from aisync.jsontext import json_body
from aisync.records import CAPABILITIES, RULE, ModelRecord, Provider, ProviderInfo
from aisync.settings import Settings
from aisync_providers.openai_style import UNREADABLE_RECORD

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

DEFAULT_PORT = 11434

INFO = ProviderInfo(
    name="ollama",
    display_name="Ollama",
    default_base_url=f"http://localhost:{DEFAULT_PORT}",
    base_url_env_vars=("OLLAMA_HOST",),
    requires_api_key=False,
    enabled_by_default=False,
)

#: One `/api/show` request per model is cheap on a local server; this bounds a sync against a
#: server with a huge library to that many requests (later models keep name-inferred fields).
MAX_SHOW_REQUESTS = 200

#: `/api/show` capability -> our words. `completion` models answer both `/api/chat` and the
#: raw `/api/generate`; `insert` is fill-in-the-middle (a `suffix`), a completion feature.
SHOW_CAPABILITIES: Mapping[str, tuple[str, ...]] = {
    "completion": ("chat", "completion"),
    "insert": ("completion",),
    "tools": ("function_calling",),
    "vision": ("vision",),
    "thinking": ("reasoning",),
    "embedding": ("embedding",),
}

#: Fallback when `/api/show` gives no capabilities: the first rule whose pattern matches the
#: model name or its `details.family` wins; no match means `DEFAULT_CAPABILITIES`.
#: - embedding models (`nomic-embed-text`, `mxbai-embed-large`, `bge-m3`, `all-minilm`,
#:   families `nomic-bert` and `bert`) only embed;
#: - vision models (`granite3.2-vision`, `llava`, `qwen2.5vl`, `minicpm-v`, `moondream`) chat
#:   about images;
#: - the thinking models `qwen3`, `deepseek-r1`, `qwq`, `gpt-oss` and `magistral` (whole names
#:   or families: `qwen3-coder` and family `qwen3moe` do not think) reason.
NAME_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"embed|bge|minilm|bert"), ("embedding",)),
    (re.compile(r"vision|llava|vl\b|minicpm-v|moondream"), ("chat", "completion", "vision")),
    (
        re.compile(r"^(qwen3|deepseek-r1|qwq|gpt-oss|magistral)(:|$)"),
        ("chat", "completion", "reasoning"),
    ),
)

#: What a model no rule matches can do: generate text.
DEFAULT_CAPABILITIES: tuple[str, ...] = ("chat", "completion")

#: Statistic name -> pattern on `details.quantization_level`, plus `Cloud` (a `cloud` tag:
#: served by ollama.com, not run locally) and `Local` (every other model).
QUANTIZATION_STATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("4-bit", re.compile(r"^(I?Q4|MXFP4)", re.IGNORECASE)),
    ("8-bit", re.compile(r"^Q8", re.IGNORECASE)),
    ("16-bit", re.compile(r"^B?F16$", re.IGNORECASE)),
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
    base = server_url(provider.base_url)
    records: dict[str, ModelRecord] = {}
    unreadable: list[ModelRecord] = []
    for entry in _tag_entries(json_body(client.get(f"{base}/api/tags"))):
        name = _name(entry)
        if name is None:
            unreadable.append(UNREADABLE_RECORD)
        elif name not in records:
            show = _show(client, base, name) if len(records) < MAX_SHOW_REQUESTS else None
            records[name] = model_record(name, entry, show)
    return [*records.values(), *unreadable]


def server_url(value: str | None) -> str:
    """Normalize an `OLLAMA_HOST`-style address to a base URL, as the ollama CLI reads it."""
    text = (value or "").strip() or str(INFO.default_base_url)
    scheme, found, rest = text.partition("://")
    if found:
        scheme = scheme.lower()
        default_port = {"http": 80, "https": 443}.get(scheme, DEFAULT_PORT)
    else:
        scheme, rest, default_port = "http", text, DEFAULT_PORT
    hostport, _, path = rest.partition("/")
    host, port = _split_host_port(hostport)
    suffix = f"/{path.strip('/')}" if path.strip("/") else ""
    return f"{scheme}://{_connectable(host)}:{port or default_port}{suffix}"


def _split_host_port(hostport: str) -> tuple[str, int | None]:
    """Host and port of `host:port`, `[v6]:port`, a bare IPv6 address or a bare host."""
    if hostport.count(":") > 1 and not hostport.startswith("["):
        return hostport, None
    parts = urlsplit(f"//{hostport}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname or "", port


def _connectable(host: str) -> str:
    """A host to connect to: listen-on-all and empty addresses mean this machine."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "127.0.0.1"
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{address}]" if address.version == 6 else str(address)


def _tag_entries(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        raise BadResponse("Ollama model list is not a JSON object")
    models = body.get("models")
    if models is None:
        return []
    if not isinstance(models, list):
        raise BadResponse("Ollama model list has no 'models' list")
    return models


def _name(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    for key in ("name", "model"):
        if isinstance(entry.get(key), str) and entry[key]:
            return str(entry[key])
    return None


def _show(client: httpx.Client, base: str, name: str) -> Mapping[str, Any] | None:
    """The `/api/show` answer for `name`, or None if the server no longer knows the model."""
    try:
        response = client.post(f"{base}/api/show", json={"model": name})
    except ProviderError as exc:
        if exc.status == 404:
            return None
        raise
    body = json_body(response)
    if not isinstance(body, dict):
        raise BadResponse(f"Ollama details of {name} are not a JSON object")
    return body


def model_record(
    name: str, entry: Mapping[str, Any], show: Mapping[str, Any] | None
) -> ModelRecord:
    """Normalize a `/api/tags` entry, with its `/api/show` answer when there is one."""
    show = show or {}
    details = _mapping(show.get("details")) or _mapping(entry.get("details"))
    found = _show_capabilities(show.get("capabilities"))
    guessed = {} if found else {"capabilities": RULE}
    return ModelRecord(
        model_id=name,
        context_window=_context_length(_mapping(show.get("model_info")), details),
        capabilities=found or inferred_capabilities(name, details.get("family")),
        raw=entry,
        field_sources=guessed,
    )


def _show_capabilities(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    found = {word for value in values for word in SHOW_CAPABILITIES.get(str(value), ())}
    return tuple(word for word in CAPABILITIES if word in found)


def inferred_capabilities(name: str, family: Any) -> tuple[str, ...]:
    """Capabilities from `NAME_RULES` for a model the server did not describe."""
    subjects = (name.lower(), str(family or "").lower())
    for pattern, words in NAME_RULES:
        if any(pattern.search(subject) for subject in subjects if subject):
            return tuple(word for word in CAPABILITIES if word in words)
    return DEFAULT_CAPABILITIES


def _context_length(model_info: Mapping[str, Any], details: Mapping[str, Any]) -> int | None:
    architecture = model_info.get("general.architecture") or details.get("family")
    value = model_info.get(f"{architecture}.context_length")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@hookimpl
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float] | None:
    if provider.type != INFO.name:
        return None
    cloud = sum(1 for m in models if _is_cloud(m.model_id))
    levels = [str(_mapping(m.raw.get("details")).get("quantization_level") or "") for m in models]
    stats: dict[str, float] = {"Local": len(models) - cloud, "Cloud": cloud}
    stats.update(
        {
            label: sum(1 for level in levels if pattern.match(level))
            for label, pattern in QUANTIZATION_STATS
        }
    )
    return stats


def _is_cloud(model_id: str) -> bool:
    """`kimi-k2.5:cloud`, `gpt-oss:120b-cloud`: tags of models ollama.com runs for the user."""
    _, _, tag = model_id.rpartition(":")
    return tag == "cloud" or tag.endswith("-cloud")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
