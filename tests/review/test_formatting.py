"""Delivered messages show the review summary (escaped) instead of the feed's teaser."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.models import Item, StoredItem, TermHit, TopicMatch
from bot.text.formatting import format_console, format_plain, format_telegram

T = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def stored(review: str | None, teaser: str = "Feed teaser <i>here</i>.") -> StoredItem:
    item = Item("s", "k", "https://example.com/a", "Baku & Tehran talk", teaser, T)
    match = TopicMatch("az-ir", (TermHit("az", "Baku", "title", "Baku"),))
    return StoredItem(1, item, "Outlet", T, (match,), review_summary=review)


def test_the_review_summary_replaces_the_teaser_and_is_escaped() -> None:
    review = "Baku <b>and</b> Tehran agreed & signed. Iran's envoy spoke."
    html = format_telegram(stored(review), topic_names={"az-ir": "Az–Ir"}, tz=ZoneInfo("UTC"))
    assert "Baku &lt;b&gt;and&lt;/b&gt; Tehran agreed &amp; signed. Iran's envoy spoke." in html
    assert "teaser" not in html
    assert "teaser" not in format_plain(stored(review), topic_names={}, tz=ZoneInfo("UTC"))


def test_a_review_summary_longer_than_the_teaser_limit_is_kept_whole() -> None:
    review = "Baku spoke. " * 40  # 480 characters, as BOT_SUMMARY_CHARS=500 allows
    html = format_telegram(stored(review.strip()), topic_names={}, tz=ZoneInfo("UTC"))
    assert review.strip() in html


def test_without_a_review_summary_the_teaser_is_shown() -> None:
    html = format_telegram(stored(None), topic_names={}, tz=ZoneInfo("UTC"))
    assert "Feed teaser &lt;i&gt;here&lt;/i&gt;." in html


def test_console_shows_the_review_summary_line_cleaned() -> None:
    out = format_console(
        stored("Baku \x1b[31mred\x1b[0m spoke."), topic_names={}, tz=ZoneInfo("UTC")
    )
    lines = out.splitlines()
    assert lines[3] == "Baku red spoke."
    assert "\x1b" not in out
    assert "Baku red spoke." not in format_console(stored(None), topic_names={}, tz=ZoneInfo("UTC"))
