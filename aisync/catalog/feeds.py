"""The model changelog as a feed: Atom 1.0 (RFC 4287) and JSON Feed 1.1.

A feed reader shows a new entry once and only once, so an entry's id must not change
between two calls: it is a tag URI (RFC 4151) built from what identifies a change in the
catalog, `tag:aisync,2026:change/<provider>/<model id>/<version>/<change>/<run id>`, with
each part percent-encoded (a `/` inside a model id too). Entry times are the events'
`changed_at`; the feed's `updated` is its newest entry's time (the time of the call only
for a feed with no entries), so two calls on an unchanged catalog give the same document.

Rendered with the standard library alone (`xml.etree`, `json`), which escapes every text
and attribute; nothing is fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from aisync import __version__
from aisync.catalog.records import Change, FieldChange, as_dict

FORMATS: tuple[str, ...] = ("atom", "jsonfeed")
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
HOME_PAGE = "https://pypi.org/project/aisync/"
#: The tagging entity of every id: the name aisync and the year its ids were defined.
TAG = "tag:aisync,2026:"
#: What a tag URI may hold unescaped besides letters, digits and `-._~` (RFC 4151).
_TAG_SAFE = "!$&'()*+,;=:@"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class FeedInfo:
    """What identifies a feed: the same filters give the same id and title."""

    provider: str | None = None
    run_id: int | None = None
    #: Where the feed is published, for its `self` link; none by default.
    feed_url: str | None = None

    @property
    def id(self) -> str:
        parts = ["changes"]
        if self.provider is not None:
            parts.append(f"provider/{_part(self.provider)}")
        if self.run_id is not None:
            parts.append(f"run/{self.run_id}")
        return TAG + "/".join(parts)

    @property
    def title(self) -> str:
        scope = [f"provider {self.provider}"] if self.provider is not None else []
        scope += [f"run {self.run_id}"] if self.run_id is not None else []
        return "aisync model changes" + (f" ({', '.join(scope)})" if scope else "")


def entry_id(change: Change) -> str:
    """The stable id of one change."""
    parts = (change.provider, change.model_id, str(change.version), change.change)
    return f"{TAG}change/{'/'.join(map(_part, parts))}/{change.run_id}"


def entry_title(change: Change) -> str:
    return f"{change.provider}/{change.model_id} {change.change}"


def entry_text(change: Change) -> str:
    """What changed, one `field: old -> new` line per field; a line for an addition or
    removal."""
    if change.fields:
        return "\n".join(_field_line(field) for field in change.fields)
    verb = {"added": "Listed", "removed": "No longer listed"}.get(change.change, "Changed")
    return f"{verb} by {change.provider} (version {change.version}, run {change.run_id})."


def render_atom(changes: Sequence[Change], info: FeedInfo, now: datetime | None = None) -> str:
    """An Atom 1.0 document, one entry per change, newest first."""
    feed = ElementTree.Element("feed", xmlns=ATOM_NS)
    _text(feed, "id", info.id)
    _text(feed, "title", info.title)
    _text(feed, "updated", _time(_updated(changes, now)))
    if info.feed_url:
        ElementTree.SubElement(feed, "link", rel="self", href=xml_text(info.feed_url))
    _text(ElementTree.SubElement(feed, "author"), "name", "aisync")
    generator = _text(feed, "generator", "aisync")
    generator.set("uri", HOME_PAGE)
    generator.set("version", __version__)
    for change in changes:
        entry = ElementTree.SubElement(feed, "entry")
        _text(entry, "id", entry_id(change))
        _text(entry, "title", entry_title(change))
        _text(entry, "updated", _time(change.changed_at))
        for term in (change.change, change.provider):
            ElementTree.SubElement(entry, "category", term=xml_text(term))
        _text(entry, "content", entry_text(change)).set("type", "text")
    ElementTree.indent(feed)
    body = ElementTree.tostring(feed, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


def render_jsonfeed(changes: Sequence[Change], info: FeedInfo) -> str:
    """A JSON Feed 1.1 document; each item also carries the change itself under
    `_aisync` (the shape of `aisync changes --json`), as the spec allows extensions."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        "home_page_url": HOME_PAGE,
        "description": f"Models added, changed and removed ({info.id})",
        "authors": [{"name": "aisync"}],
        "items": [_item(change) for change in changes],
    }
    if info.feed_url:
        feed["feed_url"] = info.feed_url
    return json.dumps(feed, indent=2, ensure_ascii=False) + "\n"


def render_feed(changes: Sequence[Change], info: FeedInfo, format: str) -> str:
    """The feed in `format`, one of `FORMATS`."""
    if format == "atom":
        return render_atom(changes, info)
    if format == "jsonfeed":
        return render_jsonfeed(changes, info)
    raise ValueError(f"Unknown feed format {format!r}; use one of {', '.join(FORMATS)}")


def _item(change: Change) -> dict[str, Any]:
    return {
        "id": entry_id(change),
        "title": entry_title(change),
        "content_text": entry_text(change),
        "date_published": _time(change.changed_at),
        "date_modified": _time(change.changed_at),
        "tags": [change.change, change.provider],
        "_aisync": as_dict(change),
    }


def _field_line(field: FieldChange) -> str:
    origin = ""
    if field.old_source != field.new_source:
        origin = f" ({field.old_source or 'none'} -> {field.new_source or 'none'})"
    return f"{field.field}: {_value(field.old)} -> {_value(field.new)}{origin}"


def _value(value: Any) -> str:
    if value is None:
        return "none"
    plain = as_dict(value)
    return plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)


def _updated(changes: Sequence[Change], now: datetime | None) -> datetime:
    if changes:
        return max(change.changed_at for change in changes)
    return now or datetime.now(UTC)


def _time(moment: datetime) -> str:
    """RFC 3339 in UTC, `2026-11-25T11:39:02Z` (microseconds kept when there are any)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _part(text: str) -> str:
    return quote(text, safe=_TAG_SAFE)


def _text(parent: ElementTree.Element, name: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, name)
    element.text = xml_text(text)
    return element


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold even escaped (control characters
    other than tab and newlines, lone surrogates), each replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
