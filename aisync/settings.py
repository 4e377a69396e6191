"""One typed `Settings` object, built once from options, environment, config file and defaults.

Strongest source first: explicit overrides (command-line options or an embedding app's
arguments), `AISYNC_*` environment variables, the TOML config file, then defaults. Nothing
here reads `os.environ` after `load_settings` returns: the snapshot travels in `Settings`,
so two `Settings` in one process never leak into each other.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aisync.errors import ConfigError

DEFAULT_CACHE_TTL = 12 * 3600.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONCURRENCY = 16
DEFAULT_LOCK_TIMEOUT = 5.0
#: Without a `provider_deadline`, a provider's whole fetch gets this many timeouts.
DEADLINE_TIMEOUTS = 6
_TOP_LEVEL_KEYS = {
    "database_url",
    "env",
    "cache_ttl",
    "timeout",
    "concurrency",
    "retries",
    "lock_timeout",
    "provider_deadline",
    "retry_wait_cap",
    "providers",
    "enrich",
    "notify",
}
DEFAULT_RETRIES = 2
DEFAULT_RETRY_WAIT_CAP = 10.0
#: The top-level settings an `AISYNC_<KEY>` environment variable can set (`enrich` and
#: `notify` have their own).
_ENV_KEYS = tuple(sorted(_TOP_LEVEL_KEYS - {"providers", "enrich", "notify"}))
#: The enrichment sources used when nothing is configured, in precedence order.
DEFAULT_ENRICH_SOURCES = ("models.dev", "litellm")
DEFAULT_ENRICH_CACHE_TTL = 24 * 3600.0
_ENRICH_KEYS = {"sources", "cache_ttl"}
_PROVIDER_KEYS = {"type", "api_key", "api_key_env", "base_url", "enabled", "cache_ttl", "options"}
#: Per instance: false for a keyless server (vLLM, LM Studio, llama.cpp, a proxy without auth).
_PROVIDER_KEYS.add("requires_api_key")
_TEXT_KEYS = {"database_url", "env"}
_PROVIDER_TEXT_KEYS = {"type", "api_key", "api_key_env", "base_url"}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: The longest duration accepted: longer is a typo, and time arithmetic beyond it overflows.
MAX_DURATION = 100 * 365 * 86400.0
#: `scheme://user:password@` or `user:password@` at the start of a URL, up to the host.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?[^/?#]*@")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ProviderConfig:
    """What the user configured for one provider instance (file table merged with env)."""

    name: str
    type: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: Where `api_key` came from (`AISYNC_OPENAI_EU_API_KEY`, `config file`), for messages.
    api_key_source: str | None = None
    base_url: str | None = None
    enabled: bool | None = None
    cache_ttl: float | None = None
    #: A plugin's options may hold secrets of their own (a token): kept out of the repr.
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: The variables a user can set to give this instance a key, strongest first.
    api_key_vars: tuple[str, ...] = ()
    #: `requires_api_key = false`: a keyless server; None leaves it to the provider type.
    requires_api_key: bool | None = None

    def __repr__(self) -> str:
        return redacted_repr(self, urls=("base_url",))


@dataclass(frozen=True)
class Settings:
    database_url: str
    env: str = "production"
    cache_ttl: float = DEFAULT_CACHE_TTL
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    #: How often a 429 or 5xx answer is retried before the provider counts as failed.
    max_retries: int = DEFAULT_RETRIES
    #: The longest wait between retries; a provider asking (`Retry-After`) for longer fails
    #: at once rather than hold the run.
    retry_wait_cap: float = DEFAULT_RETRY_WAIT_CAP
    #: How long a run waits for a provider another run is syncing before skipping it.
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    #: The most one provider's whole fetch may take (None: `DEADLINE_TIMEOUTS` timeouts).
    provider_deadline: float | None = None
    config_path: Path | None = None
    #: Kept out of the repr: a table may hold an `api_key` or a URL with a password.
    provider_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: The enrichment sources of a run, strongest first; empty when enrichment is off.
    enrich_sources: tuple[str, ...] = DEFAULT_ENRICH_SOURCES
    #: How long a downloaded copy of a source is used before it is revalidated.
    enrich_cache_ttl: float = DEFAULT_ENRICH_CACHE_TTL
    #: The `[enrich.<source>]` tables of the config file, keyed by table name.
    enrich_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    #: The `[notify]` table (`aisync.notify_settings`): kept out of the repr, since a
    #: webhook URL may carry a password.
    notify_table: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return redacted_repr(self, urls=("database_url",))

    @property
    def deadline(self) -> float:
        """Seconds one provider's fetch may take in all: `timeout` bounds each read, so a
        server trickling a byte a second, or a plugin that never returns, needs this."""
        if self.provider_deadline is not None:
            return self.provider_deadline
        return DEADLINE_TIMEOUTS * self.timeout

    @property
    def production(self) -> bool:
        return self.env == "production"

    def declared_instances(self) -> dict[str, str]:
        """Instance name -> provider type, for every config table that names a `type`."""
        return {
            name: str(table["type"])
            for name, table in self.provider_tables.items()
            if "type" in table
        }

    def provider_config(self, name: str) -> ProviderConfig:
        """Merge the `[providers.<name>]` table with the `AISYNC_<NAME>_*` variables."""
        table = self.provider_tables.get(name, {})
        prefix = f"AISYNC_{env_name(name)}_"
        key_vars = [prefix + "API_KEY"]
        if "api_key_env" in table:
            key_vars.append(str(table["api_key_env"]))
        api_key, source = None, None
        for var in key_vars:
            api_key = clean_api_key(self.environ.get(var, ""), var)
            if api_key is not None:
                source = var
                break
        if api_key is None:
            where = f"[providers.{name}].api_key in {self.config_path}"
            api_key = clean_api_key(str(table.get("api_key", "")), where)
            source = None if api_key is None else "config file"
        enabled = table.get("enabled")
        if self.environ.get(prefix + "ENABLED"):
            enabled = parse_bool(self.environ[prefix + "ENABLED"], prefix + "ENABLED")
        ttl = self.environ.get(prefix + "CACHE_TTL") or table.get("cache_ttl")
        return ProviderConfig(
            name=name,
            type=table.get("type"),
            api_key=api_key,
            api_key_source=source,
            base_url=self.environ.get(prefix + "BASE_URL") or table.get("base_url"),
            enabled=enabled,
            cache_ttl=None if ttl is None else parse_duration(ttl, f"cache_ttl of {name}"),
            options=dict(table.get("options", {})),
            api_key_vars=tuple(key_vars),
            requires_api_key=table.get("requires_api_key"),
        )

    def cache_ttl_for(self, name: str) -> float:
        ttl = self.provider_config(name).cache_ttl
        return self.cache_ttl if ttl is None else ttl

    def source_config(self, name: str) -> dict[str, Any]:
        """The settings of enrichment source `name`: its `[enrich.<table>]` table, whose name
        is the source's with dots as dashes (`models.dev` -> `[enrich.models-dev]`), and
        `url` from `AISYNC_<NAME>_URL` (`AISYNC_MODELS_DEV_URL`), which beats the file."""
        config = dict(self.enrich_tables.get(name.replace(".", "-"), {}))
        url = self.environ.get(f"AISYNC_{env_name(name)}_URL")
        if url:
            config["url"] = url
        return config


def clean_api_key(value: str, source: str) -> str | None:
    """The key without surrounding whitespace (`$(cat keyfile)` keeps a trailing newline),
    None when nothing is left; `ConfigError` naming `source`, never the key, for a key an
    HTTP header cannot carry (non-ASCII or control characters)."""
    key = value.strip()
    if not all(" " <= char <= "~" for char in key):
        raise ConfigError(
            f"The API key in {source} contains characters an HTTP header cannot carry "
            "(non-ASCII or control characters)"
        )
    return key or None


def redact_userinfo(url: str) -> str:
    """`https://user:password@host/v1` -> `https://***@host/v1`, for every URL shown."""
    return _USERINFO.sub(r"\1***@", url, count=1)


def without_userinfo(url: str) -> str:
    """`https://user:password@host/v1` -> `https://host/v1`."""
    return _USERINFO.sub(r"\1", url, count=1)


def redacted_repr(instance: Any, urls: Collection[str] = ()) -> str:
    """A dataclass repr that can reach a plugin or a log: fields declared `repr=False`
    (keys, tables) left out, and the `urls` fields shown with their userinfo masked."""
    parts = []
    for item in dataclasses.fields(instance):
        if item.repr:
            value = getattr(instance, item.name)
            if item.name in urls and isinstance(value, str):
                value = redact_userinfo(value)
            parts.append(f"{item.name}={value!r}")
    return f"{type(instance).__name__}({', '.join(parts)})"


def env_name(name: str) -> str:
    """`openai-eu` -> `OPENAI_EU`: the part of `AISYNC_<NAME>_API_KEY` for an instance."""
    return re.sub(r"[^0-9A-Za-z]", "_", name).upper()


def parse_duration(value: object, what: str = "duration") -> float:
    """Seconds from `3600`, `45s`, `30m`, `12h`, `7d`, `1w` or `1h30m`, at most 100 years."""
    seconds = duration_seconds(value, what)
    if seconds < 0:
        raise ConfigError(f"Invalid {what}: {value!r} must not be negative")
    if seconds > MAX_DURATION:
        raise ConfigError(f"Invalid {what}: {value!r} (at most 100 years)")
    return seconds


def duration_seconds(value: object, what: str = "duration") -> float:
    """The seconds `value` spells, unchecked for range (a number too big for a float is
    infinite); `ConfigError` if it spells none (`nan`)."""
    invalid = ConfigError(f"Invalid {what}: {value!r} (use seconds or a duration like 12h)")
    if isinstance(value, bool):
        raise invalid
    if isinstance(value, int | float):
        seconds = float(value) if abs(value) < 1e300 else math.inf * (value > 0 or -1)
    else:
        text = str(value).strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not parts or _DURATION_PART.sub("", text).strip():
                raise invalid from None
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if math.isnan(seconds):
        raise invalid
    return seconds


def parse_sources(value: object) -> tuple[str, ...]:
    """`models.dev,litellm` or a list of names -> the names in order; `none` or `` -> ()."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"Invalid enrichment sources: {value!r} (use names like models.dev)")
    cleaned = [name.strip().lower() for name in names if name.strip()]
    if cleaned == ["none"]:
        return ()
    if "none" in cleaned:
        raise ConfigError(f"Invalid enrichment sources: {value!r} ('none' stands alone)")
    return tuple(dict.fromkeys(cleaned))


