"""What a URL serves, judged by its content: which source type reads it. No I/O.

For `/addsource` and `config addsource` (which take no type) and `python -m bot probe`, in order:

1. JSON (first character `{`) → `feed` (a JSON Feed; its parser says if it is not one);
2. XML whose root is `rss`, `feed` or `RDF` → `feed`; `urlset` or `sitemapindex` → `sitemap`;
3. an HTML page with the Telegram preview's `tgme_widget_message` markup → `telegram`;
4. an HTML page naming a feed in `<link rel="alternate" type="application/rss+xml|atom+xml|
   feed+json">` → follow that feed (absolute URL);
5. any other HTML page → refused with one line saying it needs CSS selectors, and how to give them;
6. anything else → `feed`, for feedparser to judge.

A channel link (`t.me/NAME`) is known by its URL before anything is fetched (`channel.preview_url`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import ParseError
from bot.feeds.channel import MARKER
from bot.feeds.fetch import sniff_root
from bot.feeds.htmldoc import parse_html
from bot.feeds.normalize import canonical_url
from bot.models import SourceKind

FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
NEEDS_SELECTORS = (
    "an HTML page without a feed: it needs CSS selectors for its items. Add it with "
    "python -m bot config addsource ID URL --item CSS --title CSS --link CSS "
    "[--date CSS] [--summary CSS]"
)


@dataclass(frozen=True, slots=True)
class Detected:
    """The type that reads the body, or the feed an HTML page links to (`follow`)."""

    kind: SourceKind | None
    follow: str | None = None


def detect(body: bytes, *, url: str, content_type: str | None = None) -> Detected:
    """The source type of a fetched body; ParseError (NEEDS_SELECTORS) for a plain HTML page."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return Detected("feed")
    root = sniff_root(body)
    if root in FEED_ROOTS:
        return Detected("feed")
    if root in SITEMAP_ROOTS:
        return Detected("sitemap")
    if root != "html" and b"<html" not in body[:4096].lower():
        return Detected("feed")
    if MARKER in body:
        return Detected("telegram")
    page = parse_html(body, content_type)
    for link in page.xpath("//link[@href][@type]"):
        rel = str(link.get("rel") or "").lower().split()
        media = str(link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" in rel and media in _FEED_TYPES:
            target = canonical_url(str(link.get("href")), url)
            if target:
                return Detected(None, follow=target)
    raise ParseError(NEEDS_SELECTORS)
