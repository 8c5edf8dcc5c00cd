"""Operators' commands in Telegram: PTB handlers built by `make_admin_handlers`.

Operators are the user ids in BOT_ADMIN_IDS. An operator command from anyone else is refused
politely, changes nothing and is logged with the user id; from an operator outside a private chat
with the bot it is refused too (config and health are not for a group's eyes). Edits go through
`LiveConfig.apply`, which validates them with the rules of the files and records them for
/audit and /undo; the actor is "telegram:<user id>".

/sources is shared with subscribers (`bot.commands`): the handler here matches only operators in
a private chat (a PTB filter), answers with the full health view, and raises
`ApplicationHandlerStop` so that no later group answers too. Everyone else falls through to the
public view. So these handlers must come before `bot.commands`' in the same group (or sit in an
earlier group): `build_application(handlers=[*make_admin_handlers(...), *make_handlers(...)])`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.admin_channels import add_channel, remove_channel
from bot.admin_text import (
    ArgumentError,
    added_text,
    audit_text,
    code,
    command_rest,
    health_text,
    problems_text,
    rematch_text,
    split_args,
    terms_text,
    testmatch_text,
    topics_list,
)
from bot.chat_store import ChatStore
from bot.durations import parse_duration
from bot.edits import (
    AddMask,
    AddSource,
    AddTerm,
    AddVeto,
    Edit,
    PauseSource,
    RemoveMask,
    RemoveSource,
    RemoveTerm,
    RemoveVeto,
    ResumeSource,
    SetInterval,
)
from bot.errors import ConfigError, FetchError, ParseError, StoreError
from bot.fetch import Fetcher
from bot.filters import Matcher, compile_topics
from bot.live_config import LiveConfig
from bot.models import Topic
from bot.ops_store import OpsStore
from bot.probe import probe_feed
from bot.rematch import DEFAULT_HOURS, MAX_HOURS, rematch
from bot.store import Store
from bot.summarize import clean, trim
from bot.telegram_html import escape_text

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# (command, usage) in the order /help lists them; also fit for setMyCommands in an admin scope.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("sources", "/sources — every source's health"),
    ("addsource", "/addsource ID URL [NAME…]"),
    ("removesource", "/removesource ID"),
    ("pause", "/pause ID"),
    ("resume", "/resume ID"),
    ("interval", "/interval ID DURATION (e.g. 15m)"),
    ("terms", "/terms TOPIC"),
    ("addterm", '/addterm TOPIC GROUP TERM (quote a phrase: "South Caucasus")'),
    ("removeterm", "/removeterm TOPIC GROUP TERM"),
    ("addmask", "/addmask TOPIC PHRASE"),
    ("removemask", "/removemask TOPIC PHRASE"),
    ("addveto", "/addveto TOPIC TERM"),
    ("removeveto", "/removeveto TOPIC TERM"),
    ("testmatch", "/testmatch TEXT (first line: title, the rest: summary)"),
    ("addchannel", "/addchannel @name_or_id [TOPIC…]"),
    ("removechannel", "/removechannel @name_or_id [TOPIC…]"),
    ("audit", "/audit [N] — the last N changes"),
    ("undo", "/undo — revert the last change"),
    ("reload", "/reload — re-read the config files"),
    ("rematch", "/rematch TOPIC [HOURS] [announce]"),
)
_USAGE = dict(ADMIN_COMMANDS)
AUDIT_DEFAULT, AUDIT_MAX = 10, 50
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_REFUSED = "Sorry, this command is for the bot's operators."
_NOT_PRIVATE = "Operator commands work only in a private chat with me."


@dataclass(frozen=True, slots=True)
class _Op:
    """An operator's command: who, where, and the text after the command word."""

    user_id: int
    chat_id: int
    rest: str
    bot: Bot

    @property
    def actor(self) -> str:
        return f"telegram:{self.user_id}"

    def args(self) -> list[str]:
        return split_args(self.rest)


_Handler = Callable[[_Op], Awaitable[str]]


