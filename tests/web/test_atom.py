"""bot.web.atom: pure rendering of a topic's Atom feed, read back by feedparser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import feedparser
import pytest

from bot.models import Item, StoredItem, TermHit, TopicMatch
from bot.web.atom import entries_from_items, entry_id, etag, feed_id, render_atom

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
MATCH = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran*", "title", "Iran"),))


def stored(n: int, *, title: str = "", summary: str = "", url: str = "") -> StoredItem:
    return StoredItem(
        id=n,
        item=Item(
            source_id="apa",
            key=f"key-{n}",
            url=url or f"https://apa.az/en/news/{n}",
            title=title or f"Item {n}",
            summary=summary,
            published=T0 + timedelta(minutes=n),
        ),
        source_name="APA English",
        first_seen=T0 + timedelta(minutes=n, seconds=30),
        matches=(MATCH,),
    )


def render(items: list[StoredItem]) -> bytes:
    return render_atom(
        topic_id="azerbaijan-iran",
        title="Azerbaijan–Iran relations",
        entries=entries_from_items(items),
        self_url="http://127.0.0.1:8080/topics/azerbaijan-iran.atom",
        home_url="http://127.0.0.1:8080/",
    )


def test_feedparser_reads_every_field_back():
    body = render([stored(2, summary="Two sides met."), stored(1)])
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Azerbaijan–Iran relations"
    assert parsed.feed.id == feed_id("azerbaijan-iran")
    assert parsed.feed.updated == "2026-11-27T10:02:00Z"
    first = parsed.entries[0]
    assert first.title == "Item 2"
    assert first.link == "https://apa.az/en/news/2"
    assert first.id == entry_id("apa", "key-2")
    assert first.author == "APA English"
    assert first.summary == "Two sides met."
    assert first.published == first.updated == "2026-11-27T10:02:00Z"
    assert "summary" not in parsed.entries[1]  # no empty summary element


@pytest.mark.parametrize(
    "text",
    [
        'Baku & Tehran: "tariffs" < 5% > 1',
        "<script>alert(1)</script>",
        "]]> CDATA end and &amp; an entity",
        "Ceyhun Bayramov: İran ilə Azərbaycan · Пезешкиан · پزشکیان",
    ],
)
def test_text_is_escaped_and_comes_back_exactly(text: str):
    body = render([stored(1, title=text, summary=text)])
    ET.fromstring(body)  # noqa: S314  (our own output: it must be well-formed XML)
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries[0].title == text
    assert parsed.entries[0].summary == text


def test_characters_xml_cannot_carry_are_dropped_rather_than_breaking_the_feed():
    body = render([stored(1, title="bell\x07 and nul\x00 gone")])
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries[0].title == "bell and nul gone"


def test_a_link_with_quotes_and_ampersands_is_escaped_as_an_attribute():
    url = 'https://example.com/a?b=1&c="2"'
    parsed = feedparser.parse(render([stored(1, url=url)]))
    assert parsed.entries[0].link == url


def test_ids_are_stable_and_distinct():
    assert entry_id("apa", "k") == entry_id("apa", "k")
    assert entry_id("apa", "k") != entry_id("apa", "k2")
    assert entry_id("apa", "k") != entry_id("trend", "k")
    assert entry_id("apa", "k").startswith("urn:uuid:")


def test_an_empty_topic_is_a_valid_feed_with_a_fixed_updated_time():
    body = render([])
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries == []
    assert etag(body) == etag(render([]))  # same content, same tag


def test_the_etag_changes_with_the_content():
    assert etag(render([stored(1)])) != etag(render([stored(2), stored(1)]))
