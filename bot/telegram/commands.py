"""Subscribers' commands: one method each on `SubscriberCommands`, wrapped as PTB handlers by `make_handlers`.

Every command is answered in HTML parse mode with every dynamic string escaped, in the chat and
forum topic it came from, with link previews off. A malformed command gets a short usage answer;
a database failure gets an apology and a warning in the log, never an unhandled error. Commands
edited after sending and channel posts are ignored (channels are added by an operator).
The texts are built by plain functions of values (`bot.telegram.texts`), so the handlers only fetch
and reply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from telegram import Bot, LinkPreviewOptions, Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.errors import StoreError
from bot.models import Source, Topic
from bot.review.listing import latest_html
from bot.storage.chats import Chat, ChatStore
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.stories import StoryStore
from bot.telegram.group_admins import AdminCache, Verdict, may_change_subscription
from bot.telegram.replying import Replier, send_reply
from bot.telegram.texts import (
    HELP,
    INTRO,
    LATEST_DEFAULT,
    LATEST_MAX,
    LATEST_USAGE,
    NOT_SUBSCRIBED,
    TOPIC_HINT,
    bold,
    latest_text,
    names_text,
    one_topic,
    parse_count,
    sources_text,
    topic_list,
)
from bot.text.markup import escape_text

log = logging.getLogger(__name__)

# (command, description) for setMyCommands, in the order the menu shows them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Subscribe this chat to the news"),
    ("latest", "Newest items: /latest [N]"),
    ("topics", "Topics and this chat's subscriptions"),
    ("subscribe", "Add a topic: /subscribe <topic>"),
    ("unsubscribe", "Remove a topic: /unsubscribe <topic>"),
    ("sources", "News outlets and their health"),
    ("status", "This chat's subscription"),
    ("stop", "Unsubscribe this chat"),
    ("help", "What this bot does"),
)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Clock = Callable[[], datetime]
_Gate = Callable[[Update, Bot], Awaitable[Verdict]]
_ADMINS_ONLY = frozenset({"start", "stop"})  # in groups: the group's administrators only
_Handler = Callable[["Ask"], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Ask:
    """A command as the handlers see it: where it came from and its arguments."""

    chat_id: int
    kind: str
    title: str | None
    thread_id: int | None  # the forum topic it was sent in
    user_id: int | None
    args: tuple[str, ...]


class SubscriberCommands:
    """The subscribers' commands, one method each: an `Ask` in, the answer (Telegram HTML) out."""

    def __init__(
        self,
        *,
        chat_store: ChatStore,
        outbox: Outbox,
        store: Store,
        topics: Callable[[], Sequence[Topic]],
        sources: Callable[[], Sequence[Source]],
        tz: tzinfo,
        clock: Clock,
        default_topics: Callable[[], Sequence[str]] | None = None,
        stories: StoryStore | None = None,
    ) -> None:
        self.chat_store, self.store, self.tz, self.clock = chat_store, store, tz, clock
        self.outbox = outbox
        self.stories = stories  # with it, /latest lists stories (each once, with its outlets)
        self._topics, self._sources, self._default_topics = topics, sources, default_topics

    def commands(self) -> Mapping[str, _Handler]:
        """Command name → handler."""
        return {
            "start": self.start,
            "stop": self.stop,
            "latest": self.latest,
            "topics": self.show_topics,
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "sources": self.show_sources,
            "status": self.status,
            "help": self.help,
        }

    def _defaults(self) -> list[str]:
        if self._default_topics is not None:
            return list(self._default_topics())
        return [t.id for t in self._topics() if t.default]

    def _names(self) -> dict[str, str]:
        return {t.id: t.name for t in self._topics()}

    async def _followed(self, chat_id: int) -> tuple[Chat | None, tuple[str, ...]]:
        chat = await self.chat_store.chat(chat_id)
        return chat, (chat.topics if chat is not None and _subscribed(chat) else ())

    async def start(self, ask: Ask) -> str:
        """Subscribe the chat (or forum topic) to the default topics."""
        wanted = self._defaults()
        if not wanted:
            listing = topic_list(self._topics(), ())
            return f"{INTRO}\n\nPick a topic with /subscribe &lt;topic&gt;:\n{listing}\n\n{HELP}"
        chat = await self.chat_store.subscribe(
            ask.chat_id,
            kind=ask.kind,
            title=ask.title,
            topics=wanted,
            thread_id=ask.thread_id,
            now=self.clock(),
            added_by=ask.user_id,
        )
        where = "this topic" if ask.thread_id is not None else "this chat"
        subscribed = names_text(chat.topics, self._names())
        return (
            f"{INTRO}\n\nSubscribed: new items about {subscribed} will be posted in {where}."
            f"\n\n{HELP}"
        )

    async def stop(self, ask: Ask) -> str:
        """Unsubscribe the chat from everything."""
        before = await self.chat_store.chat(ask.chat_id)
        if before is None or not before.active:
            return "This chat was not subscribed. Send /start to subscribe."
        await self.chat_store.unsubscribe(ask.chat_id, topics=None, now=self.clock())
        return "Unsubscribed: no more items will be posted here. Send /start to subscribe again."

    async def latest(self, ask: Ask) -> str:
        """The newest flagged items of the chat's topics (the default ones when not subscribed)."""
        n = parse_count(ask.args)
        if n is None:
            return LATEST_USAGE
        _, mine = await self._followed(ask.chat_id)
        wanted = list(mine) or self._defaults()
        footer = [] if mine else [NOT_SUBSCRIBED]
        if n > LATEST_MAX:
            footer.insert(0, f"(/latest shows at most {LATEST_MAX} items.)")
        if self.stories is not None:
            found = await self.stories.stories(limit=min(n, LATEST_MAX), topics=wanted)
            about = names_text(wanted, self._names())
            return latest_html(found, heading=f"Latest about {about}:", tz=self.tz, footer=footer)
        items = await self.store.latest(min(n, LATEST_MAX), topics=wanted) if wanted else []
        return latest_text(
            items, topic_names=self._names(), topics=wanted, tz=self.tz, footer=footer
        )

    async def show_topics(self, ask: Ask) -> str:
        """Every topic, ticked where this chat follows it."""
        _, mine = await self._followed(ask.chat_id)
        return f"<b>Topics</b>\n{topic_list(self._topics(), mine)}\n\n{TOPIC_HINT}"

    async def subscribe(self, ask: Ask) -> str:
        """Follow one more topic."""
        topic = one_topic(ask.args, self._topics(), "subscribe")
        if isinstance(topic, str):
            return topic
        chat = await self.chat_store.subscribe(
            ask.chat_id,
            kind=ask.kind,
            title=ask.title,
            topics=[topic.id],
            thread_id=ask.thread_id,
            now=self.clock(),
            added_by=ask.user_id,
        )
        return f"Subscribed to {bold(topic.name)}. This chat follows: {names_text(chat.topics, self._names())}."

    async def unsubscribe(self, ask: Ask) -> str:
        """Stop following one topic; the last one unsubscribes the chat."""
        _, mine = await self._followed(ask.chat_id)
        # A topic removed from the config can still be dropped by its id.
        known = [*self._topics(), *(Topic(id=t, name=t, groups=(), require=()) for t in mine)]
        topic = one_topic(ask.args, known, "unsubscribe")
        if isinstance(topic, str):
            return topic
        if topic.id not in mine:
            return f"This chat does not follow {bold(topic.name)}. See /topics."
        after = await self.chat_store.unsubscribe(ask.chat_id, topics=[topic.id], now=self.clock())
        if after is None or not after.active:
            return (
                f"Unsubscribed from {bold(topic.name)}, the last topic here: no more items will be "
                "posted. Send /start to subscribe again."
            )
        return f"Unsubscribed from {bold(topic.name)}. Still following: {names_text(after.topics, self._names())}."

    async def show_sources(self, ask: Ask) -> str:
        """The public health view of the outlets."""
        return sources_text(self._sources(), await self.store.states.source_states(), tz=self.tz)

    async def status(self, ask: Ask) -> str:
        """What this chat follows, where items go, and what waits to be sent."""
        chat, mine = await self._followed(ask.chat_id)
        if chat is None or not mine:
            return f"This chat is not subscribed. Send /start to subscribe.\n\n{TOPIC_HINT}"
        pending = await self.outbox.pending_count(ask.chat_id)
        where = "the main chat" if chat.thread_id is None else f"forum topic {chat.thread_id}"
        lines = [
            "<b>This chat</b>",
            f"Following: {names_text(chat.topics, self._names())}",
            f"New items go to: {where}",
            f"Waiting to be sent: {pending}",
        ]
        if chat.failures:
            lines.append(f"Recent delivery failures: {chat.failures}")
        return "\n".join(lines)

    async def help(self, ask: Ask) -> str:
        """What the bot does and its commands."""
        return f"{INTRO}\n\n{HELP}"


