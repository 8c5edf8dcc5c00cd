"""Turn fetched feed bytes into a `ParsedFeed` of normalized `Item`s. No network, no clock.

The only module that knows feedparser. Steps, in order:

1. `safety.defuse`: size and markup caps, DOCTYPE and ENTITY declarations made harmless.
2. `charset.repair_cp1251`: Windows-1251 bytes under a UTF-8 label become UTF-8.
3. feedparser, handed a `BytesIO` (never a string, which it might take for a path or URL) and the
   HTTP content type, so it never opens files or the network and honours the charset; without
   its HTML sanitizer, as step 5 reduces all markup to plain text. Anything it raises becomes
   `ParseError`.
4. Refuse what is not a feed (an HTML page, a bot challenge, garbage): `ParseError`.
5. Key each entry (`read_feed` → `KeyedFeed`): its title, GUID and link are normalized with the
   pure helpers of `bot.feeds.normalize`, placeholders dropped (see `_head`), and of entries that
   share a key the first is kept. Only then `KeyedFeed.items` normalizes the rest (summary, date,
   language) of the entries a caller does not already know: for a feed seen before that is a few
   entries of fifty, and the summary is most of the work.

A bozo feed (ill-formed but readable) still yields its items; `ParsedFeed.warning` says why.
"""

from __future__ import annotations

import io
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import feedparser

from bot.errors import ParseError
from bot.feeds.charset import repair_cp1251
from bot.feeds.normalize import (
    canonical_url,
    clean_summary,
    clean_title,
    item_key,
    language_code,
    names_regional_zone,
    parse_date_text,
    to_utc,
    usable_identities,
)
from bot.feeds.safety import MAX_BODY_BYTES, defuse
from bot.models import Item, ParsedFeed

MAX_WARNING = 300
# The entry key of an article page other than the link (Telegram posts). '#' is in no XML name,
# so no feed's element can set it through feedparser.
ARTICLE_LINK = "#article"
FALLBACK_TITLE = 80  # characters of the summary that stand in for a missing title

_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body")


