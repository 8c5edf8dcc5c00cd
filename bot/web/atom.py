"""Atom (RFC 4287) feeds of a topic's newest flagged stories. Pure: records in, bytes out.

`entries_from_stories` turns stories into `FeedEntry`s, one per story; it is the one place that
decides what an entry is made of. The first report (earliest published) gives the title, the
alternate link, the summary (its review summary when it has one) and `published`; every outlet
is an author, in the order they reported, and each other outlet's report a `related` link;
`updated` is the newest report's time, so a reader sees the entry change when an outlet joins.

`render_atom` builds the document with ElementTree (which escapes text and attributes) after
removing characters XML 1.0 cannot carry at all. Ids are `urn:uuid:` names derived from a
report's source and key (uuid5), so an entry keeps its id across restarts and databases. An
entry's id is that of the report that started the story (the one whose item id is the story's
id), not of the earliest published one: a late outlet whose report carries an earlier time
changes the title but not the id. When that report is not among those read (it matched another
topic), the first report stands in.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from bot.models import Story
from bot.review.listing import outlet_name

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# Fixed namespace for our entry and feed ids (any constant UUID would do; never change it).
ID_NAMESPACE = uuid.UUID("0b6c3f0e-9c1e-5d0a-8f4e-6d2b7a1c9e55")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # `updated` of a feed with no entries yet
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Related:
    """Another outlet's report of the same story: `<link rel="related">`."""

    outlet: str
    url: str


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One Atom entry: what a reader shows, with a stable id."""

    id: str
    title: str
    link: str
    outlets: tuple[str, ...]  # author names, in the order the outlets reported
    summary: str
    published: datetime
    updated: datetime
    related: tuple[Related, ...] = ()  # the other outlets' reports


def entry_id(source_id: str, key: str) -> str:
    """The stable `urn:uuid:` id of an item."""
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'item/{source_id}/{key}')}"


def feed_id(topic_id: str) -> str:
    """The stable `urn:uuid:` id of a topic's feed."""
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'topic/{topic_id}')}"


def entries_from_stories(stories: Sequence[Story]) -> list[FeedEntry]:
    """One entry per story, in the order given (newest report first)."""
    return [_entry(story) for story in stories]


def _entry(story: Story) -> FeedEntry:
    first = story.first
    founder = next((r for r in story.reports if r.id == story.id), first)
    outlets = story.outlets
    return FeedEntry(
        id=entry_id(founder.item.source_id, founder.item.key),
        title=first.item.title,
        link=first.item.url,
        outlets=tuple(outlet_name(r) for r in outlets),
        summary=first.review_summary or first.item.summary,
        published=first.item.published,
        updated=story.latest,
        related=tuple(Related(outlet_name(r), r.item.url) for r in outlets[1:] if r.item.url),
    )


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
        for other in entry.related:
            ET.SubElement(
                node, "link", rel="related", href=_clean(other.url), title=_clean(other.outlet)
            )
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