def parse_bool(value: str, what: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"Invalid {what}: {value!r} (use true or false)")


def default_database_url() -> str:
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path('aisync') / 'aisync.db'}"


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("aisync") / "aisync.toml"


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
) -> Settings:
    """Build the settings of one run.

    :param overrides: values that beat every other source (`database_url`, `timeout`,
        `cache_ttl`, `env`, `concurrency`, `lock_timeout`, `provider_deadline`,
        `enrich`); None values are ignored.
    :param environ: the environment to read; defaults to a snapshot of `os.environ`.
    :param config_path: the TOML file to read; defaults to `AISYNC_CONFIG`, then
        `aisync.toml` in the user config directory if it exists.
    """
    env = dict(os.environ if environ is None else environ)
    path, explicit = _config_path(config_path, env)
    data = _read_config(path, explicit)
    values: dict[str, Any] = {k: v for k, v in data.items() if k not in ("providers", "enrich")}
    enrich = data.get("enrich", {})
    values["enrich"] = enrich.get("sources", DEFAULT_ENRICH_SOURCES)
    values["enrich_cache_ttl"] = enrich.get("cache_ttl", DEFAULT_ENRICH_CACHE_TTL)
    for key in _ENV_KEYS:
        if env.get(f"AISYNC_{key.upper()}"):
            values[key] = env[f"AISYNC_{key.upper()}"]
    for key in ("enrich", "enrich_cache_ttl"):
        if env.get(f"AISYNC_{key.upper()}") is not None:
            values[key] = env[f"AISYNC_{key.upper()}"]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return Settings(
        database_url=str(values.get("database_url") or default_database_url()),
        env=str(values.get("env", "production")).strip().lower(),
        cache_ttl=parse_duration(values.get("cache_ttl", DEFAULT_CACHE_TTL), "cache TTL"),
        timeout=_positive(values.get("timeout", DEFAULT_TIMEOUT), "timeout"),
        concurrency=_count(values.get("concurrency", DEFAULT_CONCURRENCY), "concurrency", 1),
        max_retries=_count(values.get("retries", DEFAULT_RETRIES), "retries"),
        lock_timeout=parse_duration(
            values.get("lock_timeout", DEFAULT_LOCK_TIMEOUT), "lock timeout"
        ),
        provider_deadline=_deadline(values.get("provider_deadline")),
        retry_wait_cap=parse_duration(
            values.get("retry_wait_cap", DEFAULT_RETRY_WAIT_CAP), "retry wait cap"
        ),
        config_path=path if data or explicit else None,
        provider_tables=data.get("providers", {}),
        environ=env,
        enrich_sources=parse_sources(values["enrich"]),
        enrich_cache_ttl=parse_duration(values["enrich_cache_ttl"], "enrichment cache TTL"),
        enrich_tables={k: v for k, v in enrich.items() if isinstance(v, dict)},
        notify_table=data.get("notify", {}),
    )


