"""A news sitemap (sitemaps.org `urlset` with Google's news namespace) read as a feed. No I/O.

Each `<url>` with a `<news:news>` gives an item: link and key `<loc>`, title `<news:title>`,
time `<news:publication_date>` (W3C datetime), language `<news:publication><news:language>`.
There is no summary: such a source's flagged items get their review summary from the article
page (`fetch_article` "short", the default, fetches it for any item without feed text).
`<url>`s without a news block (the site's other pages) are not items.

The bytes pass `bot.feeds.safety.defuse` first (size and tag caps, DOCTYPE and entities made
harmless), then lxml's XML parser with entities unresolved and no network. A `sitemapindex`
is refused with the first sitemap it lists, to be added instead.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import lxml.etree

from bot.errors import ParseError
from bot.feeds.dates import read_date
from bot.feeds.normalize import canonical_url
from bot.feeds.parse import KeyedFeed, keyed_feed
from bot.feeds.safety import defuse

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_NS = {"s": SITEMAP_NS, "n": NEWS_NS}


def parse_xml(body: bytes) -> lxml.etree._Element:
    """The document's root, parsed without entities, DTDs or network; ParseError otherwise."""
    data = defuse(body).body
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        return lxml.etree.fromstring(data, parser=parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise ParseError(f"not well-formed XML: {exc}") from exc


def is_news_sitemap(root: lxml.etree._Element) -> bool:
    """A `urlset` that holds at least one `<news:news>`."""
    return root.tag == f"{{{SITEMAP_NS}}}urlset" and bool(
        root.xpath("s:url/n:news", namespaces=_NS)
    )


def read_sitemap(
    body: bytes, *, source_id: str, url: str, language: str | None = None
) -> KeyedFeed:
    """The news items of a sitemap as a keyed feed, in document order."""
    root = parse_xml(body)
    if root.tag == f"{{{SITEMAP_NS}}}sitemapindex":
        first = root.xpath("string(s:sitemap/s:loc)", namespaces=_NS).strip()
        raise ParseError(f"a sitemap index, not a sitemap: add one of its sitemaps ({first})")
    if root.tag != f"{{{SITEMAP_NS}}}urlset":
        raise ParseError("not a sitemap: no sitemaps.org <urlset>")
    entries: list[dict[str, Any]] = []
    for node in root.xpath("s:url[n:news]", namespaces=_NS):
        loc = canonical_url(node.xpath("string(s:loc)", namespaces=_NS), url)
        entry: dict[str, Any] = {
            "title": node.xpath("string(n:news/n:title)", namespaces=_NS),
            "link": loc,
            "id": loc or None,
        }
        code = node.xpath("string(n:news/n:publication/n:language)", namespaces=_NS).strip()
        if code:
            entry["language"] = code
        moment = read_date(node.xpath("string(n:news/n:publication_date)", namespaces=_NS))
        if moment is not None:
            aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
            entry["published_parsed"] = aware.astimezone(UTC).timetuple()
        entries.append(entry)
    if not entries:
        raise ParseError("a sitemap without news entries (no <news:news>): no titles to read")
    name = root.xpath("string(s:url/n:news/n:publication/n:name)", namespaces=_NS).strip()
    return keyed_feed(
        entries, title=name, source_id=source_id, url=url, home=url, language=language
    )
