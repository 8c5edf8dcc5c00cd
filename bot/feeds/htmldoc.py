"""HTML pages (channel previews, listing pages) parsed into an lxml tree within bounds. No I/O.

Pages are untrusted, so before libxml2's HTML parser sees one it must pass three checks, each a
`ParseError` with one line naming the limit:

1. at most `MAX_PAGE_BYTES` (8 MiB, as for feeds; the fetcher's own cap usually cuts first);
2. at most `MAX_TAGS` start tags: the tree's memory grows with them (about 1 KB each);
3. no tag with more than `MAX_ATTRIBUTES` attributes: libxml2 checks each new attribute against
   all earlier ones of its tag, so one tag of a million attributes takes hours (measured: 20,000
   take 1 s, 50,000 take 8 s). The scan that finds such a tag is a single pass of possessive
   regular expressions (no backtracking), quote-aware as the parser is, so `a=">"` does not end a tag.

Depth needs no check of ours: libxml2 stops nesting at 256 levels, whatever the page asks.
Decoding is `bot.feeds.extract.decode_html`'s (BOM, UTF-8, header, meta tag, then the bytes).
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from bot.errors import ParseError
from bot.feeds.extract import decode_html

MAX_PAGE_BYTES = 8 * 1024 * 1024
MAX_TAGS = 200_000
MAX_ATTRIBUTES = 1_000
_LONG_TAG = 4_096  # bytes; only a tag this long can hold MAX_ATTRIBUTES attributes worth counting
# A start tag as the parser reads it: quoted values may hold ">" and "<". Possessive throughout.
_TAG = re.compile(rb"""<[A-Za-z](?:[^>"']++|"[^"]*+"|'[^']*+')*+""")
_QUOTED = re.compile(rb""""[^"]*+"|'[^']*+'""")
_ATTRIBUTE = re.compile(rb"""[^\s=/>"']++""")


def parse_html(body: bytes, content_type: str | None = None) -> lxml.html.HtmlElement:
    """The page's root element; ParseError when it breaks a limit or holds no document."""
    check_page(body)
    text = decode_html(body, content_type)
    parser = lxml.html.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, default_doctype=False
    )
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ParseError(f"not an HTML page: {exc}") from exc
    return root


def check_page(body: bytes) -> None:
    """Raise ParseError when the page is too large, has too many tags, or a tag too many attributes."""
    if len(body) > MAX_PAGE_BYTES:
        raise ParseError(f"page too large: {len(body)} bytes, limit {MAX_PAGE_BYTES}")
    tags = body.count(b"<") - body.count(b"</")  # start tags (and stray "<"): end tags add nothing
    if tags > MAX_TAGS:
        raise ParseError(f"too much markup: {tags} tags, limit {MAX_TAGS}")
    if len(body) < _LONG_TAG:
        return
    for match in _TAG.finditer(body):
        if match.end() - match.start() < _LONG_TAG:
            continue
        bare = _QUOTED.sub(b" ", match.group())
        count = sum(1 for _ in _ATTRIBUTE.finditer(bare)) - 1  # less the tag's own name
        if count > MAX_ATTRIBUTES:
            raise ParseError(
                f"a tag with {count} attributes, limit {MAX_ATTRIBUTES} (a hostile page?)"
            )
