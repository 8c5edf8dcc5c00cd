"""Turn a stored flagged item into a Telegram HTML message, its plain-text twin, or a console block.

Pure: values in, strings out; no clock (the timezone is passed in), no I/O.

Steps, in order, for every string that comes from a feed:
1. `clean`: lone surrogates become U+FFFD; control characters (ESC and the rest of C0/C1) and
   bidi embeddings/overrides/isolates are removed; line breaks and tabs become spaces; runs of
   whitespace collapse. Persian ZWNJ/ZWJ and RLM/LRM stay: they are part of the writing.
   Terminal escape sequences go whole, not just their ESC.
2. `trim`: cut to a length at a sentence end, else a word end, else a grapheme boundary. The
   summary shown is the item's review summary (`StoredItem.review_summary`, already within
   BOT_SUMMARY_CHARS) when it has one, else the feed's teaser.
3. Escape, at render time, after trimming, so a cut can never fall inside an entity.
4. Fit the whole message under Telegram's 4096 UTF-16 units of *visible* text: shrink the
   summary first (dropping it when too little would remain), then the title.

Topics are shown as "Topic: <name> #<hashtag>": the name for humans, the hashtag (built from the
topic id) so a tap filters the chat to that topic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from bot.models import StoredItem
from bot.text.cut import trim
from bot.text.markup import (
    TELEGRAM_TEXT_LIMIT,
    bold,
    escape_text,
    link,
    safe_href,
    utf16_len,
    visible_text,
)

__all__ = [
    "clean",
    "format_console",
    "format_console_time",
    "format_plain",
    "format_telegram",
    "format_time",
    "trim",
    "utf16_len",
    "visible_text",
]

_MIN_SUMMARY = 40  # UTF-16 units; a summary squeezed below this is dropped rather than shown
_SOURCE_MAX = 64  # config-supplied names are bounded too, so the title always keeps room
_TOPIC_NAME_MAX = 64
_HASHTAG_MAX = 32
_TOPICS_MAX = 5
_PLAIN_URL_MAX = 1024  # a longer URL is left out of the plain-text fallback
_CONSOLE_TITLE_MAX = 500
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Whole terminal escape sequences (CSI, OSC, two-byte ESC), so no "[31m" debris is left behind.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-~]"
)
_SPACE_LIKE = frozenset("\t\n\v\f\r\x85\u2028\u2029")
_NON_WORD = re.compile(r"\W+")


def clean(text: str) -> str:
    """Feed text made safe to show: no control characters, no bidi overrides, one-line."""
    out: list[str] = []
    for ch in _ANSI.sub("", text):
        if ch in _SPACE_LIKE:
            out.append(" ")
            continue
        if ch in _BIDI_CONTROLS:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            continue
        out.append("\ufffd" if category == "Cs" else ch)
    return " ".join("".join(out).split())


def _fit_units(text: str, units: int, limit: int | None = None) -> str:
    """`trim` to at most `units` UTF-16 units (and `limit` characters, if given)."""
    count = used = 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            break
        count += 1
    return trim(text, count if limit is None else min(count, limit))


def _offset(local: datetime) -> str:
    delta = local.utcoffset()
    minutes = int(delta.total_seconds()) // 60 if delta is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}" + (f":{mins:02d}" if mins else "")


def _local(moment: datetime, tz: tzinfo) -> datetime:
    # Items carry aware UTC times; a naive one is read as UTC rather than as the host's zone.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(tz)


def format_time(moment: datetime, tz: tzinfo) -> str:
    """Message style: "27 Nov 2026, 14:05 +04" (English month names, whatever the locale)."""
    t = _local(moment, tz)
    return f"{t.day} {_MONTHS[t.month - 1]} {t.year}, {t:%H:%M} {_offset(t)}"


def format_console_time(moment: datetime, tz: tzinfo) -> str:
    """Console style: "2026-11-27 14:05 +04"."""
    t = _local(moment, tz)
    return f"{t:%Y-%m-%d %H:%M} {_offset(t)}"


@dataclass(frozen=True, slots=True)
class _Parts:
    """The message's pieces as clean plain text; rendering escapes them."""

    title: str
    href: str | None
    meta: str
    summary: str  # as shown
    full_summary: str  # cleaned but untrimmed, re-trimmed when the message must shrink
    summary_limit: int
    topics: str  # "Topic: Azerbaijan–Iran relations #azerbaijan_iran", or ""


def _hashtag(topic_id: str) -> str | None:
    # Telegram hashtags are word characters only and not all digits.
    tag = _NON_WORD.sub("_", topic_id).strip("_")[:_HASHTAG_MAX].rstrip("_")
    return f"#{tag}" if tag and not tag.isdigit() else None


def _topic_line(topic_ids: tuple[str, ...], topic_names: Mapping[str, str]) -> str:
    ids = list(dict.fromkeys(topic_ids))[:_TOPICS_MAX]
    if not ids:
        return ""
    names = [trim(clean(topic_names.get(i, i)) or i, _TOPIC_NAME_MAX) for i in ids]
    tags = [t for t in map(_hashtag, ids) if t]
    label = "Topic:" if len(ids) == 1 else "Topics:"
    return " ".join([label, ", ".join(names), *tags])


