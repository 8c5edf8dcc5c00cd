"""Builders of the outlet formats that are not feeds, from each format's documented markup.

- `channel(messages)`: a public channel's web preview (`t.me/s/NAME`), as Telegram serves it:
  `div.tgme_widget_message_wrap > div.tgme_widget_message[data-post="NAME/N"]` holding the
  bubble, the `js-message_text` block (with `<br/>` lines and `<a>` links), a reply's
  `a.tgme_widget_message_reply` with its own `js-message_reply_text`, a forwarded post's
  `tgme_widget_message_forwarded_from`, photos, stickers and polls without text, and the footer's
  `a.tgme_widget_message_date > time[datetime]`.
- `listing(items)`: a news listing page (the shape of regional outlets' "latest news" pages).
- `news_sitemap(items)`: sitemaps.org `urlset` with Google's news namespace.
- `json_feed(items)`: JSON Feed 1.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

EPOCH = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Post:
    """One channel message; `text` holds lines (joined with <br/>) and may hold <a> markup."""

    n: int
    text: str | None
    at: datetime | None = None
    kind: str = "text"  # text, photo, sticker, poll, reply, forward
    quoted: str = "Quoted older message"


def post(n: int, text: str | None = None, **kw: object) -> Post:
    """Message n, posted n × 10 minutes after EPOCH, with a default text."""
    at = kw.pop("at", EPOCH + timedelta(minutes=10 * n))
    return Post(n, f"Message {n}" if text is None else text, at=at, **kw)  # type: ignore[arg-type]


def channel(posts: Iterable[Post], *, name: str = "azertac", title: str = "AZERTAC") -> bytes:
    """The channel's web preview page, messages oldest first as Telegram lists them."""
    blocks = "\n".join(_message(p, name) for p in posts)
    return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{escape(title)} – Telegram</title>
    <meta property="og:title" content="{escape(title)}">
    <link rel="canonical" href="https://t.me/s/{name}">
  </head>
  <body class="widget_frame_base tgme_webpreview_body">
    <header class="tgme_header search_collapsed">
      <div class="tgme_channel_info_header">
        <div class="tgme_channel_info_header_title"><span dir="auto">{escape(title)}</span></div>
        <div class="tgme_channel_info_header_username"><a href="https://t.me/{name}">@{name}</a></div>
      </div>
    </header>
    <main class="tgme_main">
      <section class="tgme_channel_history js-message_history">
        <div class="tgme_widget_message_centered js-messages_more_wrap">
          <a href="/s/{name}?before=1" class="tme_messages_more js-messages_more" data-before="1"></a>
        </div>
{blocks}
      </section>
    </main>
  </body>
