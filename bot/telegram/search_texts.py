"""Answers of /search, /more, /alert, /alerts and /unalert as plain functions of values.

Pure: no PTB, no database. Every feed string and every query is escaped for Telegram HTML here;
a page of results stays within one message (titles cut, the list cut with a note).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.models import StoredItem
from bot.storage.alerts import SavedAlert
from bot.text.formatting import clean, format_time, trim
from bot.text.markup import TELEGRAM_TEXT_LIMIT, escape_text, link, safe_href, visible_text

PAGE = 10
_TITLE_MAX = 160
SEARCH_USAGE = (
    'Usage: /search words — e.g. /search Astara bridge, /search "drone debris" -exercise, '
    "/search граница lang:ru since:7d. Also: OR, source:ID, until:2026-11-30, flagged:"
)
ALERT_USAGE = (
    "Usage: /alert words — the same words as /search; new items that match are posted here."
)
UNALERT_USAGE = "Usage: /unalert N — N is the alert's number in /alerts."
NO_MORE = "Nothing more: send /search with your words first."


def _entry(stored: StoredItem, tz: tzinfo, *, indent: bool) -> str:
    item = stored.item
    title = trim(clean(item.title), _TITLE_MAX) or "(untitled)"
    href = safe_href(item.url)
    shown = link(title, href) if href else escape_text(title)
    outlet = clean(stored.source_name) or clean(item.source_id)
    meta = f"{outlet} · {format_time(item.published, tz)}"
    if stored.topics:
        meta += " · " + ", ".join(stored.topics)
    prefix = "   ↳ " if indent else "• "
    return f"{prefix}{shown}\n   {escape_text(meta)}"


def results_text(
    groups: Sequence[Sequence[StoredItem]], *, query: str, offset: int, more: bool, tz: tzinfo
) -> str:
    """A page of results, story by story; a note when /more has more."""
    if not groups:
        if offset:
            return f"No more results for {_quoted(query)}."
        return f"Nothing found for {_quoted(query)}."
    lines = [f"<b>Results for</b> {_quoted(query)}" + (f" (from {offset + 1})" if offset else "")]
    for group in groups:
        lines.extend(_entry(s, tz, indent=n > 0) for n, s in enumerate(group))
    footer = "Send /more for the next results." if more else "That is all."
    return _fit(lines, footer)


def _fit(lines: list[str], footer: str) -> str:
    kept = list(lines)
    while len(kept) > 1:
        text = "\n".join([*kept, "", footer])
        if len(visible_text(text)) <= TELEGRAM_TEXT_LIMIT - 50:
            return text
        kept.pop()
    return "\n".join([*kept, "", footer])


def _quoted(query: str) -> str:
    return f"<code>{escape_text(trim(query, 200))}</code>"


def alerts_text(saved: Sequence[SavedAlert], limit: int) -> str:
    """The chat's alerts, numbered."""
    if not saved:
        return "This chat has no alerts. " + ALERT_USAGE
    lines = [f"<b>Alerts</b> ({len(saved)} of {limit})"]
    lines += [f"{a.number}. {_quoted(a.query)}" for a in saved]
    lines.append("Remove one with /unalert N.")
    return "\n".join(lines)


def alert_saved(saved: SavedAlert) -> str:
    """The answer to a saved alert."""
    return (
        f"Alert {saved.number} saved: new items matching {_quoted(saved.query)} will be posted "
        "here. See /alerts."
    )


def problem_text(problem: str) -> str:
    """One line saying why a query was refused."""
    return escape_text(problem[:1].upper() + problem[1:]) + "."
