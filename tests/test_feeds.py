"""`aisync changes --format atom|jsonfeed`: feeds a real feed parser reads, with ids that
never change between calls.

The catalog comes from `tests.catalog_data` (two mock instances, three real syncs with
additions, changes, removals and a failure), so every kind of change is in the feed; each
feed is checked against `aisync changes --json` of the same catalog.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest

from aisync.catalog.feeds import ATOM_NS, JSON_FEED_VERSION, FeedInfo, entry_id, render_atom
from aisync.catalog.records import Change, FieldChange
from tests.catalog_data import fill
from tests.cli import run

A = f"{{{ATOM_NS}}}"


@pytest.fixture
def catalog(database_url: str, tmp_path: Path) -> dict[str, str]:
    return fill(database_url, tmp_path)


def output(env: dict[str, str], *args: str) -> str:
    result = run(["changes", *args], env)
    assert result.exit_code == 0, result.output
    return result.stdout


def changes_json(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(output(env, "--json", *args))
    return found


def expected_id(change: dict[str, Any]) -> str:
    return (
        f"tag:aisync,2026:change/{change['provider']}/{change['model_id']}/"
        f"{change['version']}/{change['change']}/{change['run_id']}"
    )


def test_atom_is_a_valid_feed_with_one_entry_per_change(catalog: dict[str, str]) -> None:
    atom = output(catalog, "--format", "atom", "--feed-url", "https://example.org/changes.xml")
    parsed = feedparser.parse(atom)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    changes = changes_json(catalog)
    assert len(changes) >= 8
    assert {c["change"] for c in changes} == {"added", "changed", "removed"}
    assert parsed.feed.id == "tag:aisync,2026:changes"
    assert parsed.feed.title == "aisync model changes"
    assert parsed.feed.links[0].rel == "self"
    assert parsed.feed.links[0].href == "https://example.org/changes.xml"
    # The feed's time is its newest change's: the catalog's, not the call's.
    assert parsed.feed.updated_parsed[:6] == _utc(changes[0]["changed_at"])[:6]
    assert [e.id for e in parsed.entries] == [expected_id(c) for c in changes]
    for entry, change in zip(parsed.entries, changes, strict=True):
        assert entry.title == f"{change['provider']}/{change['model_id']} {change['change']}"
        assert entry.updated_parsed[:6] == _utc(change["changed_at"])[:6]
        assert {t.term for t in entry.tags} == {change["change"], change["provider"]}
        for field in change["fields"]:
            assert f"{field['field']}: " in entry.content[0].value
    priced = next(c for c in changes if c["change"] == "changed" and c["model_id"] == "alpha")
    text = next(e for e in parsed.entries if e.id == expected_id(priced)).content[0].value
    assert text == "input_price_per_mtok: 1.0 -> 2.0"
    _check_atom_rules(atom)


def _check_atom_rules(atom: str) -> None:
    """RFC 4287's MUSTs that a lenient parser forgives: one id, title and updated per feed
    and entry, an author, text content, and ids unique within the feed."""
    feed = ElementTree.fromstring(atom)
    assert feed.tag == f"{A}feed"
    for element in (feed, *feed.findall(f"{A}entry")):
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{A}{name}")) == 1, name
    assert feed.find(f"{A}author/{A}name") is not None
    ids = [e.findtext(f"{A}id") for e in feed.findall(f"{A}entry")]
    assert len(ids) == len(set(ids))
    for entry in feed.findall(f"{A}entry"):
        content = entry.find(f"{A}content")
        assert content is not None and content.get("type") == "text"


def _utc(text: str) -> tuple[int, ...]:
    return tuple(datetime.fromisoformat(text).astimezone(UTC).timetuple())


def test_entry_ids_and_the_document_are_stable_across_calls_and_syncs(
    catalog: dict[str, str], tmp_path: Path
) -> None:
    first = output(catalog, "--format", "atom")
    assert output(catalog, "--format", "atom") == first
    assert output(catalog, "--format", "jsonfeed") == output(catalog, "--format", "jsonfeed")
    before = [e.id for e in feedparser.parse(first).entries]
    # Another sync with a change: the old entries keep their ids, the new one comes first.
    Path(catalog["AISYNC_MOCK_MODELS"]).write_text(
        json.dumps([{"id": "alpha", "context_window": 9999}, {"id": "beta"}, {"id": "delta"}]),
        encoding="utf-8",
    )
    synced = run(["sync-models", "--force", "--provider", "mock"], catalog)
    assert synced.exit_code == 0, synced.output
    after = [e.id for e in feedparser.parse(output(catalog, "--format", "atom")).entries]
    assert after[len(after) - len(before) :] == before
    assert len(after) > len(before)
    assert after[0].startswith("tag:aisync,2026:change/mock/")


def test_json_feed_carries_the_same_entries_and_each_change(catalog: dict[str, str]) -> None:
    feed = json.loads(output(catalog, "--format", "jsonfeed"))
    changes = changes_json(catalog)
    assert feed["version"] == JSON_FEED_VERSION == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "aisync model changes"
    assert "feed_url" not in feed
    assert [item["id"] for item in feed["items"]] == [expected_id(c) for c in changes]
    assert [item["_aisync"] for item in feed["items"]] == changes
    for item, change in zip(feed["items"], changes, strict=True):
        # JSON Feed 1.1: an id, and content_html or content_text; RFC 3339 dates.
        assert isinstance(item["id"], str) and item["content_text"]
        assert _utc(item["date_published"]) == _utc(change["changed_at"])
        assert item["tags"] == [change["change"], change["provider"]]
    assert {key for key in feed if not key.startswith("_")} <= {
        "version",
        "title",
        "home_page_url",
        "feed_url",
        "description",
        "authors",
        "items",
    }


def test_feeds_take_the_filters_of_changes(catalog: dict[str, str]) -> None:
    for args in (["--provider", "mock-eu"], ["--run", "2"], ["--since", "7d"]):
        atom = feedparser.parse(output(catalog, "--format", "atom", *args))
        assert not atom.bozo
        assert [e.id for e in atom.entries] == [
            expected_id(c) for c in changes_json(catalog, *args)
        ]
        jsonfeed = json.loads(output(catalog, "--format", "jsonfeed", *args))
        assert [i["id"] for i in jsonfeed["items"]] == [e.id for e in atom.entries]
    scoped = feedparser.parse(output(catalog, "--format", "atom", "--provider", "mock-eu"))
    assert scoped.feed.id == "tag:aisync,2026:changes/provider/mock-eu"
    assert scoped.feed.title == "aisync model changes (provider mock-eu)"
    # A run with no changes for that provider is an empty, still valid, feed.
    empty = feedparser.parse(output(catalog, "--format", "atom", "--run", "3", "--provider", "x"))
    assert not empty.bozo and empty.entries == [] and empty.feed.updated


def test_json_and_a_feed_format_together_is_a_usage_error(catalog: dict[str, str]) -> None:
    result = run(["changes", "--json", "--format", "atom"], catalog)
    assert (result.exit_code, result.stderr) == (64, "Error: Use --json or --format, not both\n")
    result = run(["changes", "--format", "rss"], catalog)
    assert result.exit_code == 64 and len(result.stderr.splitlines()) == 1


def test_hostile_text_is_escaped_and_ids_stay_one_uri() -> None:
    when = datetime(2026, 11, 25, 11, 39, 2, tzinfo=UTC)
    hostile = Change(
        changed_at=when,
        run_id=7,
        provider="mock",
        model_id='org/<b>"x"&y z\x07',
        change="changed",
        version=2,
        fields=(FieldChange("display_name", "</content>]]>", "A & B\x00", "api", "override"),),
    )
    atom = render_atom([hostile], FeedInfo(feed_url='https://e.org/?a=1&b="2"'))
    parsed = feedparser.parse(atom)
    assert not parsed.bozo, parsed.get("bozo_exception")
    (entry,) = parsed.entries
    assert (
        entry.id
        == entry_id(hostile)
        == ("tag:aisync,2026:change/mock/org%2F%3Cb%3E%22x%22&y%20z%07/2/changed/7")
    )
    assert entry.title == 'mock/org/<b>"x"&y z\ufffd changed'
    assert entry.content[0].value == (
        "display_name: </content>]]> -> A & B\ufffd (api -> override)"
    )
    assert parsed.feed.links[0].href == 'https://e.org/?a=1&b="2"'
    assert parsed.feed.updated == "2026-11-25T11:39:02Z"
