"""Atom (RFC 4287) feeds of a topic's newest flagged items. Pure: records in, bytes out.

`entries_from_items` turns stored items into `FeedEntry`s; it is the one place that decides what
an entry is made of, so that stories can replace items without touching the rendering.
`render_atom` builds the document with ElementTree (which escapes text and attributes) after
removing characters XML 1.0 cannot carry at all. Ids are `urn:uuid:` names derived from the
source and item key (uuid5), so an entry keeps its id across restarts and databases.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from bot.models import StoredItem

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# Fixed namespace for our entry and feed ids (any constant UUID would do; never change it).
ID_NAMESPACE = uuid.UUID("0b6c3f0e-9c1e-5d0a-8f4e-6d2b7a1c9e55")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # `updated` of a feed with no entries yet
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One Atom entry: what a reader shows, with a stable id."""

    id: str
    title: str
    link: str
    outlets: tuple[str, ...]
    summary: str
    published: datetime
    updated: datetime


def entry_id(source_id: str, key: str) -> str:
    """The stable `urn:uuid:` id of an item."""
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'item/{source_id}/{key}')}"


def feed_id(topic_id: str) -> str:
    """The stable `urn:uuid:` id of a topic's feed."""
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'topic/{topic_id}')}"


def entries_from_items(items: Sequence[StoredItem]) -> list[FeedEntry]:
    """Entries of flagged items, in the order given (newest first)."""
    return [
        FeedEntry(
            id=entry_id(s.item.source_id, s.item.key),
            title=s.item.title,
            link=s.item.url,
            outlets=(s.source_name,),
            summary=s.item.summary,
            published=s.item.published,
            updated=s.item.published,  # an item never changes once stored
        )
        for s in items
    ]


def render_atom(
    *,
    topic_id: str,
    title: str,
    entries: Sequence[FeedEntry],
    self_url: str,
    home_url: str,
) -> bytes:
    """The Atom document, UTF-8 with an XML declaration."""
    # Unqualified names under a default xmlns: ElementTree would otherwise invent "ns0:" prefixes.
    feed = ET.Element("feed", xmlns=ATOM_NS)
    _text(feed, "id", feed_id(topic_id))
    _text(feed, "title", title)
    newest = max((e.updated for e in entries), default=EPOCH)
    _text(feed, "updated", _when(newest))
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=_clean(self_url))
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=_clean(home_url))
    _text(feed, "generator", "media-review-bot")
    author = ET.SubElement(feed, "author")
    _text(author, "name", "media-review-bot")
    for entry in entries:
        node = ET.SubElement(feed, "entry")
        _text(node, "id", entry.id)
        _text(node, "title", entry.title).set("type", "text")
        if entry.link:
            ET.SubElement(node, "link", rel="alternate", href=_clean(entry.link))
        for outlet in entry.outlets:
            _text(ET.SubElement(node, "author"), "name", outlet)
        _text(node, "published", _when(entry.published))
        _text(node, "updated", _when(entry.updated))
        if entry.summary:
            _text(node, "summary", entry.summary).set("type", "text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def etag(body: bytes) -> str:
    """A strong ETag for a rendered body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    node = ET.SubElement(parent, name)
    node.text = _clean(value)
    return node


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
