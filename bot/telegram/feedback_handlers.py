"""The relevance buttons' presses, and `/feedback on|off`: PTB handlers built by `make_feedback_handlers`.

A press (a callback query with data "fb:<item>:<0|1>", see `bot.telegram.feedback`), in order:
1. a press from a chat where feedback is off, on a message older than item retention keeps
   (`BOT_KEEP_FLAGGED_DAYS`), or on an item retention already removed is answered ("not
   recorded") and changes nothing;
2. otherwise it is stored (`LabelStore.record`: one label per person and item, a second press
   changes the verdict) and answered at once with a short confirmation;
3. the message's keyboard is redrawn with the chat's verdicts marked (editMessageReplyMarkup;
   the text is untouched), unless a repeat press changed nothing.

`/feedback` is for operators (BOT_ADMIN_IDS) only, in any chat: `/feedback on|off` sets the chat
it is sent in, `/feedback CHAT_ID on|off` another chat, `/feedback` alone shows the setting.
Anyone else is refused politely and logged; labels never change the configuration.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.errors import StoreError
from bot.storage.labels import LabelStore
from bot.telegram.feedback import PATTERN, FeedbackPolicy, keyboard, parse_data
from bot.telegram.replies import command_rest, split_args
from bot.telegram.replying import Replier, send_reply

log = logging.getLogger("bot.telegram.feedback")
admin_log = logging.getLogger("bot.telegram.admin")  # every operator action under one logger

SAVED = {True: "Thanks: marked relevant.", False: "Thanks: marked not relevant."}
OFF = "Feedback is off in this chat; not recorded."
TOO_OLD = "This message is too old to rate; not recorded."
UNKNOWN = "This button is not mine any more; not recorded."
FAILED = "Sorry, I could not save that; please try again."
REFUSED = "Sorry, this command is for the bot's operators."
USAGE = "Usage: /feedback on|off, or /feedback CHAT_ID on|off"


def make_feedback_handlers(
    *,
    labels: LabelStore,
    policy: FeedbackPolicy,
    admin_ids: Collection[int],
    clock: Callable[[], datetime],
    max_age: timedelta | None,
    replier: Replier | None = None,
) -> list[BaseHandler[Any, Any, Any]]:
    """The press handler and `/feedback`, bound to their dependencies (`/feedback` answers
    through `replier`, paced like every reply, when there is one)."""
    presses = Presses(labels, policy, clock=clock, max_age=max_age)
    command = FeedbackCommand(labels, policy, frozenset(admin_ids), clock=clock, replier=replier)
    return [
        CallbackQueryHandler(presses.on_press, pattern=PATTERN),
        CommandHandler("feedback", command.on_command, filters.UpdateType.MESSAGE),
    ]


class Presses:
    """Stores the presses of relevance buttons (see the module docstring)."""

    def __init__(
        self,
        labels: LabelStore,
        policy: FeedbackPolicy,
        *,
        clock: Callable[[], datetime],
        max_age: timedelta | None,
    ) -> None:
        self._labels = labels
        self._policy = policy
        self._clock = clock
        self._max_age = max_age

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the press; store it when the chat and the message allow."""
        query = update.callback_query
        if query is None:
            return
        parsed = parse_data(query.data)
        message = query.message
        if parsed is None or message is None:
            await query.answer(UNKNOWN)
            return
        item_id, relevant = parsed
        chat_id, user = message.chat.id, query.from_user
        now = self._clock()
        try:
            stored = await self._labels.flag(chat_id)
            if not self._policy.on(chat_id, stored.flag):
                log.info("press on item %d in chat %d ignored: feedback is off", item_id, chat_id)
                await query.answer(OFF)
                return
            if self._too_old(message.date, now):
                await query.answer(TOO_OLD)
                return
            marks = await self._labels.record(
                item_id,
                relevant=relevant,
                user_id=user.id,
                user_name=f"@{user.username}" if user.username else user.full_name,
                chat_id=chat_id,
                now=now,
            )
        except StoreError as exc:
            log.warning("press on item %d in chat %d not stored: %s", item_id, chat_id, exc)
            await query.answer(FAILED)
            return
        if marks is None:
            await query.answer(TOO_OLD)
            return
        await query.answer(SAVED[relevant])
        if not marks.changed:
            return
        try:
            await context.bot.edit_message_reply_markup(
                chat_id=chat_id,
                message_id=message.message_id,
                reply_markup=keyboard(item_id, marks.relevant, marks.not_relevant),
            )
        except TelegramError as exc:  # the label is stored; only the marks are not shown
            log.warning("chat %d: cannot mark message %d: %s", chat_id, message.message_id, exc)

    def _too_old(self, sent: datetime, now: datetime) -> bool:
        # An inaccessible message (deleted, or older than Telegram keeps) has date 0.
        if sent <= datetime(1971, 1, 1, tzinfo=UTC):
            return True
        return self._max_age is not None and now - sent > self._max_age


class FeedbackCommand:
    """`/feedback [CHAT_ID] on|off`, for operators in any chat."""

    def __init__(
        self,
        labels: LabelStore,
        policy: FeedbackPolicy,
        admins: frozenset[int],
        *,
        clock: Callable[[], datetime],
        replier: Replier | None = None,
    ) -> None:
        self._labels = labels
        self._policy = policy
        self._admins = admins
        self._clock = clock
        self._replier = replier

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Refuse non-operators; otherwise set or show a chat's feedback setting."""
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None:
            return
        if user is None or user.id not in self._admins:
            admin_log.warning(
                "refused /feedback from user %s in chat %s: not an operator",
                user.id if user else None,
                chat.id,
            )
            await self._reply(message, REFUSED)
            return
        try:
            text = await self._answer(
                user.id, chat.id, split_args(command_rest(message.text or ""))
            )
        except StoreError as exc:
            admin_log.warning("operator %s: /feedback failed: %s", user.id, exc)
            text = "Sorry, I cannot reach my database right now. Nothing was changed; try again."
        await self._reply(message, text)

    async def _reply(self, message: Message, text: str) -> None:
        thread = message.message_thread_id if message.is_topic_message else None
        await send_reply(message, html.escape(text, quote=False), self._replier, thread_id=thread)

    async def _answer(self, user_id: int, here: int, args: list[str]) -> str:
        words = [a.lower() for a in args]
        switch = [w for w in words if w in ("on", "off")]
        others = [a for a, w in zip(args, words, strict=True) if w not in ("on", "off")]
        if len(switch) > 1 or len(others) > 1:
            return USAGE
        target = here
        if others:
            try:
                target = int(others[0])
            except ValueError:
                return f"{others[0]!r} is not a chat id. {USAGE}"
        where = "this chat" if target == here else f"chat {target}"
        if not switch:
            stored = await self._labels.flag(target)
            if not stored.known:
                return f"I do not deliver to {where}."
            state = "on" if self._policy.on(target, stored.flag) else "off"
            how = " (the default)" if stored.flag is None else ""
            return f"Feedback buttons are {state} in {where}{how}. {USAGE}"
        on = switch[0] == "on"
        if not await self._labels.set_flag(target, on, now=self._clock()):
            return f"I do not deliver to {where}, so there is nothing to turn {switch[0]}."
        admin_log.info("operator %s turned feedback %s in chat %s", user_id, switch[0], target)
        return f"Feedback buttons are now {switch[0]} in {where}."
