"""Subscribers' commands: PTB handlers built by `make_handlers`, their dependencies in closures.

Every command is answered in HTML parse mode with every dynamic string escaped, in the chat and
forum topic it came from, with link previews off. A malformed command gets a short usage answer;
a database failure gets an apology and a warning in the log, never an unhandled error. Commands
edited after sending and channel posts are ignored (channels are added by an operator).
The texts are built by plain functions of values, so the handlers only fetch and reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.errors import StoreError
from bot.formatting import clean, format_time, trim
from bot.markup import TELEGRAM_TEXT_LIMIT, escape_text, link, safe_href, utf16_len
from bot.markup import visible_text as _visible
from bot.models import Source, SourceState, StoredItem, Topic
from bot.storage.chats import Chat, ChatStore
from bot.storage.items import Store

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
LATEST_DEFAULT = 5
LATEST_MAX = 20
_TITLE_MAX = 160  # characters of a title in a list; the item message has the full one
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Clock = Callable[[], datetime]
_Handler = Callable[["_Ask"], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class _Ask:
    """A command as the handlers see it: where it came from and its arguments."""

    chat_id: int
    kind: str
    title: str | None
    thread_id: int | None  # the forum topic it was sent in
    user_id: int | None
    args: tuple[str, ...]


def make_handlers(
    *,
    chat_store: ChatStore,
    store: Store,
    topics: Callable[[], Sequence[Topic]],
    sources: Callable[[], Sequence[Source]],
    tz: tzinfo,
    clock: Clock,
    default_topics: Callable[[], Sequence[str]] | None = None,
) -> list[BaseHandler[Any, Any, Any]]:
    """The command handlers and the group-migration handler, bound to their dependencies."""

    def defaults() -> list[str]:
        if default_topics is not None:
            return list(default_topics())
        return [t.id for t in topics() if t.default]

    def names() -> dict[str, str]:
        return {t.id: t.name for t in topics()}

    async def start(ask: _Ask) -> str:
        wanted = defaults()
        if not wanted:
            listing = _topic_list(topics(), ())
            return f"{_INTRO}\n\nPick a topic with /subscribe &lt;topic&gt;:\n{listing}\n\n{_HELP}"
        chat = await chat_store.subscribe(
            ask.chat_id,
            kind=ask.kind,
            title=ask.title,
            topics=wanted,
            thread_id=ask.thread_id,
            now=clock(),
            added_by=ask.user_id,
        )
        where = "this topic" if ask.thread_id is not None else "this chat"
        subscribed = _names(chat.topics, names())
        return (
            f"{_INTRO}\n\nSubscribed: new items about {subscribed} will be posted in {where}."
            f"\n\n{_HELP}"
        )

    async def stop(ask: _Ask) -> str:
        before = await chat_store.chat(ask.chat_id)
        if before is None or not before.active:
            return "This chat was not subscribed. Send /start to subscribe."
        await chat_store.unsubscribe(ask.chat_id, topics=None, now=clock())
        return "Unsubscribed: no more items will be posted here. Send /start to subscribe again."

    async def latest(ask: _Ask) -> str:
        n = _parse_count(ask.args)
        if n is None:
            return _LATEST_USAGE
        chat = await chat_store.chat(ask.chat_id)
        subscribed = _subscribed(chat)
        wanted = list(chat.topics) if chat is not None and subscribed else defaults()
        items = await store.latest(min(n, LATEST_MAX), topics=wanted) if wanted else []
        footer = [] if subscribed else [_NOT_SUBSCRIBED]
        if n > LATEST_MAX:
            footer.insert(0, f"(/latest shows at most {LATEST_MAX} items.)")
        return latest_text(items, topic_names=names(), topics=wanted, tz=tz, footer=footer)

    async def show_topics(ask: _Ask) -> str:
        chat = await chat_store.chat(ask.chat_id)
        mine = chat.topics if _subscribed(chat) and chat is not None else ()
        return f"<b>Topics</b>\n{_topic_list(topics(), mine)}\n\n{_TOPIC_HINT}"

    async def subscribe(ask: _Ask) -> str:
        topic = _one_topic(ask.args, topics(), "subscribe")
        if isinstance(topic, str):
            return topic
        chat = await chat_store.subscribe(
            ask.chat_id,
            kind=ask.kind,
            title=ask.title,
            topics=[topic.id],
            thread_id=ask.thread_id,
            now=clock(),
            added_by=ask.user_id,
        )
        return f"Subscribed to {_b(topic.name)}. This chat follows: {_names(chat.topics, names())}."

    async def unsubscribe(ask: _Ask) -> str:
        chat = await chat_store.chat(ask.chat_id)
        mine = chat.topics if _subscribed(chat) and chat is not None else ()
        # A topic removed from the config can still be dropped by its id.
        known = [*topics(), *(Topic(id=t, name=t, groups=(), require=()) for t in mine)]
        topic = _one_topic(ask.args, known, "unsubscribe")
        if isinstance(topic, str):
            return topic
        if topic.id not in mine:
            return f"This chat does not follow {_b(topic.name)}. See /topics."
        after = await chat_store.unsubscribe(ask.chat_id, topics=[topic.id], now=clock())
        if after is None or not after.active:
            return (
                f"Unsubscribed from {_b(topic.name)}, the last topic here: no more items will be "
                "posted. Send /start to subscribe again."
            )
        return (
            f"Unsubscribed from {_b(topic.name)}. Still following: {_names(after.topics, names())}."
        )

    async def show_sources(ask: _Ask) -> str:
        return sources_text(sources(), await store.source_states(), tz=tz)

    async def status(ask: _Ask) -> str:
        chat = await chat_store.chat(ask.chat_id)
        if not _subscribed(chat) or chat is None:
            return f"This chat is not subscribed. Send /start to subscribe.\n\n{_TOPIC_HINT}"
        pending = await chat_store.pending_count(ask.chat_id)
        where = "the main chat" if chat.thread_id is None else f"forum topic {chat.thread_id}"
        lines = [
            "<b>This chat</b>",
            f"Following: {_names(chat.topics, names())}",
            f"New items go to: {where}",
            f"Waiting to be sent: {pending}",
        ]
        if chat.failures:
            lines.append(f"Recent delivery failures: {chat.failures}")
        return "\n".join(lines)

    async def help_(ask: _Ask) -> str:
        return f"{_INTRO}\n\n{_HELP}"

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

    commands: Mapping[str, _Handler] = {
        "start": start,
        "stop": stop,
        "latest": latest,
        "topics": show_topics,
        "subscribe": subscribe,
        "unsubscribe": unsubscribe,
        "sources": show_sources,
        "status": status,
        "help": help_,
    }
    only_new_messages = filters.UpdateType.MESSAGE  # not edits, not channel posts
    handlers: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler(name, _replying(name, fn), filters=only_new_messages)
        for name, fn in commands.items()
    ]
    handlers.append(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    return handlers


def _replying(
    name: str, handler: _Handler
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Wrap a text-producing handler: build its `_Ask`, reply in the same thread, as HTML."""

    async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        ask = _Ask(
            chat_id=chat.id,
            kind=chat.type,
            title=chat.title,
            # message_thread_id is also set on reply chains in plain groups: only topics count.
            thread_id=message.message_thread_id if message.is_topic_message else None,
            user_id=update.effective_user.id if update.effective_user else None,
            args=tuple(context.args or ()),
        )
        try:
            text = await handler(ask)
        except StoreError as exc:
            log.warning("chat %s: /%s failed: %s", chat.id, name, exc)
            text = "Sorry, I cannot reach my database right now. Please try again in a minute."
        # reply_text keeps the forum topic of the command (PTB reads is_topic_message).
        await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)

    return callback


