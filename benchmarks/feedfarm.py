"""A lean loopback server of many synthetic RSS feeds, run as its own process by the benchmark.

Run: python benchmarks/feedfarm.py --feeds N --items M [--seed S]
It prints `PORT <n>` on stdout once every body is built and the socket listens, then serves
`GET /f/<i>.xml` (i in 0..N-1) over HTTP/1.1 with keep-alive, each answer with an ETag and a
Last-Modified, and 304 for a matching If-None-Match (or If-Modified-Since when no ETag is sent).
With `--mixed`, source i is an RSS feed (`/f/<i>.xml`), a Telegram channel preview (`/t/<i>.html`,
the last 20 messages in the preview's `tgme_widget_message` markup) or a news listing page
(`/h/<i>.html`) by i % 3, each page wrapped in menus and scripts as real pages are.

Control, over the same socket: `GET /_change?start=A&count=C&new=K` adds K new items at the top of
feeds A, A+1, ... A+C-1 (modulo N; the oldest K items scroll off, as on a real site) and answers
with the changed feed numbers, one a line. `GET /_stats` answers the requests served so far, and
`GET /_counts` how often each feed was requested (space-separated, feed 0 first).

An asyncio Protocol, not http.server: at a few thousand requests a second a thread per connection
and the stdlib request parsing would cost more than the bot we are measuring, and although this
process's CPU is not counted, on a 2-core machine it competes with the bot for wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import random
import sys
import time
from dataclasses import dataclass, field

_WORDS = (
    "minister", "said", "talks", "would", "continue", "next", "week", "capital", "officials",
    "signed", "memorandum", "trade", "energy", "transport", "customs", "border", "railway", "gas",
    "parliament", "budget", "court", "election", "market", "inflation", "exports", "investment",
    "region", "security", "cooperation", "delegation", "summit", "agreement",
)  # fmt: skip
_RELEVANT = (
    ("Azerbaijan and Iran sign transit deal on the Aras corridor", "Baku and Tehran agreed"),
    ("Iranian FM meets Azerbaijani counterpart in Baku", "Araghchi and Bayramov discussed"),
    ("Astara railway: Iran and Azerbaijan open new bridge", "officials from Tehran and Baku"),
)
_BASE_TIME = 1_780_000_000  # a fixed epoch second, so bodies are the same on every run


def _paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=words)).capitalize() + "."


def item_xml(feed: int, n: int) -> str:
    """Item `n` of feed `feed`: ~1 KB of HTML in its description, one in 10 on the topic."""
    rng = random.Random(feed * 1_000_003 + n)
    title, lead = _RELEVANT[n % 3] if n % 10 == 2 else (_paragraph(rng, 8), "Reports said")
    link = f"https://outlet{feed}.example/news/{n}?utm_source=rss"
    html = (
        f"<p><strong>{lead}</strong> {_paragraph(rng, 30)}</p>"
        f'<p>{_paragraph(rng, 25)} <a href="{link}">Read more</a></p>'
        f'<p><img src="https://outlet{feed}.example/img/{n}.jpg" alt="photo" width="640"/>'
        f"<em>{_paragraph(rng, 20)}</em></p><ul><li>{_paragraph(rng, 8)}</li>"
        f"<li>{_paragraph(rng, 8)}</li></ul>"
    )
    escaped = html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    published = email.utils.formatdate(_BASE_TIME + n * 600, usegmt=True)
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f'<guid isPermaLink="false">outlet{feed}-{n}</guid>'
        f"<pubDate>{published}</pubDate><description>{escaped}</description></item>\n"
    )


def message_html(feed: int, n: int) -> str:
    """Message `n` of channel `feed`, in the preview's markup (bot.feeds.channel's docstring):
    a headline line, ~600 characters of text and an outbound link; one in 10 on the topic."""
    rng = random.Random(feed * 1_000_003 + n)
    title, lead = _RELEVANT[n % 3] if n % 10 == 2 else (_paragraph(rng, 8), "Reports said")
    at = email.utils.formatdate(_BASE_TIME + n * 600, usegmt=True)
    stamp = _iso(_BASE_TIME + n * 600)
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
        f'data-post="chan{feed}/{n}" data-view="eyJjIjotMTAwfQ">'
        f'<div class="tgme_widget_message_user"><a href="https://t.me/chan{feed}">'
        '<i class="tgme_widget_message_user_photo bgcolor1" data-content="C"></i></a></div>'
        '<div class="tgme_widget_message_bubble"><i class="tgme_widget_message_bubble_tail"></i>'
        '<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner'
        f'_name" href="https://t.me/chan{feed}"><span dir="auto">Channel {feed}</span></a></div>'
        f'<div class="tgme_widget_message_text js-message_text" dir="auto"><b>{title}</b><br/>'
        f"{lead} {_paragraph(rng, 40)}<br/>{_paragraph(rng, 40)} "
        f'<a href="https://outlet{feed}.example/news/{n}?utm_source=tg" target="_blank">'
        "Read more</a></div>"
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        '<span class="tgme_widget_message_views">12.5K</span>'
        '<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" '
        f'href="https://t.me/chan{feed}/{n}"><time datetime="{stamp}" class="time">{at[17:22]}'
        "</time></a></span></div></div></div></div></div>\n"
    )


def listing_html(feed: int, n: int) -> str:
    """Entry `n` of listing page `feed`: a linked headline, a dd.mm.yyyy date and a lead."""
    rng = random.Random(feed * 1_000_003 + n)
    title, lead = _RELEVANT[n % 3] if n % 10 == 2 else (_paragraph(rng, 8), "Reports said")
    when = time.gmtime(_BASE_TIME + n * 600)
    return (
        f'<article class="news-item"><div class="thumb"><img src="/img/{n}.jpg" alt=""></div>'
        f'<h3 class="news-title"><a href="/en/news/{n}-story?utm_source=home">{title}</a></h3>'
        f'<span class="news-date">{time.strftime("%d.%m.%Y %H:%M", when)}</span>'
        f'<p class="news-lead">{lead} {_paragraph(rng, 30)}</p></article>\n'
    )


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


# Paths and content types by kind: RSS feeds, Telegram channel previews, listing pages.
KINDS = {"feed": ("/f/", ".xml"), "telegram": ("/t/", ".html"), "html": ("/h/", ".html")}
PREVIEW = 20  # messages a channel preview shows


@dataclass
class Feed:
    """One feed (or channel preview, or listing page): its newest item number, body, validators."""

    number: int
    items: int
    newest: int
    version: int = 0
    kind: str = "feed"
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    cache: dict[int, str] = field(default_factory=dict)

    def build(self) -> None:
        """Render the body for the current newest item; keep rendered items for reuse."""
        count = min(self.items, PREVIEW) if self.kind == "telegram" else self.items
        numbers = range(self.newest, self.newest - count, -1)
        render = {"feed": item_xml, "telegram": message_html, "html": listing_html}[self.kind]
        parts = []
        for n in numbers:
            if n not in self.cache:
                self.cache[n] = render(self.number, n)
            parts.append(self.cache[n])
        self.cache = {n: self.cache[n] for n in numbers}
        self.etag = f'"{self.number}-{self.version}"'
        self.last_modified = email.utils.formatdate(
            _BASE_TIME + self.newest * 600 + self.version, usegmt=True
        )
        if self.kind == "telegram":
            self.body = _page(f"Channel {self.number}", "".join(reversed(parts)), channel=True)
            return
        if self.kind == "html":
            self.body = _page(f"Outlet {self.number}", "".join(parts), channel=False)
            return
        self.body = (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Outlet {self.number}</title><link>https://outlet{self.number}.example/</link>"
            f"<description>News</description><language>en</language>\n"
            + "".join(parts)
            + "</channel></rss>\n"
        ).encode()


def _page(title: str, entries: str, *, channel: bool) -> bytes:
    """A whole page around the entries: head, menus, scripts, footer, as real pages carry."""
    chrome = "".join(
        f'<li class="menu-item"><a href="/section/{k}">Section {k}</a></li>' for k in range(40)
    )
    script = (
        "<script>window.__data = {" + ",".join(f'"k{k}": {k}' for k in range(200)) + "}</script>"
    )
    if channel:
        main = (
            '<header class="tgme_header"><div class="tgme_channel_info_header">'
            f'<div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>'
            f'</div></header><main class="tgme_main"><section class="tgme_channel_history '
            f'js-message_history">{entries}</section></main>'
        )
    else:
        main = f'<main><div class="news-list">{entries}</div></main>'
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="stylesheet" href="/css/site.css">{script}</head><body>'
        f'<nav><ul class="menu">{chrome}</ul></nav>{main}<footer><ul>{chrome}</ul></footer>'
        "</body></html>\n"
    ).encode()


class Farm:
    """All feeds, and the answers to requests."""

    def __init__(self, feeds: int, items: int, *, mixed: bool = False) -> None:
        kinds = list(KINDS) if mixed else ["feed"]
        self.feeds = [
            Feed(i, items, newest=items, kind=kinds[i % len(kinds)]) for i in range(feeds)
        ]
        for feed in self.feeds:
            feed.build()
        self.served = 0
        self.fetches = [0] * feeds  # GETs of each feed, for /_counts

    def answer(self, target: str, headers: dict[str, str]) -> bytes:
        """The full HTTP response to a GET of `target`."""
        self.served += 1
        path, _, query = target.partition("?")
        kind = next(
            (k for k, (p, e) in KINDS.items() if path.startswith(p) and path.endswith(e)), None
        )
        if kind is not None:
            prefix, suffix = KINDS[kind]
            number = path[len(prefix) : -len(suffix)]
            if not number.isdigit() or int(number) >= len(self.feeds):
                return _response(404, b"no such feed\n")
            feed = self.feeds[int(number)]
            if feed.kind != kind:
                return _response(404, b"no such feed\n")
            self.fetches[feed.number] += 1
            extra = f"ETag: {feed.etag}\r\nLast-Modified: {feed.last_modified}\r\n"
            inm = headers.get("if-none-match")
            ims = headers.get("if-modified-since")
            if (inm is not None and feed.etag in inm) or (
                inm is None and ims == feed.last_modified
            ):
                return _response(304, b"", extra)
            ctype = "application/rss+xml" if kind == "feed" else "text/html"
            return _response(200, feed.body, extra, f"{ctype}; charset=utf-8")
        if path == "/_change":
            args = dict(p.partition("=")[::2] for p in query.split("&") if p)
            start, count, new = int(args["start"]), int(args["count"]), int(args["new"])
            changed = []
            for k in range(count):
                feed = self.feeds[(start + k) % len(self.feeds)]
                feed.newest += new
                feed.version += 1
                feed.build()
                changed.append(str(feed.number))
            return _response(200, ("\n".join(changed) + "\n").encode())
        if path == "/_counts":
            return _response(200, " ".join(map(str, self.fetches)).encode() + b"\n")
        if path == "/_stats":
            return _response(200, f"{self.served}\n".encode())
        return _response(404, b"not found\n")


_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}


def _response(status: int, body: bytes, extra: str = "", ctype: str = "text/plain") -> bytes:
    head = f"HTTP/1.1 {status} {_REASONS[status]}\r\n{extra}"
    if status != 304:
        head += f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode("latin-1") + body


class _Connection(asyncio.Protocol):
    def __init__(self, farm: Farm) -> None:
        self.farm = farm
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            raw, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            lines = raw.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or parts[0] not in ("GET", "HEAD"):
                self.transport.write(_response(400, b"GET only\n"))
                self.transport.close()
                return
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.transport.write(self.farm.answer(parts[1], headers))


async def _serve(farm: Farm, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Connection(farm), "127.0.0.1", port, backlog=1024, reuse_address=True
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    # The benchmark closes our stdin when it is done (or dies): that is the signal to stop.
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()
    server.close()


def main() -> None:
    """Build every feed, then serve until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="feed i is an RSS feed, channel preview or listing page by i %% 3",
    )
    args = parser.parse_args()
    asyncio.run(_serve(Farm(args.feeds, args.items, mixed=args.mixed), args.port))


if __name__ == "__main__":
    main()
