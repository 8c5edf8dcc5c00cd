"""News sitemaps (bot.feeds.sitemap) and JSON Feed (bot.feeds.jsonfeed) read as feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import ParseError
from bot.feeds.jsonfeed import looks_like_json, read_json_feed
from bot.feeds.sitemap import read_sitemap
from tests.feeds.outlets import EPOCH, iso, json_feed, news_sitemap, story

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def test_a_news_sitemap_gives_title_link_date_and_language_without_summary():
    body = news_sitemap(
        [story(2, date=iso(2)), story(1, title="Bakı və Tehran", date="2026-11-27T12:00:00+04:00")]
    )
    feed = read_sitemap(body, source_id="sm", url="https://outlet.example/news-sitemap.xml")
    first, second = feed.items(now=NOW)
    assert (first.title, first.url, first.summary) == (
        "Story 2",
        "https://outlet.example/news/2",
        "",
    )
    assert first.published == EPOCH + timedelta(minutes=20)
    assert first.language == "en"
    assert second.published == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert feed.title == "Outlet"
    assert len(feed.entries) == 2  # the /about page has no news block: not an item


def test_a_sitemap_index_is_refused_naming_a_sitemap_to_add():
    body = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://outlet.example/news.xml</loc></sitemap></sitemapindex>"
    )
    with pytest.raises(ParseError, match=r"sitemap index.*https://outlet.example/news.xml"):
        read_sitemap(body, source_id="sm", url="https://outlet.example/index.xml")


def test_a_sitemap_without_news_entries_is_refused():
    body = news_sitemap([])
    with pytest.raises(ParseError, match="without news entries"):
        read_sitemap(body, source_id="sm", url="https://outlet.example/s.xml")


def test_entities_in_a_sitemap_are_not_expanded():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://o.example/1</loc>'
        b"<news:news><news:title>A &x; B</news:title></news:news></url></urlset>"
    )
    try:
        feed = read_sitemap(body, source_id="sm", url="https://o.example/s.xml")
    except ParseError:
        return  # refused outright is as good
    assert "root:" not in feed.items(now=NOW)[0].title


def test_a_json_feed_gives_its_items():
    body = json_feed([story(2, date=iso(2), summary="Lead two"), story(1, date=iso(1))])
    feed = read_json_feed(body, source_id="jf", url="https://outlet.example/feed.json")
    first, _second = feed.items(now=NOW)
    assert (first.title, first.url, first.summary) == (
        "Story 2",
        "https://outlet.example/news/2",
        "Lead two",
    )
    assert first.guid == "https://outlet.example/news/2"
    assert first.published == EPOCH + timedelta(minutes=20)
    assert feed.title == "Outlet JSON"
    assert feed.self_url == "https://outlet.example/feed.json"


def test_a_json_feed_item_without_a_title_takes_its_text():
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1",
            "items": [{"id": 7, "content_text": "Tehran said so."}],
        }
    ).encode()
    (only,) = read_json_feed(body, source_id="jf", url="https://o.example/f.json").items(now=NOW)
    assert (only.title, only.guid) == ("Tehran said so.", "7")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"items": []}', "not a feed"),
        (b"{not json", "not a JSON Feed"),
        (b"[" * 100_000 + b"]" * 100_000, "not a JSON Feed"),  # nested past the decoder's depth
    ],
)
def test_what_is_not_a_json_feed_is_a_parse_error(body: bytes, reason: str):
    with pytest.raises(ParseError, match=reason):
        read_json_feed(body, source_id="jf", url="https://o.example/f.json")


def test_json_is_known_by_its_first_character_or_content_type():
    assert looks_like_json(b'\xef\xbb\xbf  {"version": 1}')
    assert looks_like_json(b"", "application/feed+json; charset=utf-8")
    assert not looks_like_json(b"<rss/>", "application/rss+xml")
    assert not looks_like_json(b"<rss/>", "application/json")  # mislabelled RSS stays RSS