def _parts(
    stored: StoredItem, topic_names: Mapping[str, str], tz: tzinfo, summary_limit: int
) -> _Parts:
    item = stored.item
    title = clean(item.title) or "(untitled)"
    source = trim(clean(stored.source_name) or clean(item.source_id), _SOURCE_MAX)
    summary, summary_limit = _summary(stored, title, summary_limit)
    return _Parts(
        title=title,
        href=safe_href(item.url),
        meta=f"{source} · {format_time(item.published, tz)}",
        summary=_fit_units(summary, TELEGRAM_TEXT_LIMIT, summary_limit),
        full_summary=summary,
        summary_limit=summary_limit,
        topics=_topic_line(stored.topics, topic_names),
    )


def _summary(stored: StoredItem, title: str, summary_limit: int) -> tuple[str, int]:
    """The text shown under the title, and its character limit.

    The review summary (`bot.review.summary`, cut to BOT_SUMMARY_CHARS when it was made) wins
    over the feed's teaser, which is cut to `summary_limit` here.
    """
    if stored.review_summary:
        review = clean(stored.review_summary)
        if review:
            return review, max(summary_limit, len(review))
    summary = clean(stored.item.summary)
    if summary.casefold() == title.casefold():
        summary = ""  # feeds that repeat the title as the description
    return summary, summary_limit


def _render_html(p: _Parts) -> str:
    title = link(p.title, p.href) if p.href else escape_text(p.title)
    blocks = [f"{bold(title)}\n{escape_text(p.meta)}"]
    if p.summary:
        blocks.append(escape_text(p.summary))
    if p.topics:
        blocks.append(escape_text(p.topics))
    return "\n\n".join(blocks)


def _render_plain(p: _Parts) -> str:
    blocks = [f"{p.title}\n{p.meta}"]
    if p.summary:
        blocks.append(p.summary)
    tail = [p.topics] if p.topics else []
    if p.href and utf16_len(p.href) <= _PLAIN_URL_MAX:
        tail.append(p.href)
    if tail:
        blocks.append("\n".join(tail))
    return "\n\n".join(blocks)


def _fit(p: _Parts, render: Callable[[_Parts], str], shown: Callable[[str], str]) -> str:
    """Render within Telegram's limit: shrink (or drop) the summary, then shrink the title.

    Each part's visible length adds up, so removing the excess from one part is exact. The other
    parts are bounded (`_SOURCE_MAX`, `_TOPICS_MAX`, `_PLAIN_URL_MAX`...), so the title always keeps
    well over a thousand units.
    """
    out = render(p)
    excess = utf16_len(shown(out)) - TELEGRAM_TEXT_LIMIT
    if excess <= 0:
        return out
    if p.summary:
        keep = utf16_len(p.summary) - excess
        fitted = _fit_units(p.full_summary, keep, p.summary_limit) if keep >= _MIN_SUMMARY else ""
        p = replace(p, summary=fitted)
        out = render(p)
        excess = utf16_len(shown(out)) - TELEGRAM_TEXT_LIMIT
        if excess <= 0:
            return out
    return render(replace(p, title=_fit_units(p.title, utf16_len(p.title) - excess)))


def _identity(text: str) -> str:
    return text


def format_telegram(
    stored: StoredItem, *, topic_names: Mapping[str, str], tz: tzinfo, summary_limit: int = 300
) -> str:
    """The item as a Telegram HTML message: linked bold title, source · time, summary, topics.

    `summary_limit` is in characters; the whole message stays within 4096 UTF-16 units of
    visible text whatever the feed sent.
    """
    return _fit(_parts(stored, topic_names, tz, summary_limit), _render_html, visible_text)


def format_plain(
    stored: StoredItem, *, topic_names: Mapping[str, str], tz: tzinfo, summary_limit: int = 300
) -> str:
    """The same message as plain text (the fallback when Telegram cannot parse our HTML)."""
    return _fit(_parts(stored, topic_names, tz, summary_limit), _render_plain, _identity)


def format_console(stored: StoredItem, *, topic_names: Mapping[str, str], tz: tzinfo) -> str:
    """A terminal block: source · time, title, link, the review summary (when there is one),
    then matched terms per topic and group.

    Topics are shown by id (what `--topic` takes), so `topic_names` is accepted for symmetry with
    the other formatters. Every feed string is cleaned, so no escape sequence reaches the terminal.
    """
    del topic_names
    item = stored.item
    source = clean(stored.source_name) or clean(item.source_id)
    lines = [
        f"── {source} · {format_console_time(item.published, tz)} ──",
        trim(clean(item.title), _CONSOLE_TITLE_MAX) or "(untitled)",
    ]
    url = clean(item.url)
    if url:
        lines.append(url)
    if stored.review_summary and (summary := clean(stored.review_summary)):
        lines.append(trim(summary, _CONSOLE_TITLE_MAX))
    for match in stored.matches:
        groups = ", ".join(
            f"{clean(group)}=[{', '.join(clean(term) for term in terms)}]"
            for group, terms in match.terms_by_group().items()
        )
        topic = clean(match.topic_id)
        lines.append(f"{topic}: {groups}" if groups else topic)
    return "\n".join(lines)
