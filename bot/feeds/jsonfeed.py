"""JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1) read as a feed. No I/O.

feedparser does not read JSON, so a `feed` source whose body is JSON comes here (`looks_like_json`:
the first byte past whitespace and a BOM is `{`, or the content type says `application/feed+json`
or `application/json`). Per item: `id` (the key, as a GUID), `url` (else `external_url`),
`title`, `summary` else `content_text` else `content_html`, `date_published` else `date_modified`
(RFC 3339), `language` (1.1; else the feed's). The size cap is feeds' (`MAX_BODY_BYTES`); JSON
nested too deep for the decoder is a `ParseError`, like anything else that is not a JSON Feed.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from bot.errors import ParseError
from bot.feeds.dates import read_date
from bot.feeds.parse import MAX_WARNING, KeyedFeed, keyed_feed
from bot.feeds.safety import MAX_BODY_BYTES

_JSON_TYPES = ("application/feed+json", "application/json")
_VERSION = "https://jsonfeed.org/version/"


def looks_like_json(body: bytes, content_type: str | None = None) -> bool:
    """Whether a feed body is JSON (by its first character, or its content type)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    # A JSON label over XML is a mislabelled feed: the body decides when it shows markup.
    return head.startswith(b"{") or (media in _JSON_TYPES and not head.startswith(b"<"))


def read_json_feed(
    body: bytes,
    *,
    source_id: str,
    url: str,
    language: str | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> KeyedFeed:
    """A JSON Feed's items as a keyed feed; ParseError when the body is not one."""
    if len(body) > max_bytes:
        raise ParseError(f"body too large: {len(body)} bytes, limit {max_bytes}")
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"not a JSON Feed: {type(exc).__name__}: {exc}"[:MAX_WARNING]) from exc
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(_VERSION):
        raise ParseError(
            "not a feed: JSON without a JSON Feed `version` (https://jsonfeed.org/version/1.1)"
        )
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError("not a JSON Feed: `items` is not a list")
    entries = [e for e in (_entry(item) for item in items) if e is not None]
    return keyed_feed(
        entries,
        title=_str(data, "title"),
        source_id=source_id,
        url=url,
        home=_str(data, "home_page_url"),
        language=_str(data, "language") or language,
        self_url=_str(data, "feed_url") or None,
    )


def _entry(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    entry: dict[str, Any] = {
        "id": _str(item, "id") or None,
        "link": _str(item, "url") or _str(item, "external_url"),
        "title": _str(item, "title"),
        "summary": _str(item, "summary")
        or _str(item, "content_text")
        or _str(item, "content_html"),
    }
    if code := _str(item, "language"):
        entry["language"] = code
    for name in ("date_published", "date_modified"):
        moment = read_date(_str(item, name))
        if moment is not None:
            aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
            entry["published_parsed"] = aware.astimezone(UTC).timetuple()
            break
    return entry


def _str(node: dict[str, Any], key: str) -> str:
    value = node.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # ids are often numbers, though the spec says strings
    return value if isinstance(value, str) else ""
