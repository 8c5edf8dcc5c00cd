"""The daily review: a topic's stories of a day as messages a desk can forward or paste.

Pure: values in, strings out. `review_messages` orders the stories most-covered first (distinct
outlets, then reports, then the newest), and renders each as a block: number and title (linked
to the first report), the story's summary, and its outlets, each linked to its own report. The
heading reads "Media review: Azerbaijan–Iran relations, 1 Dec 2026". In HTML the blocks are
packed into messages of at most 4096 UTF-16 units of visible text, split only between stories
(a single story too long for one message is cut at its summary). No stories, no messages.

Formats: "html" (Telegram), "text" (console), "markdown" (newsletters).
The summary shown is `summarize(first report)`; `feed_summary` (the feed's own text, trimmed)
is the default until extractive summaries replace it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Literal

from bot.models import StoredItem, Story
from bot.review.listing import outlet_link, outlet_name, story_title
from bot.text.formatting import clean, trim
from bot.text.markup import TELEGRAM_TEXT_LIMIT, bold, escape_text, link, safe_href, utf16_len
from bot.text.markup import visible_text as _visible

Format = Literal["text", "html", "markdown"]
FORMATS: tuple[Format, ...] = ("text", "html", "markdown")
SUMMARY_LIMIT = 300
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#+!|<>])")


def feed_summary(report: StoredItem) -> str:
    """The report's review summary (else the feed's teaser), cleaned and trimmed.

    None when it only repeats the title.
    """
    text = clean(report.review_summary or report.item.summary)
    if text.casefold() == clean(report.item.title).casefold():
        return ""
    return trim(text, SUMMARY_LIMIT)


def heading(topic_name: str, day: date) -> str:
    """ "Media review: Azerbaijan–Iran relations, 1 Dec 2026" (plain text)."""
    return f"Media review: {clean(topic_name)}, {day.day} {_MONTHS[day.month - 1]} {day.year}"


def ranked(stories: Sequence[Story]) -> list[Story]:
    """Most-covered first: distinct outlets, then reports, then the newest report."""
    return sorted(
        stories, key=lambda s: (-len(s.outlets), -len(s.reports), -s.latest.timestamp(), s.id)
    )


def review_messages(
    stories: Sequence[Story],
    *,
    topic_name: str,
    day: date,
    fmt: Format = "html",
    summarize: Callable[[StoredItem], str] = feed_summary,
) -> list[str]:
    """The review as messages (several in HTML when long); [] when there are no stories."""
    if not stories:
        return []
    render = {"html": _html_block, "text": _text_block, "markdown": _markdown_block}[fmt]
    blocks = [render(n, s, summarize(s.first)) for n, s in enumerate(ranked(stories), 1)]
    head = heading(topic_name, day)
    if fmt == "text":
        return ["\n\n".join([head, *blocks])]
    if fmt == "markdown":
        return ["\n\n".join([f"## {_md(head)}", *blocks])]
    return _pack(bold(escape_text(head)), blocks)


def _pack(head: str, blocks: list[str]) -> list[str]:
    """HTML blocks into messages within Telegram's limit, split only between blocks."""
    messages: list[str] = []
    current = [head]
    for block in blocks:
        block = _fit_block(block)
        candidate = "\n\n".join([*current, block])
        if utf16_len(_visible(candidate)) > TELEGRAM_TEXT_LIMIT and len(current) > 1:
            messages.append("\n\n".join(current))
            current = [block]
        else:
            current.append(block)
    messages.append("\n\n".join(current))
    return messages


def _fit_block(block: str) -> str:
    """A single story too long for a message loses the end of its summary line."""
    excess = utf16_len(_visible(block)) - (TELEGRAM_TEXT_LIMIT - 200)
    if excess <= 0:
        return block
    title, summary, *rest = block.split("\n")
    text = _visible(summary)
    shorter = escape_text(trim(text, max(0, len(text) - excess - 1)))
    return "\n".join([title, shorter, *rest]) if shorter else "\n".join([title, *rest])


def _html_block(number: int, story: Story, summary: str) -> str:
    href = safe_href(story.first.item.url)
    title = story_title(story)
    shown = bold(link(title, href) if href else escape_text(title))
    outlets = ", ".join(outlet_link(r) for r in story.outlets)
    lines = [f"{number}. {shown}", escape_text(summary) if summary else ""]
    lines.append(f"<i>{_label(story)}:</i> {outlets}")
    return "\n".join(line for line in lines if line)


def _text_block(number: int, story: Story, summary: str) -> str:
    lines = [f"{number}. {story_title(story)}"]
    if summary:
        lines.append(f"   {summary}")
    lines += [f"   {outlet_name(r)}: {clean(r.item.url)}" for r in story.outlets]
    return "\n".join(lines)


def _markdown_block(number: int, story: Story, summary: str) -> str:
    href = safe_href(story.first.item.url)
    title = _md(story_title(story))
    lines = [f"{number}. **[{title}]({href})**" if href else f"{number}. **{title}**"]
    if summary:
        lines.append(f"   {_md(summary)}")
    outlets = ", ".join(
        f"[{_md(outlet_name(r))}]({href})"
        if (href := safe_href(r.item.url))
        else _md(outlet_name(r))
        for r in story.outlets
    )
    lines.append(f"   *{_label(story)}:* {outlets}")
    return "\n".join(lines)


def _label(story: Story) -> str:
    return "Outlet" if len(story.outlets) == 1 else "Outlets"


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