def _positive(value: object, what: str) -> float:
    """A finite number above zero: `nan` or `inf` would mean "never time out"."""
    try:
        number = float(str(value))
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"Invalid {what}: {value!r} (expected a positive number)")
    return number


def _deadline(value: object) -> float | None:
    """A duration above zero (`90`, `3m`), or None to derive it from the timeout."""
    if value is None:
        return None
    seconds = parse_duration(value, "provider deadline")
    if seconds <= 0:
        raise ConfigError(f"Invalid provider deadline: {value!r} (expected a positive duration)")
    return seconds


def _count(value: object, what: str, minimum: int = 0) -> int:
    """A whole number of at least `minimum`: `concurrency = 0.5` must not become 0 workers."""
    try:
        number = int(str(value))
    except ValueError:
        number = minimum - 1
    if number < minimum:
        expected = "a whole number" if minimum == 0 else f"a whole number of at least {minimum}"
        raise ConfigError(f"Invalid {what}: {value!r} (expected {expected})")
    return number


def _config_path(config_path: str | Path | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    if config_path is not None:
        return Path(config_path).expanduser(), True
    if env.get("AISYNC_CONFIG"):
        return Path(env["AISYNC_CONFIG"]).expanduser(), True
    return default_config_path(), False


def _read_config(path: Path, explicit: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"Config file not found: {path}") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Invalid TOML in {path}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Invalid TOML in {path}: not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"Invalid TOML in {path}: nested too deeply") from None
    except ValueError:
        # Python refuses to read an integer of more than 4300 digits.
        raise ConfigError(f"Invalid TOML in {path}: a number with too many digits") from None
    _check_keys(data, path)
    return data


