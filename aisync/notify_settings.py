"""The `[notify]` settings: which receivers get which runs, and how patiently.

```toml
[notify]
timeout = 10          # seconds per delivery attempt
backoff = "1m"        # wait after a failed attempt, doubled per attempt, at most 1 h
webhooks = [
  {url = "https://hooks.example.com/aisync", secret_env = "AISYNC_HOOK_SECRET",
   on = ["removed", "deprecation", "failure"], providers = ["openai"]},
]
```

`AISYNC_WEBHOOK_URL` (and `AISYNC_WEBHOOK_SECRET`) add one receiver for every event. A
secret is only ever named (`secret_env`): it is read from the environment when a
notification is sent, so it never reaches the settings' repr, the database or a log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aisync.errors import ConfigError

#: What a receiver can ask to hear about, in the order a body lists them.
EVENTS = ("added", "removed", "changed", "price", "deprecation", "failure")
DEFAULT_TIMEOUT = 10.0
DEFAULT_BACKOFF = 60.0
#: The longest wait between two attempts, however many failed.
MAX_BACKOFF = 3600.0
URL_VARIABLE = "AISYNC_WEBHOOK_URL"
SECRET_VARIABLE = "AISYNC_WEBHOOK_SECRET"
_NOTIFY_KEYS = {"webhooks", "timeout", "backoff"}
_WEBHOOK_KEYS = {"url", "secret_env", "on", "providers"}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Webhook:
    """One receiver: where, signed with which variable's secret, for which runs."""

    url: str
    secret_env: str | None = None
    #: The events that make a run worth a notification.
    on: tuple[str, ...] = EVENTS
    #: The providers whose outcomes and changes count; empty for every provider.
    providers: tuple[str, ...] = ()

    def __repr__(self) -> str:
        from aisync.settings import redact_userinfo

        return (
            f"Webhook(url={redact_userinfo(self.url)!r}, secret_env={self.secret_env!r}, "
            f"on={self.on!r}, providers={self.providers!r})"
        )


@dataclass(frozen=True)
class NotifySettings:
    webhooks: tuple[Webhook, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    backoff: float = DEFAULT_BACKOFF
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def secret(self, webhook_secret_env: str | None) -> str | None:
        """The signing secret a notification names, read now; None when it names none."""
        return None if webhook_secret_env is None else self.environ.get(webhook_secret_env)


def notify_settings(table: Mapping[str, Any], environ: Mapping[str, str]) -> NotifySettings:
    """The receivers of `[notify]` (checked by `check_notify` when the file was read) plus
    the one of `AISYNC_WEBHOOK_URL`."""
    from aisync.settings import parse_duration

    hooks = [_webhook(entry) for entry in table.get("webhooks", ())]
    url = environ.get(URL_VARIABLE, "").strip()
    if url:
        secret = SECRET_VARIABLE if environ.get(SECRET_VARIABLE) else None
        hooks.append(Webhook(url, secret))
    return NotifySettings(
        webhooks=tuple(hooks),
        timeout=float(table.get("timeout", DEFAULT_TIMEOUT)),
        backoff=parse_duration(table.get("backoff", DEFAULT_BACKOFF), "[notify].backoff"),
        environ=environ,
    )


def _webhook(entry: Mapping[str, Any]) -> Webhook:
    return Webhook(
        url=str(entry["url"]).strip(),
        secret_env=entry.get("secret_env"),
        on=tuple(dict.fromkeys(entry.get("on", EVENTS))),
        providers=tuple(dict.fromkeys(entry.get("providers", ()))),
    )


def check_notify(table: object, path: Path) -> None:
    """`[notify]` as the config file wrote it; a mistake is one line naming file and key."""
    from aisync.settings import parse_duration

    if not isinstance(table, dict):
        raise ConfigError(f"'notify' in {path} must be a table")
    unknown = set(table) - _NOTIFY_KEYS
    if unknown:
        raise ConfigError(f"Unknown key {sorted(unknown)[0]!r} in [notify] of {path}")
    if "timeout" in table:
        timeout = table["timeout"]
        number = isinstance(timeout, int | float) and not isinstance(timeout, bool)
        if not number or not 0 < timeout < MAX_BACKOFF:
            raise ConfigError(f"[notify].timeout in {path} must be seconds, above 0, below 3600")
    if "backoff" in table:
        parse_duration(table["backoff"], f"[notify].backoff in {path}")
    hooks = table.get("webhooks", [])
    if not isinstance(hooks, list):
        raise ConfigError(f"[notify].webhooks in {path} must be a list of tables")
    for position, entry in enumerate(hooks, 1):
        _check_webhook(entry, f"[notify].webhooks[{position}] in {path}")


def _check_webhook(entry: object, where: str) -> None:
    if not isinstance(entry, dict):
        raise ConfigError(f'{where} must be a table like {{url = "https://..."}}')
    unknown = set(entry) - _WEBHOOK_KEYS
    if unknown:
        raise ConfigError(f"Unknown key {sorted(unknown)[0]!r} in {where}")
    url = entry.get("url")
    if not isinstance(url, str) or not re.match(r"https?://[^/\s]", url.strip()):
        raise ConfigError(f"{where} needs a url starting with http:// or https://")
    secret_env = entry.get("secret_env")
    if secret_env is not None and not (
        isinstance(secret_env, str) and _VARIABLE.fullmatch(secret_env)
    ):
        raise ConfigError(f"{where}: secret_env must name an environment variable")
    on = entry.get("on", list(EVENTS))
    if not isinstance(on, list) or not on or not all(isinstance(e, str) for e in on):
        raise ConfigError(f"{where}: on must be a list of events ({', '.join(EVENTS)})")
    strange = [event for event in on if event not in EVENTS]
    if strange:
        raise ConfigError(f"{where}: unknown event {strange[0]!r} (use {', '.join(EVENTS)})")
    providers = entry.get("providers", [])
    if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
        raise ConfigError(f"{where}: providers must be a list of provider names")
