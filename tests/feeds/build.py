"""Builders of RSS 2.0, Atom and RSS 1.0 (RDF) bodies, so tests can make feeds and append items.

    body = rss([FeedItem("Baku and Tehran talk", link="https://example.com/1")])
    body = rss([{"title": "…", "guid": "a-1"}, item(2)], title="Caliber")

An item is a `FeedItem` or a dict with the same keys (title, link, guid, description, pub_date).
`pub_date` is a `datetime` (formatted for each dialect) or a string used as written, so tests can
also send malformed dates. Text is XML-escaped; `description` may hold HTML, escaped the way feeds
carry it. `encoding` picks both the XML declaration and the bytes, for charset tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

_EPOCH = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FeedItem:
    """One entry of a test feed; None leaves the element out."""

    title: str | None = None
    link: str | None = None
    guid: str | None = None
    description: str | None = None
    pub_date: datetime | str | None = None


ItemLike = FeedItem | Mapping[str, Any]


def item(n: int, **overrides: Any) -> FeedItem:
    """Item `n`: title, link, guid, description, and a date n minutes after a fixed epoch."""
    values: dict[str, Any] = {
        "title": f"Item {n}",
        "link": f"https://example.com/news/{n}",
        "guid": f"https://example.com/news/{n}",
        "description": f"Text of item {n}.",
        "pub_date": _EPOCH + timedelta(minutes=n),
    }
    values.update(overrides)
    return FeedItem(**values)


def rss(
    items: Iterable[ItemLike],
    *,
    title: str = "Test feed",
    link: str = "https://example.com/",
    description: str = "A feed for tests",
    language: str | None = None,
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 2.0 document."""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0">\n<channel>\n',
        _el("title", title),
        _el("link", link),
        _el("description", description),
    ]
    if language:
        parts.append(_el("language", language))
    for raw in items:
        it = _coerce(raw)
        parts.append("<item>\n")
        parts.append(_el("title", it.title))
        parts.append(_el("link", it.link))
        if it.guid is not None:
            permalink = "true" if it.guid.startswith(("http://", "https://")) else "false"
            parts.append(f"<guid isPermaLink={quoteattr(permalink)}>{escape(it.guid)}</guid>\n")
        parts.append(_el("description", it.description))
        parts.append(_el("pubDate", _date(it.pub_date, rfc822=True)))
        parts.append("</item>\n")
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode(encoding)


def atom(
    items: Iterable[ItemLike],
    *,
    title: str = "Test feed",
    link: str = "https://example.com/",
    feed_id: str = "urn:test:feed",
    updated: datetime = _EPOCH,
    language: str | None = None,
    encoding: str = "utf-8",
) -> bytes:
    """An Atom 1.0 document; an entry's id is its guid, else its link, else a generated URN."""
    lang = f" xml:lang={quoteattr(language)}" if language else ""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>\n',
        f'<feed xmlns="http://www.w3.org/2005/Atom"{lang}>\n',
        _el("title", title),
        f"<link href={quoteattr(link)}/>\n",
        _el("id", feed_id),
        _el("updated", updated.isoformat()),
    ]
    for n, raw in enumerate(items):
        it = _coerce(raw)
        parts.append("<entry>\n")
        parts.append(_el("title", it.title))
        if it.link is not None:
            parts.append(f"<link href={quoteattr(it.link)}/>\n")
        parts.append(_el("id", it.guid or it.link or f"urn:test:entry:{n}"))
        when = _date(it.pub_date, rfc822=False)
        parts.append(_el("published", when))
        parts.append(_el("updated", when or updated.isoformat()))
        if it.description is not None:
            parts.append(f'<summary type="html">{escape(it.description)}</summary>\n')
        parts.append("</entry>\n")
    parts.append("</feed>\n")
    return "".join(parts).encode(encoding)


def rdf(
    items: Iterable[ItemLike],
    *,
    title: str = "Test feed",
    link: str = "https://example.com/",
    description: str = "A feed for tests",
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 1.0 (RDF) document, dates in Dublin Core."""
    materialized = [_coerce(raw) for raw in items]
    about = [it.link or it.guid or f"urn:test:item:{n}" for n, it in enumerate(materialized)]
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>\n',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n',
        f"<channel rdf:about={quoteattr(link)}>\n",
        _el("title", title),
        _el("link", link),
        _el("description", description),
        "<items><rdf:Seq>\n",
        *(f"<rdf:li rdf:resource={quoteattr(a)}/>\n" for a in about),
        "</rdf:Seq></items>\n</channel>\n",
    ]
    for it, a in zip(materialized, about, strict=True):
        parts.append(f"<item rdf:about={quoteattr(a)}>\n")
        parts.append(_el("title", it.title))
        parts.append(_el("link", it.link))
        parts.append(_el("description", it.description))
        parts.append(_el("dc:date", _date(it.pub_date, rfc822=False)))
        parts.append("</item>\n")
    parts.append("</rdf:RDF>\n")
    return "".join(parts).encode(encoding)


def _coerce(raw: ItemLike) -> FeedItem:
    return raw if isinstance(raw, FeedItem) else FeedItem(**raw)


def _el(name: str, text: str | None) -> str:
    return "" if text is None else f"<{name}>{escape(text)}</{name}>\n"


def _date(value: datetime | str | None, *, rfc822: bool) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return format_datetime(value) if rfc822 else value.isoformat()
