"""An answer to a command the bot does not know: one line pointing to /help.

In a private chat every unknown `/command` is answered. In a group only one addressed to this
bot (`/frobnicate@thisbot`) is: a bare `/frobnicate` there may be meant for another bot, and
`/frobnicate@otherbot` certainly is. The handler must be the last one of its group, after every
command handler, so that it sees only what no other handler took; it also ignores the names in
`known` (a known command whose filter refused it, such as an edited message, is not unknown).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.telegram.replying import Replier, send_reply
from bot.text.markup import escape_text


def unknown_text(command: str) -> str:
    """The one-line answer (HTML)."""
    return f"I do not know the command {escape_text(command)}. Send /help to see what I can do."


def addressed(first_word: str, chat_type: str, bot_username: str | None) -> str | None:
    """The command name (no slash, lower case) when it is for this bot here, else None."""
    if not first_word.startswith("/") or len(first_word) < 2:
        return None
    name, _, target = first_word[1:].partition("@")
    if target:
        if bot_username is None or target.casefold() != bot_username.casefold():
            return None  # for another bot
    elif chat_type != ChatType.PRIVATE:
        return None  # a bare command in a group may be another bot's
    return name.casefold() or None


def make_unknown_command_handler(
    known: Collection[str], replier: Replier | None = None
) -> BaseHandler[Any, Any, Any]:
    """The fallback handler; add it after every command handler of the same group."""
    names = frozenset(n.casefold() for n in known)

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        first = message.text.split(maxsplit=1)[0]
        name = addressed(first, chat.type, context.bot.username)
        if name is None or name in names:
            return
        thread = message.message_thread_id if message.is_topic_message else None
        await send_reply(message, unknown_text(first.partition("@")[0]), replier, thread_id=thread)

    only = filters.UpdateType.MESSAGE & filters.COMMAND
    return MessageHandler(only, answer, block=replier is None)
