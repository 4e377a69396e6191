"""The catalog page: `aisync export --format html`, one self-contained HTML file.

The file is mailed, attached to tickets and opened from disk, where a CDN or a second file
would be missing: the CSS, the script and the data are all inline, and the page asks the
network for nothing. The data is the export's rows (`Catalog.export_rows`) plus the
changelog (`Catalog.changes`), packed column-wise into JSON inside a
`<script type="application/json">` block. Every `<`, `>` and `&` in that JSON is written
as a `\\u` escape, so no model text can close the block or be read as markup; the page's
script parses it with `JSON.parse` and writes model text with `textContent` only.

History is kept small on purpose: every change of the last `RECENT_DAYS` days, and for
each listed model its last `HISTORY_LIMIT` changes (where a model has that many, the page
points to `aisync models show`, which has them all). The table renders in chunks, so
10,000 models open as fast as 200.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from aisync.catalog.export import EXPORT_FIELDS
from aisync.catalog.records import Change, FieldChange, as_dict

if TYPE_CHECKING:
    from aisync.catalog.catalog import Catalog

#: Changes newer than this many days are all on the page (the "recent changes" list).
RECENT_DAYS = 30
#: Older changes of a listed model: at most this many of the newest per model.
HISTORY_LIMIT = 20

#: Times on the page are to the second: microseconds would only cost bytes.
_TIME_FIELDS = ("first_seen_at", "last_seen_at", "version_created_at")
_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def page_data(
    catalog: Catalog,
    *,
    provider: str | None = None,
    now: datetime | None = None,
    recent_days: int = RECENT_DAYS,
    history_limit: int = HISTORY_LIMIT,
) -> dict[str, Any]:
    """What the page shows, as plain JSON data, from the same `Catalog` calls as the export.

    `models` holds one list per model in `fields` order (`field_sources` as an index into
    `sources`, which holds each distinct mapping once). `keys[i]` is `[provider, model_id]`
    for the model of `changes` entries that name `i`: the listed models first, in `models`
    order, then removed models that changed recently. `changes` is newest first, each
    `[key, changed_at, change, version, run_id, fields]`; its first `recent` entries are the
    last `recent_days` days, the rest are older changes of listed models, up to
    `history_limit` changes per model in all. What is read is bounded the same way, however
    long the catalog's history: each model's newest changes, and the whole window only when
    some model changed `history_limit` times in it.
    """
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=recent_days)
    rows = catalog.export_rows(provider=provider)
    newest = catalog.changes(provider=provider, latest_per_model=history_limit)
    recent = [change for change in newest if change.changed_at >= cutoff]
    busy = Counter((change.provider, change.model_id) for change in recent)
    if busy and max(busy.values()) >= history_limit:
        # A model changed that often lately: only the whole window has all its changes.
        recent = catalog.changes(since=cutoff, provider=provider)
    sources: dict[str, int] = {}
    models = [_packed(row, sources) for row in rows]
    keys = {(row["provider"], row["model_id"]): index for index, row in enumerate(rows)}
    older = [change for change in newest if change.changed_at < cutoff]
    kept = _history(keys, recent, older, history_limit)
    return {
        "generated_at": _stamp(now),
        "provider": provider,
        "recent_days": recent_days,
        "history_limit": history_limit,
        "fields": list(EXPORT_FIELDS),
        "sources": [json.loads(text) for text in sources],
        "models": models,
        "keys": [list(key) for key in keys],
        "changes": kept,
        "recent": len(recent),
    }


def _history(
    keys: dict[tuple[str, str], int],
    recent: Sequence[Change],
    older: Sequence[Change],
    limit: int,
) -> list[list[Any]]:
    """Every recent change (adding the keys of removed models to `keys`), then the older
    changes of listed models until each has `limit`; both lists newest first."""
    listed = len(keys)
    kept: list[list[Any]] = []
    for change in recent:
        key = keys.setdefault((change.provider, change.model_id), len(keys))
        kept.append(_packed_change(key, change))
    shown = Counter(entry[0] for entry in kept)
    for change in older:
        key = keys.get((change.provider, change.model_id))
        if key is not None and key < listed and shown[key] < limit:
            kept.append(_packed_change(key, change))
            shown[key] += 1
    return kept


def render_page(data: Mapping[str, Any], *, version: str) -> str:
    """The whole HTML file for `page_data`'s result."""
    assets = resources.files("aisync.catalog").joinpath("page_assets")
    page = assets.joinpath("catalog.html").read_text(encoding="utf-8")
    for marker, name in (("/*CSS*/", "catalog.css"), ("/*JS*/", "catalog.js")):
        page = page.replace(marker, assets.joinpath(name).read_text(encoding="utf-8").strip())
    # The data goes in last, so nothing in it is ever taken for a marker.
    page = page.replace("{{VERSION}}", embed_json(version))
    return page.replace("{{DATA}}", embed_json(data))


def embed_json(data: Any) -> str:
    """JSON that is safe inside `<script type="application/json">`: no `</script>`, no
    `<!--`, nothing an HTML parser acts on; `JSON.parse` reads it back unchanged."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(str.maketrans(_ESCAPES))


def _packed(row: Mapping[str, Any], sources: dict[str, int]) -> list[Any]:
    values = dict(row)
    mapping = json.dumps(values["field_sources"], sort_keys=True, ensure_ascii=False)
    values["field_sources"] = sources.setdefault(mapping, len(sources))
    for name in _TIME_FIELDS:
        if values[name] is not None:
            values[name] = _stamp(datetime.fromisoformat(values[name]))
    return [values[name] for name in EXPORT_FIELDS]


def _packed_change(key: int, change: Change) -> list[Any]:
    return [
        key,
        _stamp(change.changed_at),
        change.change,
        change.version,
        change.run_id,
        [_packed_field(field) for field in change.fields],
    ]


def _packed_field(field: FieldChange) -> Sequence[Any]:
    return [
        field.field,
        as_dict(field.old),
        as_dict(field.new),
        field.old_source,
        field.new_source,
    ]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