</html>
""".encode()


def _message(p: Post, name: str) -> str:
    at = (p.at or EPOCH).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    extra = ""
    if p.kind == "reply":
        extra = (
            f'<a class="tgme_widget_message_reply" href="https://t.me/{name}/{p.n - 1}">'
            '<div class="tgme_widget_message_author accent_color">'
            '<span class="tgme_widget_message_author_name">Agency</span></div>'
            '<div class="tgme_widget_message_text js-message_reply_text" dir="auto">'
            f"{p.quoted}</div></a>"
        )
    elif p.kind == "forward":
        extra = (
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
            '<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/mfa_az/77">'
            '<span dir="auto">MFA</span></a></div>'
        )
    media = ""
    if p.kind == "photo":
        media = (
            f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{name}/{p.n}" '
            "style=\"width:800px;background-image:url('https://cdn4.telesco.pe/file/x.jpg')\">"
            '<div class="tgme_widget_message_photo" style="padding-top:56%"></div></a>'
        )
    elif p.kind == "sticker":
        media = (
            '<div class="tgme_widget_message_sticker_wrap media_supported_cont">'
            '<i class="tgme_widget_message_sticker js-sticker_image" '
            "style=\"background-image:url('https://cdn4.telesco.pe/file/s.webp')\"></i></div>"
        )
    elif p.kind == "poll":
        media = (
            '<div class="tgme_widget_message_poll js-poll"><div class="tgme_widget_message_poll_'
            'question">Poll</div></div>'
        )
    text = ""
    if p.text is not None and p.kind not in ("photo", "sticker", "poll"):
        body = "<br/>".join(p.text.split("\n"))
        text = f'<div class="tgme_widget_message_text js-message_text" dir="auto">{body}</div>'
    return f"""        <div class="tgme_widget_message_wrap js-widget_message_wrap">
          <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{name}/{p.n}" data-view="eyJjIjotMTAwMTAwLCJwIjoxfQ">
            <div class="tgme_widget_message_user"><a href="https://t.me/{name}"><i class="tgme_widget_message_user_photo bgcolor0" data-content="A"></i></a></div>
            <div class="tgme_widget_message_bubble">
              <i class="tgme_widget_message_bubble_tail"></i>
              <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/{name}"><span dir="auto">Agency</span></a></div>
              {extra}{media}{text}
              <div class="tgme_widget_message_footer compact js-message_footer">
                <div class="tgme_widget_message_info short js-message_info">
                  <span class="tgme_widget_message_views">1.2K</span>
                  <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{name}/{p.n}"><time datetime="{at}" class="time">{at[11:16]}</time></a></span>
                </div>
              </div>
            </div>
          </div>
        </div>"""


@dataclass(frozen=True)
class Story:
    """One entry of a listing page, a sitemap or a JSON Feed."""

    n: int
    title: str | None = None
    date: str | None = None  # as the page prints it
    summary: str = ""


def story(n: int, title: str | None = None, **kw: object) -> Story:
    """Story n with a default title and a dd.mm.yyyy HH:MM date n × 10 minutes after EPOCH."""
    when = EPOCH + timedelta(minutes=10 * n)
    date = kw.pop("date", when.strftime("%d.%m.%Y %H:%M"))
    return Story(n, f"Story {n}" if title is None else title, date=date, **kw)  # type: ignore[arg-type]


LISTING_SELECTORS = {
    "item": "div.news-list article.news-item",
    "title": "h3.news-title",
    "link": "h3.news-title a",
    "date": "span.news-date",
    "summary": "p.news-lead",
}


def listing(stories: Iterable[Story], *, banner: str = "") -> bytes:
    """A listing page: relative links, a date span, a lead paragraph, menus around the list."""
    rows = "\n".join(
        f"""      <article class="news-item">
        <h3 class="news-title"><a href="/en/news/{s.n}-story?utm_source=home">{escape(s.title or "")}</a></h3>
        <span class="news-date">{escape(s.date or "")}</span>
        <p class="news-lead">{escape(s.summary)}</p>
      </article>"""
        for s in stories
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latest news – Outlet</title>
<script>window.ads = "<div class='news-item'>";</script></head>
<body><nav><a href="/">Home</a><a href="/en/politics">Politics</a></nav>
<div class="banner">{escape(banner)}</div>
<main><div class="news-list">
{rows}
</div></main><footer>© Outlet</footer></body></html>
""".encode()


def news_sitemap(stories: Iterable[Story], *, base: str = "https://outlet.example") -> bytes:
    """A news sitemap (sitemaps.org + news namespace), with one ordinary page that is no news."""
    urls = "\n".join(
        f"""  <url>
    <loc>{base}/news/{s.n}</loc>
    <news:news>
      <news:publication><news:name>Outlet</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>{s.date or ""}</news:publication_date>
      <news:title>{escape(s.title or "")}</news:title>
    </news:news>
  </url>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>{base}/about</loc><lastmod>2026-01-01</lastmod></url>
{urls}
</urlset>
""".encode()


def iso(n: int) -> str:
    """W3C datetime of story n (as sitemaps and JSON Feed write it)."""
    return (EPOCH + timedelta(minutes=10 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_feed(stories: Iterable[Story], *, title: str = "Outlet JSON") -> bytes:
    """A JSON Feed 1.1 document."""
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "home_page_url": "https://outlet.example/",
            "feed_url": "https://outlet.example/feed.json",
            "language": "en",
            "items": [
                {
                    "id": f"https://outlet.example/news/{s.n}",
                    "url": f"https://outlet.example/news/{s.n}",
                    "title": s.title,
                    "content_html": f"<p>{escape(s.summary)}</p>",
                    "date_published": s.date,
                }
                for s in stories
            ],
        }
    ).encode()
