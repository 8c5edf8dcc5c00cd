"""Telegram HTML parse mode primitives: escaping, safe links, and length as Telegram counts it.

Telegram accepts only a handful of tags, and only `&lt; &gt; &amp; &quot;` plus numeric entities;
`html.escape` produces exactly those (its `'` becomes `&#x27;`). Message length is counted in UTF-16
code units of the text *after* entity parsing, so `visible_text` then `utf16_len` is what must stay
within `TELEGRAM_TEXT_LIMIT`. Pure: no I/O.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

TELEGRAM_TEXT_LIMIT = 4096  # UTF-16 code units of the text after entity parsing

_TAG = re.compile(r"<[^>]*>")
_LINK_SCHEMES = ("http", "https")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts message length in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_text(markup: str) -> str:
    """The text Telegram shows for HTML we built: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


def escape_text(text: str) -> str:
    """Escape text between tags (`& < >`)."""
    return html.escape(text, quote=False)


def escape_attr(text: str) -> str:
    """Escape an attribute value (`& < > " '`)."""
    return html.escape(text, quote=True)


def safe_href(url: str) -> str | None:
    """The URL if it is an absolute http(s) link fit for an href, else None.

    Everything else (javascript:, data:, tg:, relative or scheme-relative links, URLs holding
    whitespace or control characters) is refused: the title is then shown without a link.
    """
    url = url.strip()
    if not url or any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs") for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES or not parts.hostname:
        return None
    return url


def bold(inner_markup: str) -> str:
    """Wrap markup (already escaped) in <b>."""
    return f"<b>{inner_markup}</b>"


def link(text: str, href: str) -> str:
    """An <a> element; `text` and `href` are raw and escaped here."""
    return f'<a href="{escape_attr(href)}">{escape_text(text)}</a>'