# ----------------------------------------------------------------- texts (pure)

_INTRO = (
    "I watch news outlets in English, Russian, Azerbaijani and Persian and post the items "
    "about the topics a chat follows as soon as they appear."
)
_HELP = "\n".join(
    [
        "<b>Commands</b>",
        "/latest [N] — the newest N items (default 5, at most 20)",
        "/topics — topics and what this chat follows",
        "/subscribe &lt;topic&gt; — follow a topic",
        "/unsubscribe &lt;topic&gt; — stop following a topic",
        "/sources — news outlets and their health",
        "/status — this chat's subscription",
        "/stop — unsubscribe this chat",
        "/help — this message",
    ]
)
_LATEST_USAGE = (
    f"Usage: /latest [N], where N is a number from 1 to {LATEST_MAX} "
    f"(default {LATEST_DEFAULT}). Example: /latest 10"
)
_NOT_SUBSCRIBED = "This chat is not subscribed; send /start to get new items here."
_TOPIC_HINT = "Follow a topic with /subscribe &lt;topic&gt;, stop with /unsubscribe &lt;topic&gt;."


def _b(text: str) -> str:
    return f"<b>{escape_text(text)}</b>"


def _names(topic_ids: Sequence[str], names: Mapping[str, str]) -> str:
    return ", ".join(_b(names.get(t, t)) for t in topic_ids) or "no topic"


def _subscribed(chat: Chat | None) -> bool:
    return chat is not None and chat.active and bool(chat.topics)


def _parse_count(args: Sequence[str]) -> int | None:
    """N of /latest: the default without arguments; None when malformed or below 1."""
    if not args:
        return LATEST_DEFAULT
    if len(args) > 1 or not args[0].isdecimal() or len(args[0]) > 6:
        return None
    n = int(args[0])  # isdecimal admits Persian and Arabic-Indic digits, which int() reads
    return n if n >= 1 else None


def _topic_key(text: str) -> str:
    return "".join(ch for ch in text.casefold().lstrip("#") if ch.isalnum())


def _one_topic(args: Sequence[str], topics: Sequence[Topic], command: str) -> Topic | str:
    """The topic named by the arguments (by id, name or hashtag), or the answer explaining why not."""
    listing = _topic_list(topics, ())
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


def _topic_list(topics: Sequence[Topic], mine: Sequence[str]) -> str:
    known = {t.id for t in topics}
    lines = [
        f"{'✅' if t.id in mine else '▫️'} {escape_text(t.name)} — <code>{escape_text(t.id)}</code>"
        for t in topics
    ]
    lines += [
        f"✅ <code>{escape_text(t)}</code> (no longer offered)" for t in mine if t not in known
    ]
    return "\n".join(lines) or "(no topics are configured)"


def _fit_lines(head: str, lines: Sequence[str], tail: Sequence[str]) -> str:
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
    about = _names(topics, topic_names)
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
    return _fit_lines(head, lines, tail)


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
    return _fit_lines(head, lines, ())
