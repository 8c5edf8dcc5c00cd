"""A public Telegram channel's web preview (`https://t.me/s/CHANNEL`) read as a feed. No I/O.

The preview is an HTML page of the channel's latest messages (about 20), each a
`div.tgme_widget_message` with `data-post="CHANNEL/N"`. Per message:

- link and key: the post link `https://t.me/CHANNEL/N` (from `data-post`, else the date's link);
- text: the `div.tgme_widget_message_text.js-message_text` block (a reply's quoted text is the
  `js-message_reply_text` block and is not read; a forwarded post keeps its own text block);
  line breaks kept, markup dropped;
- title: the first line of the text, cut after its first sentence, at most `TITLE_CHARS`;
  summary: the rest of the text;
- time: `<time datetime>` inside the date link;
- article link: the first link in the text that leaves Telegram (not t.me, not a hashtag or
  mention), for `fetch_article`; none → "" (no page to read).

Messages without text (photos, stickers, polls, service messages) are skipped. The page's
parsing bounds are `bot.feeds.htmldoc`'s. A page without a single message is a `ParseError`.

`keep_up_interval` says how often a channel must be polled so that no message scrolls off the
preview between two polls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import lxml.html

from bot.errors import ParseError
from bot.feeds.dates import read_date
from bot.feeds.htmldoc import parse_html
from bot.feeds.normalize import canonical_url
from bot.feeds.parse import ARTICLE_LINK, KeyedFeed, keyed_feed

TITLE_CHARS = 160
MIN_SENTENCE = 20  # characters; a shorter "sentence" is an abbreviation's full stop
PREVIEW_MESSAGES = (
    20  # what the preview shows; a channel posting faster loses messages between polls
)
MARKER = b"tgme_widget_message"
_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "www.t.me", "telegram.org", "www.telegram.org"})
_CHANNEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_XP_MESSAGES = "//div[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message ')]"
_XP_TEXT = (
    ".//div[contains(concat(' ', normalize-space(@class), ' '), ' js-message_text ')]"
    "[not(ancestor::*[contains(@class, 'tgme_widget_message_reply')])]"
)
_XP_DATE = ".//a[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message_date ')]"
_XP_CHANNEL_TITLE = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' tgme_channel_info_header_title ')]"
)


def preview_url(url: str) -> str | None:
    """The preview URL of a channel link (`t.me/NAME`, `t.me/s/NAME`, `telegram.me/NAME`), or None."""
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() not in _TELEGRAM_HOSTS - {"telegram.org", "www.telegram.org"}:
        return None
    path = [p for p in parts.path.split("/") if p]
    if path[:1] == ["s"]:
        path = path[1:]
    if len(path) != 1 or not _CHANNEL.match(path[0]):
        return None
    return f"https://t.me/s/{path[0]}"


def read_channel(
    body: bytes,
    *,
    source_id: str,
    url: str,
    language: str | None = None,
    content_type: str | None = None,
) -> KeyedFeed:
    """The preview's text messages as a keyed feed, oldest first as the page lists them."""
    root = parse_html(body, content_type)
    messages = root.xpath(_XP_MESSAGES)
    if not messages:
        raise ParseError("not a Telegram channel preview: no tgme_widget_message found")
    entries = [e for e in (_entry(m, base=url) for m in messages) if e is not None]
    skipped = len(messages) - len(entries)
    title = " ".join(" ".join(root.xpath(_XP_CHANNEL_TITLE + "//text()")).split())
    notes = [f"{skipped} message(s) without text skipped"] if skipped else []
    return keyed_feed(
        entries,
        title=title or _channel_of(url),
        source_id=source_id,
        url=url,
        home=url,
        language=language,
        notes=notes,
    )


def keep_up_interval(times: Sequence[datetime], shown: int = PREVIEW_MESSAGES) -> timedelta | None:
    """The longest poll interval that loses no message, judged by the messages' times: the time
    the channel took to post `shown` messages, halved for bursts. None with fewer than two times."""
    ordered = sorted(t.astimezone(UTC) for t in times)
    if len(ordered) < 2:
        return None
    span = ordered[-1] - ordered[0]
    per_message = span / (len(ordered) - 1)
    minutes = int((per_message * shown / 2).total_seconds() // 60)  # whole minutes, rounded down
    return timedelta(minutes=max(1, minutes))


def _entry(message: lxml.html.HtmlElement, *, base: str) -> dict[str, Any] | None:
    blocks = message.xpath(_XP_TEXT)
    if not blocks:
        return None
    block = blocks[0]
    text = _text_with_breaks(block)
    if not any(char.isalnum() for char in text):
        return None
    link = _post_link(message, base)
    title, rest = split_title(text)
    entry: dict[str, Any] = {
        "title": title,
        "summary": rest,
        "link": link,
        "id": link or None,
        ARTICLE_LINK: _outbound(block, base),
    }
    for stamp in message.xpath(_XP_DATE + "//time/@datetime"):
        moment = read_date(str(stamp))
        if moment is not None:
            aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
            entry["published_parsed"] = aware.astimezone(UTC).timetuple()
            break
    return entry


def split_title(text: str) -> tuple[str, str]:
    """(title, rest): the first line, cut after its first sentence (one of at least
    `MIN_SENTENCE` characters, so "U.S. envoy…" is not cut at "U.S."), at most TITLE_CHARS."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    first, rest = lines[0], "\n".join(lines[1:])
    for boundary in _SENTENCE.finditer(first):
        if boundary.start() >= MIN_SENTENCE:
            if boundary.start() <= TITLE_CHARS:
                first, rest = first[: boundary.start()], (first[boundary.end() :] + "\n" + rest)
            break
    if len(first) > TITLE_CHARS:
        cut = first[:TITLE_CHARS].rsplit(" ", 1)[0] or first[:TITLE_CHARS]
        rest = first[len(cut) :].strip() + "\n" + rest
        first = cut.rstrip(" ,;:-") + "…"
    return first, rest.strip()


def _text_with_breaks(block: lxml.html.HtmlElement) -> str:
    """The block's text with its <br> as line breaks (text_content() alone runs lines together)."""
    for br in block.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return str(block.text_content())


def _post_link(message: lxml.html.HtmlElement, base: str) -> str:
    post = str(message.get("data-post") or "").strip()
    if re.fullmatch(r"[A-Za-z0-9_]{4,32}/\d{1,12}", post):
        return f"https://t.me/{post}"
    for href in message.xpath(_XP_DATE + "/@href"):
        if link := canonical_url(str(href), base):
            return link
    return ""


def _outbound(block: lxml.html.HtmlElement, base: str) -> str:
    for href in block.xpath(".//a/@href"):
        link = canonical_url(str(href), base)
        if link and (urlsplit(link).hostname or "") not in _TELEGRAM_HOSTS:
            return link
    return ""


def _channel_of(url: str) -> str:
    path = [p for p in urlsplit(url).path.split("/") if p]
    return path[-1] if path else ""
