"""One entry point for every source type: fetched bytes → `KeyedFeed`, by the source's `kind`.

- `feed`: JSON Feed when the body is JSON (`bot.feeds.jsonfeed`), else feedparser (`bot.feeds.parse`);
- `telegram`: a channel's web preview (`bot.feeds.channel`);
- `html`: a listing page read with the source's CSS selectors (`bot.feeds.listing`);
- `sitemap`: a news sitemap (`bot.feeds.sitemap`).

Every parser returns the same `KeyedFeed` feedparser's path does, so keys, known items,
matching, stories and delivery do not know which kind a source is. No I/O, no clock.
"""

from __future__ import annotations

from bot.errors import ParseError
from bot.feeds.channel import read_channel
from bot.feeds.jsonfeed import looks_like_json, read_json_feed
from bot.feeds.listing import read_listing
from bot.feeds.parse import KeyedFeed, read_feed
from bot.feeds.sitemap import read_sitemap
from bot.models import Source

HTML_KINDS = frozenset({"telegram", "html"})  # kinds whose body is an HTML page, not a feed


def read_source(
    body: bytes, *, source: Source, url: str, content_type: str | None = None
) -> KeyedFeed:
    """Parse and key a body as the source's kind says; ParseError when it holds nothing readable."""
    if not body.strip():
        raise ParseError("empty body")
    language = source.language
    match source.kind:
        case "telegram":
            return read_channel(
                body, source_id=source.id, url=url, language=language, content_type=content_type
            )
        case "html":
            if source.selectors is None:
                raise ParseError("an html source needs [sources.selectors]")
            return read_listing(
                body,
                selectors=source.selectors,
                source_id=source.id,
                url=url,
                language=language,
                content_type=content_type,
            )
        case "sitemap":
            return read_sitemap(body, source_id=source.id, url=url, language=language)
        case _:
            if looks_like_json(body, content_type):
                return read_json_feed(body, source_id=source.id, url=url, language=language)
            return read_feed(
                body, source_id=source.id, url=url, language=language, content_type=content_type
            )