def parse_feed(
    body: bytes,
    *,
    source_id: str,
    url: str,
    now: datetime,
    language: str | None = None,
    content_type: str | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> ParsedFeed:
    """Parse and normalize a feed body; raise ParseError when it holds no readable feed."""
    feed = read_feed(
        body,
        source_id=source_id,
        url=url,
        language=language,
        content_type=content_type,
        max_bytes=max_bytes,
    )
    return ParsedFeed(
        title=feed.title,
        items=tuple(feed.items(now=now)),
        warning=feed.warning,
        hub=feed.hub,
        self_url=feed.self_url,
    )


def read_feed(
    body: bytes,
    *,
    source_id: str,
    url: str,
    language: str | None = None,
    content_type: str | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> KeyedFeed:
    """Parse a feed body and key its entries, leaving the rest of normalization for `items`."""
    if not body.strip():
        raise ParseError("empty body")
    defused = defuse(body, max_bytes=max_bytes)
    notes = list(defused.notes)
    data = defused.body
    repaired = repair_cp1251(data, content_type)
    if repaired is not None:
        data = repaired
        content_type = _with_utf8(content_type)
        notes.append("Windows-1251 bytes under a UTF-8 label, re-encoded")
    # Without a content type feedparser flags every feed; XML's own default (UTF-8) is right.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        # Titles and summaries become plain text (tags dropped, script and style content
        # with them), so feedparser's HTML sanitizer and relative-URI rewriting would only
        # rework markup we discard: off, they cut the parse to about 40% of its time.
        result = feedparser.parse(
            io.BytesIO(data),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    # feedparser runs a SAX parser, an SGML parser and an HTML sanitizer over hostile input:
    # whatever escapes them (RecursionError, MemoryError, a bug) is this source's parse error.
    except Exception as exc:
        raise ParseError(f"feed parser failed: {type(exc).__name__}: {exc}"[:MAX_WARNING]) from exc
    if result.get("bozo"):
        bozo = result.get("bozo_exception")
        notes.append(f"{type(bozo).__name__}: {bozo}" if bozo is not None else "ill-formed")
    entries = result.get("entries") or []
    if not entries and not result.get("version"):
        raise ParseError(_not_a_feed(body, notes))
    feed = result.get("feed") or {}
    return keyed_feed(
        entries,
        title=_text(feed, "title"),
        source_id=source_id,
        url=url,
        home=_text(feed, "link"),
        language=language_code(_text(feed, "language"))
        or _detail_language(feed)
        or language_code(language),
        notes=notes,
        hub=_link(feed, "hub"),
        self_url=_link(feed, "self"),
    )


def keyed_feed(
    entries: Sequence[Mapping[str, Any]],
    *,
    title: str,
    source_id: str,
    url: str,
    home: str = "",
    language: str | None = None,
    notes: Sequence[str] = (),
    hub: str | None = None,
    self_url: str | None = None,
) -> KeyedFeed:
    """Key entries shaped as feedparser's (`title`, `link`, `id`, `summary`, `published` and
    `published_parsed`, `language`; `ARTICLE_LINK` for a page other than the link): the one
    path every source type shares, so keys, placeholders and duplicates follow the same rules."""
    heads = [h for h in (_head(entry, base=url) for entry in entries) if h is not None]
    return KeyedFeed(
        title=clean_title(title),
        warning="; ".join(notes)[:MAX_WARNING] or None,
        source_id=source_id,
        language=language,
        entries=_keyed(heads, reject={canonical_url(home, url), url}),
        hub=hub,
        self_url=self_url,
    )


@dataclass(slots=True)
class _Head:
    """What an entry's key needs: its title, GUID and link; its summary only when it must be read
    to key the entry (no usable title, GUID or link) and is otherwise left for later."""

    entry: Mapping[str, Any]
    guid: str | None
    url: str
    title: str
    summary: str | None = None

    def text(self) -> str:
        """The entry's summary, normalized once."""
        if self.summary is None:
            self.summary = _summary(self.entry)
        return self.summary


@dataclass(frozen=True, slots=True)
class KeyedFeed:
    """A parsed feed whose entries have their keys but not yet their other normalized values.

    Keys cost a fraction of normalizing an entry, so a caller can learn which entries it already
    knows (`keys`) and normalize only the others (`items(skip=...)`).
    """

    title: str
    warning: str | None
    source_id: str
    language: str | None  # the feed's language, for entries that name none
    entries: tuple[tuple[str, _Head], ...]  # (key, head), first of each key, in feed order
    hub: str | None = None  # the WebSub hub the feed advertises (<link rel="hub">)
    self_url: str | None = None  # the feed's own URL as it states it (<link rel="self">)

    @property
    def keys(self) -> tuple[str, ...]:
        """The entries' keys, in feed order."""
        return tuple(key for key, _ in self.entries)

    def items(self, *, now: datetime, skip: Collection[str] = ()) -> list[Item]:
        """The normalized items, in feed order, but for those whose keys are in `skip`."""
        return [
            Item(
                source_id=self.source_id,
                key=key,
                url=head.url,
                title=head.title,
                summary=head.text(),
                published=to_utc(_published(head.entry), now=now),
                language=language_code(_text(head.entry, "language"))
                or _detail_language(head.entry)
                or self.language,
                guid=head.guid,
                article_url=_article(head.entry),
            )
            for key, head in self.entries
            if key not in skip
        ]


def _head(entry: Mapping[str, Any], *, base: str) -> _Head | None:
    """An entry's identifying values; None for a placeholder that has nothing to read.

    A title is usable only if it has a letter: Tehran Times prints placeholders whose title is a
    bare page number. Such an item keeps its place only if its summary has text, which then
    stands in for the title; with neither, it is dropped, even when it has a link, because
    neither a reader nor the topic filter could make anything of it.
    """
    title = clean_title(_text(entry, "title"))
    summary = None
    if not _has_letter(title):
        summary = _summary(entry)
        if not _has_letter(summary):
            return None
        title = _shorten(summary, FALLBACK_TITLE)
    link = canonical_url(_text(entry, "link"), base)
    guid = _text(entry, "id").strip() or None
    return _Head(entry=entry, guid=guid, url=link, title=title, summary=summary)


def _article(entry: Mapping[str, Any]) -> str | None:
    value = _get(entry, ARTICLE_LINK)
    return value if isinstance(value, str) else None


def _summary(entry: Mapping[str, Any]) -> str:
    return clean_summary(_body(entry))


def _keyed(heads: list[_Head], *, reject: set[str]) -> tuple[tuple[str, _Head], ...]:
    """Entries with their keys; of entries that share a key, the first is kept."""
    reject = {v for r in reject for v in (r, canonical_url(r)) if v}
    # A GUID that is really the home page or the feed's own address names no item.
    guids = usable_identities(
        [None if h.guid and canonical_url(h.guid) in reject else h.guid for h in heads],
        reject=reject,
    )
    links = usable_identities([h.url for h in heads], reject=reject)
    keyed: dict[str, _Head] = {}
    for head, guid, link in zip(heads, guids, links, strict=True):
        # Only an entry with neither a usable GUID nor link is keyed by its text.
        summary = head.text() if not (guid or link) else ""
        key = item_key(guid=guid, url=link, title=head.title, summary=summary)
        keyed.setdefault(key, head)
    return tuple(keyed.items())


def _body(entry: Mapping[str, Any]) -> str:
    """The teaser (description/summary), else the first full-content block."""
    summary = _get(entry, "summary")
    if summary:
        return str(summary)
    for content in _get(entry, "content") or ():
        value = _get(content, "value") if isinstance(content, Mapping) else None
        if value:
            return str(value)
    return ""


def _published(entry: Mapping[str, Any]) -> time.struct_time | datetime | None:
    """feedparser's parsed date (UTC), unless it misread a regional zone name or found none."""
    for name in ("published", "updated", "created"):
        raw = _get(entry, name)
        parsed = _get(entry, f"{name}_parsed")
        misread = isinstance(raw, str) and (names_regional_zone(raw) or parsed is None)
        if misread and (moment := parse_date_text(str(raw))) is not None:
            return moment
        if isinstance(parsed, time.struct_time):
            return parsed
    return None


def _detail_language(node: Mapping[str, Any]) -> str | None:
    """xml:lang as feedparser records it on the title or summary (Atom, RDF)."""
    for name in ("title_detail", "summary_detail"):
        detail = _get(node, name)
        if isinstance(detail, Mapping) and (code := language_code(_text(detail, "language"))):
            return code
    return None


def _get(node: object, key: str) -> Any:
    """A field as stored, bypassing FeedParserDict's aliases (they warn, and read `updated` from
    `published`, which would hide a missing date)."""
    return dict.get(node, key) if isinstance(node, dict) else None


def _link(feed: object, rel: str) -> str | None:
    """The first absolute http(s) href of the feed-level links with `rel` (WebSub discovery)."""
    links = _get(feed, "links")
    for link in links if isinstance(links, list) else []:
        href = _get(link, "href")
        if (
            _get(link, "rel") == rel
            and isinstance(href, str)
            and href.startswith(("http://", "https://"))
        ):
            return href.strip()
    return None


def _text(node: object, key: str) -> str:
    value = _get(node, key)
    return value if isinstance(value, str) else ""


def _has_letter(text: str) -> bool:
    return any(char.isalpha() for char in text)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:-") + "…"


def _with_utf8(content_type: str | None) -> str:
    """The content type with its charset replaced by UTF-8 (after we re-encoded the body)."""
    media = (content_type or "application/xml").split(";", 1)[0].strip() or "application/xml"
    return f"{media}; charset=utf-8"


def _not_a_feed(body: bytes, notes: list[str]) -> str:
    """Why a body that yielded no feed is refused, for the operator."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_HTML_START) or b"<html" in head:
        reason = "not a feed: an HTML page"
    else:
        reason = "not a feed: no RSS, Atom or RDF markup found"
    detail = "; ".join(notes)
    return f"{reason} ({detail})"[:MAX_WARNING] if detail else reason
