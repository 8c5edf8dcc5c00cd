"""What a URL serves, judged by its content (bot.feeds.detect)."""

from __future__ import annotations

import pytest

from bot.errors import ParseError
from bot.feeds.detect import Detected, detect
from tests.feeds.build import atom, item, rdf, rss
from tests.feeds.outlets import channel, iso, json_feed, listing, news_sitemap, post, story

URL = "https://outlet.example/news/"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (rss([item(1)]), "feed"),
        (atom([item(1)]), "feed"),
        (rdf([item(1)]), "feed"),
        (json_feed([story(1, date=iso(1))]), "feed"),
        (news_sitemap([story(1, date=iso(1))]), "sitemap"),
        (
            b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>',
            "sitemap",
        ),
        (channel([post(1)]), "telegram"),
    ],
)
def test_the_body_decides_the_type(body: bytes, kind: str):
    assert detect(body, url=URL) == Detected(kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("link", "target"),
    [
        (
            '<link rel="alternate" type="application/rss+xml" href="/rss?utm_source=x">',
            "https://outlet.example/rss",
        ),
        (
            '<link type="application/atom+xml" rel="alternate nofollow" href="feed.atom">',
            "https://outlet.example/news/feed.atom",
        ),
        (
            '<link rel="alternate" type="application/feed+json" href="https://cdn.example/f.json">',
            "https://cdn.example/f.json",
        ),
    ],
)
def test_a_page_that_names_its_feed_is_followed_there(link: str, target: str):
    page = f"<!doctype html><html><head>{link}</head><body>News</body></html>".encode()
    assert detect(page, url=URL) == Detected(None, follow=target)


@pytest.mark.parametrize(
    "page",
    [
        listing([story(1)]),
        b'<html><head><link rel="alternate" hreflang="ru" type="text/html" href="/ru/"></head></html>',
    ],
)
def test_any_other_page_needs_selectors(page: bytes):
    with pytest.raises(ParseError, match=r"needs CSS selectors.*--item CSS --title CSS --link CSS"):
        detect(page, url=URL)