def _check_keys(data: Mapping[str, Any], path: Path) -> None:
    unknown = set(data) - _TOP_LEVEL_KEYS
    if unknown:
        raise ConfigError(f"Unknown setting {sorted(unknown)[0]!r} in {path}")
    for key in _TEXT_KEYS & set(data):
        if not isinstance(data[key], str):
            raise ConfigError(f"'{key}' in {path} must be a string")
    _check_numbers(data, path)
    providers = data.get("providers", {})
    if not isinstance(providers, dict):
        raise ConfigError(f"'providers' in {path} must be a table of [providers.NAME] tables")
    for name, table in providers.items():
        if not isinstance(table, dict):
            raise ConfigError(f"[providers.{name}] in {path} must be a table")
        unknown = set(table) - _PROVIDER_KEYS
        if unknown:
            raise ConfigError(f"Unknown key {sorted(unknown)[0]!r} in [providers.{name}] of {path}")
        if "options" in table and not isinstance(table["options"], dict):
            raise ConfigError(f"[providers.{name}].options in {path} must be a table")
        _check_provider_types(name, table, path)
    _check_enrich(data.get("enrich", {}), path)
    if "notify" in data:
        from aisync.notify_settings import check_notify

        check_notify(data["notify"], path)


def _check_numbers(data: Mapping[str, Any], path: Path) -> None:
    """The file's numbers and durations checked where they are written, so that the
    message names the file and the key (the merged value no longer knows its source)."""
    for key in ("cache_ttl", "lock_timeout", "retry_wait_cap"):
        if key in data:
            parse_duration(data[key], f"{key} in {path}")
    if "timeout" in data:
        _positive(data["timeout"], f"timeout in {path}")
    if "concurrency" in data:
        _count(data["concurrency"], f"concurrency in {path}", 1)
    if "retries" in data:
        _count(data["retries"], f"retries in {path}")


def _check_provider_types(name: str, table: Mapping[str, Any], path: Path) -> None:
    """A number where a URL or key belongs would fail deep inside a plugin: say it here."""
    for key in _PROVIDER_TEXT_KEYS & set(table):
        if not isinstance(table[key], str):
            raise ConfigError(f"[providers.{name}].{key} in {path} must be a string")
    if "enabled" in table and not isinstance(table["enabled"], bool):
        raise ConfigError(f"[providers.{name}].enabled in {path} must be true or false")
    if "requires_api_key" in table and not isinstance(table["requires_api_key"], bool):
        raise ConfigError(f"[providers.{name}].requires_api_key in {path} must be true or false")
    if "cache_ttl" in table:
        parse_duration(table["cache_ttl"], f"[providers.{name}].cache_ttl in {path}")


def _check_enrich(enrich: object, path: Path) -> None:
    if not isinstance(enrich, dict):
        raise ConfigError(f"'enrich' in {path} must be a table")
    if "cache_ttl" in enrich:
        parse_duration(enrich["cache_ttl"], f"[enrich].cache_ttl in {path}")
    for key, value in enrich.items():
        if key not in _ENRICH_KEYS and not isinstance(value, dict):
            raise ConfigError(f"Unknown key {key!r} in [enrich] of {path}")
        if isinstance(value, dict) and "url" in value and not isinstance(value["url"], str):
            raise ConfigError(f"[enrich.{key}].url in {path} must be a string")
