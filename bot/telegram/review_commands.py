"""Subscribers' review commands: `/mode instant|digest|both` and `/digest`.

Built like `bot.telegram.commands` (handlers get their dependencies in closures, answers are
HTML in the command's chat and forum topic, database failures get an apology). `make_review_handlers`
returns the PTB handlers; `REVIEW_COMMANDS` is their setMyCommands entries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot.errors import StoreError
from bot.storage.chats import MODES, ChatStore
from bot.telegram.review_job import ReviewJob
from bot.telegram.texts import MODE_TEXT

log = logging.getLogger(__name__)

REVIEW_COMMANDS: tuple[tuple[str, str], ...] = (
    ("mode", "Instant items, a daily review, or both: /mode digest"),
    ("digest", "The media review of the last 24 hours"),
)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_USAGE = "Usage: /mode instant, /mode digest or /mode both."
_NOT_SUBSCRIBED = "This chat is not subscribed; send /start first."


def mode_text(mode: str, review_time: str) -> str:
    """What a chat in `mode` gets (HTML)."""
    text = f"This chat gets {MODE_TEXT[mode]}."
    if mode != "instant":
        text += f" The review comes every day at {review_time}."
    return text


def zone_name(tz: tzinfo) -> str:
    """The time zone as people read it: its IANA key ("Asia/Baku"), else its name ("UTC")."""
    return str(getattr(tz, "key", None) or tz)


def make_review_handlers(
    *,
    chat_store: ChatStore,
    review: ReviewJob,
    default_topics: Callable[[], Sequence[str]],
    clock: Callable[[], datetime],
    review_time: str,
    tz: tzinfo | None = None,
) -> list[BaseHandler[Any, Any, Any]]:
    """The /mode and /digest handlers, bound to their dependencies.

    With `tz` (BOT_TIMEZONE), the review time names its zone: "09:00 (Asia/Baku time)".
    """
    if tz is not None:
        review_time = f"{review_time} ({zone_name(tz)} time)"

    async def mode(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        args = [a.casefold() for a in context.args or ()]
        try:
            known = await chat_store.chat(chat.id)
            if known is None or not known.topics:
                text = _NOT_SUBSCRIBED
            elif not args:
                text = f"{mode_text(known.mode, review_time)}\n{_USAGE}"
            elif len(args) != 1 or args[0] not in MODES:
                text = _USAGE
            else:
                changed = await chat_store.set_mode(chat.id, args[0], now=clock())
                text = mode_text(changed.mode if changed else args[0], review_time)
        except StoreError as exc:
            log.warning("chat %s: /mode failed: %s", chat.id, exc)
            text = "Sorry, I cannot reach my database right now. Please try again in a minute."
        await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)

    async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        try:
            known = await chat_store.chat(chat.id)
            topics = list(known.topics) if known and known.topics else list(default_topics())
            texts = await review.messages(topics, clock())
        except StoreError as exc:
            log.warning("chat %s: /digest failed: %s", chat.id, exc)
            texts = ["Sorry, I cannot reach my database right now. Please try again in a minute."]
        for text in texts or ["No stories in the last 24 hours."]:
            await message.reply_text(
                text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
            )

    only_new_messages = filters.UpdateType.MESSAGE
    return [
        CommandHandler("mode", mode, filters=only_new_messages),
        CommandHandler("digest", digest, filters=only_new_messages),
    ]
