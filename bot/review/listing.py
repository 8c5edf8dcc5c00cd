"""Stories as lists: the /latest answer (Telegram HTML), and `python -m bot latest` lines and JSON.

Pure: values in, strings out; the timezone is passed in. Each story is shown once, by its first
report's title, with every outlet that carried it (each outlet linked to its own report) and the
time of its newest report. Feed strings are cleaned, trimmed and escaped (`bot.text.formatting`,
`bot.text.markup`), and the HTML list stays within Telegram's 4096 UTF-16 units by leaving stories
out from the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from bot.models import StoredItem, Story
from bot.text.formatting import clean, format_console_time, format_time, trim
from bot.text.markup import (
    TELEGRAM_TEXT_LIMIT,
    escape_text,
    link,
    safe_href,
    utf16_len,
    visible_text,
)

TITLE_MAX = 160  # characters of a title in a list
OUTLET_MAX = 64


def outlet_name(report: StoredItem) -> str:
    """The outlet's name as shown: cleaned and bounded."""
    return trim(clean(report.source_name) or clean(report.item.source_id), OUTLET_MAX)


def outlet_link(report: StoredItem) -> str:
    """The outlet's name linked to its report (HTML), or just the escaped name."""
    href = safe_href(report.item.url)
    name = outlet_name(report)
    return link(name, href) if href else escape_text(name)


def story_title(story: Story) -> str:
    """The story's title: its first report's, cleaned and bounded."""
    return trim(clean(story.first.item.title), TITLE_MAX) or "(untitled)"


def latest_html(
    stories: Sequence[Story], *, heading: str, tz: tzinfo, footer: Sequence[str] = ()
) -> str:
    """The /latest answer: numbered stories, newest first, title linked, outlets linked, time.

    `heading` and `footer` are HTML already (the caller escapes what it puts there).
    """
    tail = ["", *footer] if footer else []
    if not stories:
        return "\n".join(["Nothing has been flagged yet.", *tail])
    lines = []
    for number, story in enumerate(stories, 1):
        href = safe_href(story.first.item.url)
        title = story_title(story)
        shown = link(title, href) if href else escape_text(title)
        outlets = ", ".join(outlet_link(r) for r in story.outlets)
        when = escape_text(format_time(story.latest, tz))
        lines.append(f"{number}. {shown}\n    <i>{outlets} · {when}</i>")
    while lines:
        text = "\n".join([heading, *lines, *tail])
        if utf16_len(visible_text(text)) <= TELEGRAM_TEXT_LIMIT:
            return text
        lines.pop()
    return "\n".join([heading, *tail])


def latest_console(story: Story, tz: tzinfo) -> str:
    """`python -m bot latest`: time and title, then each outlet with its link."""
    lines = [f"{format_console_time(story.latest, tz)}  {story_title(story)}"]
    lines += [f"    {outlet_name(r)}: {clean(r.item.url)}" for r in story.outlets]
    return "\n".join(lines)


def latest_record(story: Story) -> dict[str, Any]:
    """`python -m bot latest --json`: one object per story."""
    first = story.first
    return {
        "story": story.id,
        "title": first.item.title,
        "url": first.item.url,
        "source": first.source_name,
        "published": first.item.published.isoformat(),
        "latest": story.latest.isoformat(),
        "topics": sorted({t for r in story.reports for t in r.topics}),
        "outlets": [
            {"source": r.source_name, "url": r.item.url, "published": r.item.published.isoformat()}
            for r in story.outlets
        ],
    }
