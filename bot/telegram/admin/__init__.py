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
`bot.telegram.replies`'s (pure). The commands themselves are methods of small classes, one per
theme (`sources`, `terms`, `upkeep`), sharing one `AdminContext`; this module only registers them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, tzinfo
from typing import Any

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.feeds.fetch import Fetcher
from bot.operator.live import LiveConfig
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.labels import LabelStore
from bot.storage.ops import OpsStore
from bot.storage.overlap import FeedOverlap
from bot.storage.overlay import OverlayStore
from bot.storage.pace import PostingPace
from bot.telegram.admin.context import AdminContext
from bot.telegram.admin.quality import QualityCommands
from bot.telegram.admin.sources import SourceCommands
from bot.telegram.admin.terms import TermCommands
from bot.telegram.admin.upkeep import UpkeepCommands
from bot.telegram.guard import OpHandler, guarded
from bot.telegram.replies import ADMIN_COMMANDS
from bot.telegram.replying import Replier

__all__ = ["ADMIN_COMMANDS", "AdminContext", "make_admin_handlers"]


def make_admin_handlers(
    *,
    admin_ids: Collection[int],
    live: LiveConfig,
    store: Store,
    chat_store: ChatStore,
    ops: OpsStore,
    fetcher: Fetcher,
    tz: tzinfo,
    clock: Callable[[], datetime],
    next_poll: Callable[[str], datetime | None] | None = None,
    wake: Callable[[], None] | None = None,
    overlay: OverlayStore | None = None,
    replier: Replier | None = None,
    pace: PostingPace | None = None,
    overlap: FeedOverlap | None = None,
    labels: LabelStore | None = None,
) -> list[BaseHandler[Any, Any, Any]]:
    """The operator command handlers, bound to their dependencies; see the module docstring."""
    ctx = AdminContext(
        live, store, chat_store, ops, fetcher, tz, clock, next_poll, wake, overlay, replier, pace,
        overlap=overlap, labels=labels,
    )  # fmt: skip
    return admin_handlers(ctx, frozenset(admin_ids))


def admin_handlers(ctx: AdminContext, admins: frozenset[int]) -> list[BaseHandler[Any, Any, Any]]:
    """PTB handlers for every operator command of every theme, each behind the guard."""
    sources = SourceCommands(ctx)
    commands: dict[str, OpHandler] = {}
    for theme in (
        sources.commands(),
        TermCommands(ctx).commands(),
        UpkeepCommands(ctx).commands(),
        QualityCommands(ctx).commands(),
    ):
        commands.update(theme)
    new_messages = filters.UpdateType.MESSAGE  # not edits, not channel posts
    operator_here = new_messages & filters.ChatType.PRIVATE & filters.User(user_id=admins)
    handlers: list[BaseHandler[Any, Any, Any]] = [
        # Only operators in private; everyone else falls through to the subscribers' /sources.
        CommandHandler(
            "sources",
            guarded("sources", sources.sources, admins, stop=True, replier=ctx.replier),
            operator_here,
        )
    ]
    handlers += _guarded_all(commands, admins, new_messages, ctx.replier)
    return handlers


def _guarded_all(
    commands: Mapping[str, OpHandler],
    admins: frozenset[int],
    only: filters.BaseFilter,
    replier: Replier | None,
) -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler(name, guarded(name, fn, admins, replier=replier), only)
        for name, fn in commands.items()
    ]
