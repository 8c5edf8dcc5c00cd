"""The PTB side of operator commands: who may run them, where, and how the answer is sent.

`guarded` wraps one command's handler (an `Op` → answer text) in a PTB callback: a non-operator
is refused politely and logged with the user id, an operator outside a private chat is refused
too, and otherwise the handler's answer (or the usage line, the config problems or a database
apology when it raises) is sent back as Telegram HTML without link previews.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.errors import ConfigError, StoreError
from bot.telegram.replies import ADMIN_USAGE, ArgumentError, command_rest, problems_text, split_args
from bot.telegram.replying import Replier, send_reply
from bot.text.markup import escape_text

# Operators' refusals and edits share one logger with the commands they guard, so one log
# filter (`bot.telegram.admin`) shows every operator action.
log = logging.getLogger("bot.telegram.admin")

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_REFUSED = "Sorry, this command is for the bot's operators."
_NOT_PRIVATE = "Operator commands work only in a private chat with me."


@dataclass(frozen=True, slots=True)
class Op:
    """An operator's command: who, where, and the text after the command word."""

    user_id: int
    chat_id: int
    rest: str
    bot: Bot

    @property
    def actor(self) -> str:
        """Who made the change, as the audit log records it."""
        return f"telegram:{self.user_id}"

    def args(self) -> list[str]:
        """The arguments, split as `split_args` does."""
        return split_args(self.rest)


OpHandler = Callable[[Op], Awaitable[str]]


def guarded(
    name: str,
    handler: OpHandler,
    admins: frozenset[int],
    *,
    stop: bool = False,
    replier: Replier | None = None,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Refuse non-operators and non-private chats; run the handler; reply in HTML.

    With a `replier` the answer is split, paced and retried (`bot.telegram.replying`).
    """

    async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None:
            return
        if user is None or user.id not in admins:
            log.warning(
                "refused /%s from user %s in chat %s: not an operator",
                name,
                user.id if user else None,
                chat.id,
            )
            text = _REFUSED
        elif chat.type != ChatType.PRIVATE:
            log.info("refused /%s from operator %s in chat %s: not private", name, user.id, chat.id)
            text = _NOT_PRIVATE
        else:
            op = Op(user.id, chat.id, command_rest(message.text or ""), context.bot)
            text = await _answer(name, handler, op)
        await send_reply(message, text, replier, thread_id=None)
        if stop:
            raise ApplicationHandlerStop

    return callback


async def _answer(name: str, handler: OpHandler, op: Op) -> str:
    try:
        return await handler(op)
    except ArgumentError as exc:
        return f"{escape_text(str(exc))}\nUsage: {escape_text(ADMIN_USAGE[name])}"
    except ConfigError as exc:
        return problems_text("Not changed:", exc.problems)
    except StoreError as exc:
        log.warning("operator %s: /%s failed: %s", op.user_id, name, exc)
        return "Sorry, I cannot reach my database right now. Nothing was changed; try again."
