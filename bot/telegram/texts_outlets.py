"""Operator texts about Telegram channel sources: how often each must be polled to keep up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.feeds.channel import PREVIEW_MESSAGES, keep_up_interval
from bot.models import Source
from bot.text.durations import format_duration
from bot.text.formatting import clean, trim
from bot.text.markup import escape_text


def keep_up_text(channels: Sequence[Source], times: Mapping[str, Sequence[datetime]]) -> str:
    """One line per channel: the longest interval that loses no message, judged by the times of
    its newest stored messages, and whether its interval is within it."""
    lines = [
        f"<b>Telegram channels</b>: the preview shows the last ~{PREVIEW_MESSAGES} messages; "
        "polled less often than a channel posts them, messages are lost."
    ]
    for source in channels:
        every = format_duration(int(source.interval))
        label = escape_text(trim(clean(source.id), 64))
        need = keep_up_interval(list(times.get(source.id, ())))
        if need is None:
            lines.append(f"• {label}: every {every}; too few messages stored yet to judge")
            continue
        needed = format_duration(int(need.total_seconds()))
        verdict = (
            "keeps up"
            if source.interval <= need.total_seconds()
            else "⚠️ too rare: messages may be lost"
        )
        lines.append(f"• {label}: every {every}, needs at least every {needed}: {verdict}")
    return "\n".join(lines)