def make_handlers(
    commands: SubscriberCommands, *, replier: Replier | None = None
) -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of `commands` and the group-migration handler.

    With a `replier`, answers are split, paced with the delivery worker and retried, and the
    handlers do not block each other (one chat's 429 pause must not hold up every chat's
    commands); without one (tests of single commands), PTB's reply_text answers.
    /start and /stop in groups are for the group's administrators (`group_admins`).
    """
    only_new_messages = filters.UpdateType.MESSAGE  # not edits, not channel posts
    admins = AdminCache()

    async def admins_only(update: Update, bot: Bot) -> Verdict:
        return await may_change_subscription(update, bot, admins, time.monotonic())

    handlers: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler(
            name,
            _replying(name, fn, replier, admins_only if name in _ADMINS_ONLY else None),
            filters=only_new_messages,
            block=replier is None,
        )
        for name, fn in commands.commands().items()
    ]
    handlers.append(
        MessageHandler(
            filters.StatusUpdate.MIGRATE, _on_migrate(commands.chat_store, commands.clock)
        )
    )
    return handlers


def _subscribed(chat: Chat) -> bool:
    return chat.active and bool(chat.topics)


def _on_migrate(
    chat_store: ChatStore, clock: Clock
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Move a group's subscription when it becomes a supergroup."""

    async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        # Telegram sends both service messages; the second finds nothing left to move.
        if message.migrate_to_chat_id:
            old, new = message.chat_id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat_id
        else:
            return
        try:
            await chat_store.migrate_chat(old, new, now=clock())
        except StoreError as exc:
            log.warning("chat %s: moving the subscription to %s failed: %s", old, new, exc)
            return
        log.info("chat %s became supergroup %s; subscription moved", old, new)

    return on_migrate


def _replying(
    name: str, handler: _Handler, replier: Replier | None, gate: _Gate | None
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Wrap a text-producing handler: check the gate, build its `Ask`, reply in the same thread."""

    async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        ask = Ask(
            chat_id=chat.id,
            kind=chat.type,
            title=chat.title,
            # message_thread_id is also set on reply chains in plain groups: only topics count.
            thread_id=message.message_thread_id if message.is_topic_message else None,
            user_id=update.effective_user.id if update.effective_user else None,
            args=tuple(context.args or ()),
        )
        verdict = await gate(update, context.bot) if gate is not None else None
        if verdict is not None and not verdict.allowed:
            text = escape_text(verdict.refusal)
        else:
            try:
                text = await handler(ask)
            except StoreError as exc:
                log.warning("chat %s: /%s failed: %s", chat.id, name, exc)
                text = "Sorry, I cannot reach my database right now. Please try again in a minute."
        await send_reply(message, text, replier, thread_id=ask.thread_id)

    return callback


__all__ = [
    "COMMANDS",
    "LATEST_DEFAULT",
    "LATEST_MAX",
    "Ask",
    "SubscriberCommands",
    "latest_text",
    "make_handlers",
]
