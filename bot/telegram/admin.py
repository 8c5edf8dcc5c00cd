"""Operators' commands in Telegram: PTB handlers built by `make_admin_handlers`.

Operators are the user ids in BOT_ADMIN_IDS. An operator command from anyone else is refused
politely, changes nothing and is logged with the user id; from an operator outside a private chat
with the bot it is refused too (config and health are not for a group's eyes). Edits go through
`LiveConfig.apply`, which validates them with the rules of the files and records them for
/audit and /undo; the actor is "telegram:<user id>".

/sources is shared with subscribers (`bot.telegram.commands`): the handler here matches only operators in
a private chat (a PTB filter), answers with the full health view, and raises
`ApplicationHandlerStop` so that no later group answers too. Everyone else falls through to the
public view. So these handlers must come before `bot.telegram.commands`' in the same group (or sit in an
earlier group): `build_application(handlers=[*make_admin_handlers(...), *make_handlers(...)])`.

The operator check and the reply are `bot.telegram.guard`'s; argument readers and answer texts are
`bot.telegram.replies`'s (pure), so this module only binds each command to its dependencies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, tzinfo
from typing import Any

from telegram.ext import (
    BaseHandler,
    CommandHandler,
    filters,
)

from bot.durations import parse_duration
from bot.errors import ConfigError, FetchError, ParseError
from bot.feeds.fetch import Fetcher
from bot.formatting import clean, trim
from bot.markup import escape_text
from bot.models import Topic
from bot.operator.edits import (
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
from bot.operator.live import LiveConfig
from bot.operator.probe import probe_feed
from bot.operator.rematch import DEFAULT_HOURS, MAX_HOURS, rematch
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.ops import OpsStore
from bot.telegram.channels import add_channel, remove_channel
from bot.telegram.guard import Op, OpHandler, guarded
from bot.telegram.replies import (
    ADMIN_COMMANDS,
    ADMIN_USAGE,
    ArgumentError,
    added_text,
    audit_count,
    audit_text,
    duplicate_source_text,
    health_text,
    problems_text,
    reloaded_text,
    rematch_args,
    rematch_text,
    terms_text,
    testmatch_text,
    topics_list,
)
from bot.topics.matcher import Matcher, compile_topics

__all__ = ["ADMIN_COMMANDS", "make_admin_handlers"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


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

    async def edit(op: Op, change: Edit) -> str:
        result = await live.apply(change, actor=op.actor)
        return f"Done: {escape_text(result.summary)}. /undo reverts it."

    # --- sources

    async def sources(op: Op) -> str:
        effective = live.current
        states = await store.source_states()
        polls = {s.id: next_poll(s.id) for s in effective.sources} if next_poll else {}
        return health_text(effective.sources, states, polls, tz=tz)

    async def add_source(op: Op) -> str:
        args = op.args()
        if len(args) < 2:
            raise ArgumentError("an id and a URL are needed")
        source_id, url, name = args[0], args[1], " ".join(args[2:]) or None
        taken = duplicate_source_text(live.current.sources, source_id, url)
        if taken is not None:
            return taken
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

    def one_id(op: Op) -> str:
        args = op.args()
        if len(args) != 1:
            raise ArgumentError("one source id is needed")
        return args[0]

    async def remove_source(op: Op) -> str:
        return await edit(op, RemoveSource(one_id(op)))

    async def pause(op: Op) -> str:
        return await edit(op, PauseSource(one_id(op)))

    async def resume(op: Op) -> str:
        return await edit(op, ResumeSource(one_id(op)))

    async def interval(op: Op) -> str:
        args = op.args()
        if len(args) != 2:
            raise ArgumentError("a source id and a duration are needed")
        try:
            seconds = parse_duration(args[1])
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
        return await edit(op, SetInterval(args[0], seconds))

    # --- terms

    async def terms(op: Op) -> str:
        args = op.args()
        if len(args) != 1:
            return f"Which topic? {ADMIN_USAGE['terms']}\n{topics_list(live.current.topics)}"
        return terms_text(topic(args[0]))

    def parts(op: Op, n: int, what: str) -> list[str]:
        args = op.args()
        if len(args) != n:
            raise ArgumentError(f"{what} are needed; quote a term of several words")
        return args

    async def add_term(op: Op) -> str:
        t, g, term = parts(op, 3, "a topic, a group and one term")
        return await edit(op, AddTerm(t, g, term))

    async def remove_term(op: Op) -> str:
        t, g, term = parts(op, 3, "a topic, a group and one term")
        return await edit(op, RemoveTerm(t, g, term))

    async def add_mask(op: Op) -> str:
        t, phrase = parts(op, 2, "a topic and one phrase")
        return await edit(op, AddMask(t, phrase))

    async def remove_mask(op: Op) -> str:
        t, phrase = parts(op, 2, "a topic and one phrase")
        return await edit(op, RemoveMask(t, phrase))

    async def add_veto(op: Op) -> str:
        t, term = parts(op, 2, "a topic and one term")
        return await edit(op, AddVeto(t, term))

    async def remove_veto(op: Op) -> str:
        t, term = parts(op, 2, "a topic and one term")
        return await edit(op, RemoveVeto(t, term))

    async def testmatch(op: Op) -> str:
        if not op.rest:
            raise ArgumentError("some text is needed")
        title, _, summary = op.rest.partition("\n")
        return testmatch_text(op.rest, matcher().explain(title.strip(), summary.strip()))

    # --- channels

    async def add_channel_(op: Op) -> str:
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

    async def remove_channel_(op: Op) -> str:
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

    async def audit(op: Op) -> str:
        return audit_text(await live.audit(audit_count(op.args())), tz=tz)

    async def undo(op: Op) -> str:
        try:
            result = await live.undo(actor=op.actor)
        except ConfigError as exc:
            return problems_text("Nothing was undone:", exc.problems)
        return f"Undone: {escape_text(result.summary)}."

    async def reload(op: Op) -> str:
        try:
            effective = await live.reload()
        except ConfigError as exc:
            return problems_text(
                "The files have errors; the last good config keeps running:", exc.problems
            )
        return reloaded_text(effective.sources, effective.topics)

    async def rematch_(op: Op) -> str:
        topic_id, hours, announce = rematch_args(
            op.args(), default_hours=DEFAULT_HOURS, max_hours=MAX_HOURS
        )
        chosen = topic(topic_id)
        result = await rematch(ops, chosen, hours=hours, now=clock(), announce=announce, wake=wake)
        return rematch_text(
            chosen.id,
            hours,
            result.scanned,
            result.already,
            [stored.item.title for stored in result.matched],
            announced=result.announced,
        )

    commands: Mapping[str, OpHandler] = {
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
        CommandHandler("sources", guarded("sources", sources, admins, stop=True), operator_here)
    ]
    handlers += [
        CommandHandler(name, guarded(name, fn, admins), new_messages)
        for name, fn in commands.items()
    ]
    return handlers