def make_admin_handlers(
    *,
    admin_ids: Collection[int],
    live: LiveConfig,
    store: Store,
    chat_store: ChatStore,
    ops: OpsStore,
    fetcher: Fetcher,
    tz: tzinfo,
    clock: Clock,
    next_poll: Callable[[str], datetime | None] | None = None,
    wake: Callable[[], None] | None = None,
) -> list[BaseHandler[Any, Any, Any]]:
    """The operator command handlers, bound to their dependencies; see the module docstring.

    `next_poll` is the scheduler's view of a source's next run (else the stored one is shown);
    `wake` starts the delivery worker after `/rematch … announce` enqueued items.
    """
    admins = frozenset(admin_ids)
    compiled: list[tuple[tuple[Topic, ...], Matcher]] = []

    def matcher() -> Matcher:
        topics = live.current.topics
        if not compiled or compiled[0][0] is not topics:
            compiled[:] = [(topics, compile_topics(topics))]
        return compiled[0][1]

    def topic(topic_id: str) -> Topic:
        for t in live.current.topics:
            if t.id == topic_id:
                return t
        known = ", ".join(t.id for t in live.current.topics) or "none"
        raise ArgumentError(f"there is no topic {topic_id!r} (topics: {known})")

    async def edit(op: _Op, change: Edit) -> str:
        result = await live.apply(change, actor=op.actor)
        return f"Done: {escape_text(result.summary)}. /undo reverts it."

    # --- sources

    async def sources(op: _Op) -> str:
        effective = live.current
        states = await store.source_states()
        polls = {s.id: next_poll(s.id) for s in effective.sources} if next_poll else {}
        return health_text(effective.sources, states, polls, tz=tz)

    async def add_source(op: _Op) -> str:
        args = op.args()
        if len(args) < 2:
            raise ArgumentError("an id and a URL are needed")
        source_id, url, name = args[0], args[1], " ".join(args[2:]) or None
        for s in live.current.sources:
            if s.id == source_id:
                return f"Not added: there is already a source {code(source_id)} ({escape_text(s.name)})."
            if s.url == url:
                return (
                    f"Not added: this URL is already source {code(s.id)} ({escape_text(s.name)})."
                )
        try:
            probe = await probe_feed(fetcher, url, now=clock())
        except FetchError as exc:
            return f"Not added: {escape_text(url)} did not answer with a feed: {escape_text(exc.reason)}"
        except ParseError as exc:
            return f"Not added: {escape_text(url)} is not a readable feed: {escape_text(str(exc))}"
        chosen = name or trim(clean(probe.title), 200) or None
        try:
            result = await live.apply(AddSource(source_id, url, chosen), actor=op.actor)
        except ConfigError as exc:
            return problems_text("Not added:", exc.problems)
        return added_text(
            source_id,
            probe.title,
            probe.item_count,
            probe.newest_title,
            probe.newest_published,
            result.summary,
            tz=tz,
        )

    def one_id(op: _Op) -> str:
        args = op.args()
        if len(args) != 1:
            raise ArgumentError("one source id is needed")
        return args[0]

    async def remove_source(op: _Op) -> str:
        return await edit(op, RemoveSource(one_id(op)))

    async def pause(op: _Op) -> str:
        return await edit(op, PauseSource(one_id(op)))

    async def resume(op: _Op) -> str:
        return await edit(op, ResumeSource(one_id(op)))

    async def interval(op: _Op) -> str:
        args = op.args()
        if len(args) != 2:
            raise ArgumentError("a source id and a duration are needed")
        try:
            seconds = parse_duration(args[1])
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
        return await edit(op, SetInterval(args[0], seconds))

    # --- terms

    async def terms(op: _Op) -> str:
        args = op.args()
        if len(args) != 1:
            return f"Which topic? {_USAGE['terms']}\n{topics_list(live.current.topics)}"
        return terms_text(topic(args[0]))

    def parts(op: _Op, n: int, what: str) -> list[str]:
        args = op.args()
        if len(args) != n:
            raise ArgumentError(f"{what} are needed; quote a term of several words")
        return args

    async def add_term(op: _Op) -> str:
        t, g, term = parts(op, 3, "a topic, a group and one term")
        return await edit(op, AddTerm(t, g, term))

    async def remove_term(op: _Op) -> str:
        t, g, term = parts(op, 3, "a topic, a group and one term")
        return await edit(op, RemoveTerm(t, g, term))

    async def add_mask(op: _Op) -> str:
        t, phrase = parts(op, 2, "a topic and one phrase")
        return await edit(op, AddMask(t, phrase))

    async def remove_mask(op: _Op) -> str:
        t, phrase = parts(op, 2, "a topic and one phrase")
        return await edit(op, RemoveMask(t, phrase))

    async def add_veto(op: _Op) -> str:
        t, term = parts(op, 2, "a topic and one term")
        return await edit(op, AddVeto(t, term))

    async def remove_veto(op: _Op) -> str:
        t, term = parts(op, 2, "a topic and one term")
        return await edit(op, RemoveVeto(t, term))

    async def testmatch(op: _Op) -> str:
        if not op.rest:
            raise ArgumentError("some text is needed")
        title, _, summary = op.rest.partition("\n")
        return testmatch_text(op.rest, matcher().explain(title.strip(), summary.strip()))

    # --- channels

    async def add_channel_(op: _Op) -> str:
        args = op.args()
        if not args:
            raise ArgumentError("a channel is needed")
        wanted = [topic(t).id for t in args[1:]] or [t.id for t in live.current.topics if t.default]
        if not wanted:
            raise ArgumentError("no topic is a default one: name the topics to post there")
        return await add_channel(
            op.bot,
            args[0],
            wanted,
            chat_store=chat_store,
            live=live,
            user_id=op.user_id,
            now=clock(),
        )

    async def remove_channel_(op: _Op) -> str:
        args = op.args()
        if not args:
            raise ArgumentError("a channel is needed")
        return await remove_channel(
            op.bot,
            args[0],
            args[1:] or None,
            chat_store=chat_store,
            live=live,
            user_id=op.user_id,
            now=clock(),
        )

    # --- audit, undo, reload, rematch

    async def audit(op: _Op) -> str:
        args = op.args()
        n = AUDIT_DEFAULT
        if args:
            if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= AUDIT_MAX:
                raise ArgumentError(f"N is a number from 1 to {AUDIT_MAX}")
            n = int(args[0])
        return audit_text(await live.audit(n), tz=tz)

    async def undo(op: _Op) -> str:
        try:
            result = await live.undo(actor=op.actor)
        except ConfigError as exc:
            return problems_text("Nothing was undone:", exc.problems)
        return f"Undone: {escape_text(result.summary)}."

    async def reload(op: _Op) -> str:
        try:
            effective = await live.reload()
        except ConfigError as exc:
            return problems_text(
                "The files have errors; the last good config keeps running:", exc.problems
            )
        polled = sum(1 for s in effective.sources if s.enabled)
        return (
            f"Reloaded: {len(effective.sources)} source(s) ({polled} polled), "
            f"{len(effective.topics)} topic(s)."
        )

    async def rematch_(op: _Op) -> str:
        args = op.args()
        announce = any(a.lower() == "announce" for a in args)
        rest = [a for a in args if a.lower() != "announce"]
        if not 1 <= len(rest) <= 2:
            raise ArgumentError("a topic is needed, then optionally HOURS and announce")
        chosen = topic(rest[0])
        hours = DEFAULT_HOURS
        if len(rest) == 2:
            try:
                hours = float(rest[1])
            except ValueError:
                raise ArgumentError("HOURS is a number, e.g. 24") from None
            if not 0 < hours <= MAX_HOURS:
                raise ArgumentError(f"HOURS is more than 0 and at most {MAX_HOURS:g}")
        result = await rematch(ops, chosen, hours=hours, now=clock(), announce=announce, wake=wake)
        return rematch_text(
            chosen.id,
            hours,
            result.scanned,
            result.already,
            [stored.item.title for stored in result.matched],
            announced=result.announced,
        )

    commands: Mapping[str, _Handler] = {
        "addsource": add_source,
        "removesource": remove_source,
        "pause": pause,
        "resume": resume,
        "interval": interval,
        "terms": terms,
        "addterm": add_term,
        "removeterm": remove_term,
        "addmask": add_mask,
        "removemask": remove_mask,
        "addveto": add_veto,
        "removeveto": remove_veto,
        "testmatch": testmatch,
        "addchannel": add_channel_,
        "removechannel": remove_channel_,
        "audit": audit,
        "undo": undo,
        "reload": reload,
        "rematch": rematch_,
    }
    new_messages = filters.UpdateType.MESSAGE  # not edits, not channel posts
    operator_here = new_messages & filters.ChatType.PRIVATE & filters.User(user_id=admins)
    handlers: list[BaseHandler[Any, Any, Any]] = [
        # Only operators in private; everyone else falls through to the subscribers' /sources.
        CommandHandler("sources", _guarded("sources", sources, admins, stop=True), operator_here)
    ]
    handlers += [
        CommandHandler(name, _guarded(name, fn, admins), new_messages)
        for name, fn in commands.items()
    ]
    return handlers


def _guarded(
    name: str, handler: _Handler, admins: frozenset[int], *, stop: bool = False
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Refuse non-operators and non-private chats; run the handler; reply in HTML."""

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
            op = _Op(user.id, chat.id, command_rest(message.text or ""), context.bot)
            text = await _answer(name, handler, op)
        await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)
        if stop:
            raise ApplicationHandlerStop

    return callback


async def _answer(name: str, handler: _Handler, op: _Op) -> str:
    try:
        return await handler(op)
    except ArgumentError as exc:
        return f"{escape_text(str(exc))}\nUsage: {escape_text(_USAGE[name])}"
    except ConfigError as exc:
        return problems_text("Not changed:", exc.problems)
    except StoreError as exc:
        log.warning("operator %s: /%s failed: %s", op.user_id, name, exc)
        return "Sorry, I cannot reach my database right now. Nothing was changed; try again."
