"""Subscribers' answers as plain functions of values: help, topic lists, /latest and /sources.

Pure: no PTB, no database. Every dynamic string is escaped for Telegram HTML here, and long lists
are cut to one message with a note of how many lines were left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

from bot.models import Source, SourceState, StoredItem, Topic
from bot.text.formatting import clean, format_time, trim
from bot.text.markup import TELEGRAM_TEXT_LIMIT, escape_text, link, safe_href, utf16_len
from bot.text.markup import visible_text as _visible

LATEST_DEFAULT = 5
LATEST_MAX = 20
_TITLE_MAX = 160  # characters of a title in a list; the item message has the full one

INTRO = (
    "I watch news outlets in English, Russian, Azerbaijani and Persian and post the items "
    "about the topics a chat follows as soon as they appear."
)
HELP = "\n".join(
    [
        "<b>Commands</b>",
        "/latest [N] — the newest N stories (default 5, at most 20)",
        "/topics — topics and what this chat follows",
        "/subscribe &lt;topic&gt; — follow a topic",
        "/unsubscribe &lt;topic&gt; — stop following a topic",
        "/sources — news outlets and their health",
        "/status — this chat's subscription",
        "/mode instant|digest|both — each story as it comes, a daily review, or both",
        "/digest — the review of the last 24 hours, now",
        "/stop — unsubscribe this chat",
        "/help — this message",
    ]
)
LATEST_USAGE = (
    f"Usage: /latest [N], where N is a number from 1 to {LATEST_MAX} "
    f"(default {LATEST_DEFAULT}). Example: /latest 10"
)
NOT_SUBSCRIBED = "This chat is not subscribed; send /start to get new items here."
TOPIC_HINT = "Follow a topic with /subscribe &lt;topic&gt;, stop with /unsubscribe &lt;topic&gt;."


def bold(text: str) -> str:
    """Escaped text in bold."""
    return f"<b>{escape_text(text)}</b>"


def names_text(topic_ids: Sequence[str], names: Mapping[str, str]) -> str:
    """Topic names in bold, comma-separated (the id where a topic has no name any more)."""
    return ", ".join(bold(names.get(t, t)) for t in topic_ids) or "no topic"


def parse_count(args: Sequence[str]) -> int | None:
    """N of /latest: the default without arguments; None when malformed or below 1."""
    if not args:
        return LATEST_DEFAULT
    if len(args) > 1 or not args[0].isdecimal() or len(args[0]) > 6:
        return None
    n = int(args[0])  # isdecimal admits Persian and Arabic-Indic digits, which int() reads
    return n if n >= 1 else None


def _topic_key(text: str) -> str:
    return "".join(ch for ch in text.casefold().lstrip("#") if ch.isalnum())


def one_topic(args: Sequence[str], topics: Sequence[Topic], command: str) -> Topic | str:
    """The topic named by the arguments (by id, name or hashtag), or the answer explaining why not."""
    listing = topic_list(topics, ())
    if not args:
        return f"Usage: /{command} &lt;topic&gt;. Topics:\n{listing}"
    wanted = _topic_key(" ".join(args))
    for topic in topics:
        if wanted and wanted in (_topic_key(topic.id), _topic_key(topic.name)):
            return topic
    if len(args) > 1:
        return f"One topic at a time, please: /{command} &lt;topic&gt;. Topics:\n{listing}"
    shown = escape_text(trim(clean(args[0]), 40))
    return f"There is no topic “{shown}”. Topics:\n{listing}"


def topic_list(topics: Sequence[Topic], mine: Sequence[str]) -> str:
    """Every topic, ticked where the chat follows it; followed ones no longer offered last."""
    known = {t.id for t in topics}
    lines = [
        f"{'✅' if t.id in mine else '▫️'} {escape_text(t.name)} — <code>{escape_text(t.id)}</code>"
        for t in topics
    ]
    lines += [
        f"✅ <code>{escape_text(t)}</code> (no longer offered)" for t in mine if t not in known
    ]
    return "\n".join(lines) or "(no topics are configured)"


def fit_lines(head: str, lines: Sequence[str], tail: Sequence[str]) -> str:
    """Join as many lines as fit in one message, noting how many were left out."""
    shown: list[str] = []
    for i, line in enumerate(lines):
        more = len(lines) - i
        candidate = "\n".join([head, *shown, line, f"… and {more} more", *tail])
        if utf16_len(_visible(candidate)) > TELEGRAM_TEXT_LIMIT:
            return "\n".join([head, *shown, f"… and {more} more", *tail])
        shown.append(line)
    return "\n".join([head, *shown, *tail])


def latest_text(
    items: Sequence[StoredItem],
    *,
    topic_names: Mapping[str, str],
    topics: Sequence[str],
    tz: tzinfo,
    footer: Sequence[str] = (),
) -> str:
    """The /latest answer: a numbered list, newest first, each title linked, with source and time."""
    about = names_text(topics, topic_names)
    tail = ["", *footer] if footer else []
    if not items:
        return "\n".join([f"Nothing has been flagged yet about {about}.", *tail])
    lines = []
    for number, stored in enumerate(items, 1):
        title = trim(clean(stored.item.title), _TITLE_MAX) or "(untitled)"
        href = safe_href(stored.item.url)
        shown = link(title, href) if href else escape_text(title)
        source = trim(clean(stored.source_name) or stored.item.source_id, 64)
        when = format_time(stored.item.published, tz)
        lines.append(f"{number}. {shown}\n    <i>{escape_text(source)} · {when}</i>")
    head = f"Latest about {about}:"
    return fit_lines(head, lines, tail)


def sources_text(
    sources: Sequence[Source], states: Mapping[str, SourceState], *, tz: tzinfo
) -> str:
    """The /sources answer: each enabled outlet with its last success and whether it is failing."""
    enabled = sorted((s for s in sources if s.enabled), key=lambda s: s.name.casefold())
    if not enabled:
        return "No news outlets are configured."
    lines = []
    failing = 0
    for source in enabled:
        state = states.get(source.id)
        name = escape_text(trim(clean(source.name) or source.id, 64))
        last = (
            f"last success {format_time(state.last_success, tz)}"
            if state is not None and state.last_success is not None
            else "no success yet"
        )
        if state is None or state.last_attempt is None:
            lines.append(f"⏳ {name} — not checked yet")
        elif state.consecutive_failures:
            failing += 1
            lines.append(f"⚠️ {name} — failing ({state.consecutive_failures} in a row); {last}")
        else:
            lines.append(f"✅ {name} — {last}")
    head = f"<b>News outlets</b>: {len(enabled)}, {failing} failing"
    return fit_lines(head, lines, ())
