"""A Telegram channel's web preview read as a feed (bot.feeds.channel), from the documented markup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import ParseError
from bot.feeds.channel import keep_up_interval, preview_url, read_channel, split_title
from tests.feeds.outlets import EPOCH, channel, post

NOW = datetime(2026, 11, 28, tzinfo=UTC)
URL = "https://t.me/s/azertac"


def items(body: bytes):
    return read_channel(body, source_id="tg", url=URL, language="az").items(now=NOW)


def test_each_text_message_is_an_item_keyed_by_its_post_link():
    body = channel(
        [
            post(
                1,
                "Prezident İlham Əliyev İranın xarici işlər nazirini qəbul edib\nGörüşdə əməkdaşlıq müzakirə olunub.",
            ),
            post(
                2,
                'Baku and Tehran sign a transit deal. Details: <a href="https://azertag.az/en/xeber/123?utm_source=tg" target="_blank">azertag.az</a>',
            ),
        ]
    )
    first, second = items(body)
    assert first.url == "https://t.me/azertac/1"
    assert first.guid == "https://t.me/azertac/1"
    assert first.title == "Prezident İlham Əliyev İranın xarici işlər nazirini qəbul edib"
    assert first.summary == "Görüşdə əməkdaşlıq müzakirə olunub."
    assert first.published == EPOCH + timedelta(minutes=10)
    assert first.language == "az"
    assert first.article_url == ""  # no outbound link: no article page to read
    assert second.title == "Baku and Tehran sign a transit deal."
    assert second.summary == "Details: azertag.az"
    assert second.article_url == "https://azertag.az/en/xeber/123"


def test_messages_without_text_are_skipped_and_replies_and_forwards_keep_their_own_text():
    body = channel(
        [
            post(1, kind="photo"),
            post(2, kind="sticker"),
            post(3, kind="poll"),
            post(4, "Answer to the question", kind="reply", quoted="The old question"),
            post(5, "Forwarded statement of the ministry", kind="forward"),
        ]
    )
    feed = read_channel(body, source_id="tg", url=URL)
    got = feed.items(now=NOW)
    assert [(i.url, i.title) for i in got] == [
        ("https://t.me/azertac/4", "Answer to the question"),
        ("https://t.me/azertac/5", "Forwarded statement of the ministry"),
    ]
    assert "The old question" not in got[0].summary
    assert feed.warning == "3 message(s) without text skipped"
    assert feed.title == "AZERTAC"


def test_links_to_telegram_itself_are_not_the_article():
    text = (
        '<a href="?q=%23Iran">#Iran</a> <a href="https://t.me/mfa_az">@mfa_az</a> said so. '
        '<a href="https://report.az/en/news/5">Read</a>'
    )
    (only,) = items(channel([post(1, text)]))
    assert only.article_url == "https://report.az/en/news/5"


def test_a_long_first_line_is_cut_to_its_first_sentence():
    long = "First sentence of a long post about the Astara railway. " + "Words " * 40
    assert split_title(long)[0] == "First sentence of a long post about the Astara railway."
    title, rest = split_title("x" * 30 + " " + "y" * 200)
    assert title.endswith("…")
    assert len(title) <= 161
    assert rest.startswith("y")


def test_a_page_without_messages_is_not_a_channel_preview():
    with pytest.raises(ParseError, match="no tgme_widget_message"):
        read_channel(b"<html><body><p>Hello</p></body></html>", source_id="tg", url=URL)


@pytest.mark.parametrize(
    ("url", "preview"),
    [
        ("https://t.me/azertac", "https://t.me/s/azertac"),
        ("https://t.me/s/azertac", "https://t.me/s/azertac"),
        ("https://telegram.me/azertac/", "https://t.me/s/azertac"),
        ("https://t.me/azertac/123", None),  # a post, not a channel
        ("https://t.me/joinchat/AAAA", None),
        ("https://example.com/azertac", None),
    ],
)
def test_preview_url(url: str, preview: str | None):
    assert preview_url(url) == preview


def test_keep_up_interval_is_half_the_time_twenty_messages_take():
    every_ten_minutes = [EPOCH + timedelta(minutes=10 * n) for n in range(20)]
    assert keep_up_interval(every_ten_minutes) == timedelta(minutes=100)
    assert keep_up_interval([EPOCH]) is None
    burst = [EPOCH + timedelta(seconds=n) for n in range(20)]
    assert keep_up_interval(burst) == timedelta(minutes=1)
