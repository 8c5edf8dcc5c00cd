"""An HTML listing page read with CSS selectors (bot.feeds.listing)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import ParseError
from bot.feeds.listing import check_selector, read_listing
from bot.models import Selectors
from tests.feeds.outlets import EPOCH, LISTING_SELECTORS, listing, story

NOW = datetime(2026, 11, 28, tzinfo=UTC)
URL = "https://outlet.example/en/latest"
SELECTORS = Selectors(**LISTING_SELECTORS)


def read(body: bytes, selectors: Selectors = SELECTORS):
    return read_listing(body, selectors=selectors, source_id="page", url=URL, language="en")


def test_items_have_absolute_clean_links_titles_dates_and_leads():
    body = listing([story(2, summary="Lead of story two."), story(1, date="27 ноября 2026, 09:15")])
    feed = read(body)
    first, second = feed.items(now=NOW)
    assert first.url == "https://outlet.example/en/news/2-story"  # absolute, tracking dropped
    assert (first.title, first.summary) == ("Story 2", "Lead of story two.")
    assert first.published == EPOCH.replace(minute=20)
    assert second.published == datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
    assert feed.title == "Latest news – Outlet"


def test_an_unreadable_date_leaves_the_first_seen_time():
    (only,) = read(listing([story(1, date="yesterday")])).items(now=NOW)
    assert only.published == NOW


def test_a_base_href_decides_relative_links():
    body = listing([story(1)]).replace(
        b"<head>", b'<head><base href="https://cdn.outlet.example/">'
    )
    (only,) = read(body).items(now=NOW)
    assert only.url == "https://cdn.outlet.example/en/news/1-story"


@pytest.mark.parametrize("field", ["item", "title", "link", "date", "summary"])
def test_a_selector_that_matches_nothing_is_an_error_naming_it(field: str):
    selectors = Selectors(**{**LISTING_SELECTORS, field: "div.redesigned"})
    with pytest.raises(ParseError, match=f"selector {field} 'div.redesigned' matched nothing"):
        read(listing([story(1)]), selectors)


def test_items_without_a_title_are_skipped_with_a_warning():
    feed = read(listing([story(1), story(2, title="")]))
    assert [i.title for i in feed.items(now=NOW)] == ["Story 1"]
    assert feed.warning == "1 item(s) without a title or link skipped"


def test_a_script_that_mentions_the_item_class_is_not_an_item():
    assert len(read(listing([story(1)])).entries) == 1


@pytest.mark.parametrize(
    ("css", "ok"),
    [
        ("div.news > a[href]", True),
        ("div[", False),
        ("", False),
        ("p::first-line", False),
        ("div >", False),
    ],
)
def test_check_selector(css: str, ok: bool):
    assert (check_selector(css) is None) == ok
