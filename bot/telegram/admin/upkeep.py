"""Operator commands that look after the bot: channels, audit, undo, reload, rematch."""

from __future__ import annotations

from collections.abc import Mapping

from bot.errors import ConfigError
from bot.operator.rematch import DEFAULT_HOURS, MAX_HOURS, rematch
from bot.telegram.admin.context import AdminContext
from bot.telegram.channels import add_channel, remove_channel, undo_last_change
from bot.telegram.guard import Op, OpHandler
from bot.telegram.replies import (
    ArgumentError,
    audit_count,
    audit_text,
    problems_text,
    reloaded_text,
    rematch_args,
    rematch_text,
)
from bot.text.markup import escape_text


class UpkeepCommands:
    """/addchannel, /removechannel, /audit, /undo, /reload, /rematch."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def commands(self) -> Mapping[str, OpHandler]:
        """Command name → handler."""
        return {
            "addchannel": self.add_channel,
            "removechannel": self.remove_channel,
            "audit": self.audit,
            "undo": self.undo,
            "reload": self.reload,
            "rematch": self.rematch,
        }

    async def add_channel(self, op: Op) -> str:
        """Post a channel's topics there (the default topics when none are named)."""
        ctx, args = self.ctx, op.args()
        if not args:
            raise ArgumentError("a channel is needed")
        topics = ctx.live.current.topics
        wanted = [ctx.topic(t).id for t in args[1:]] or [t.id for t in topics if t.default]
        if not wanted:
            raise ArgumentError("no topic is a default one: name the topics to post there")
        return await add_channel(
            op.bot,
            args[0],
            wanted,
            chat_store=ctx.chat_store,
            live=ctx.live,
            user_id=op.user_id,
            now=ctx.clock(),
        )

    async def remove_channel(self, op: Op) -> str:
        """Stop posting some or all topics to a channel."""
        ctx, args = self.ctx, op.args()
        if not args:
            raise ArgumentError("a channel is needed")
        return await remove_channel(
            op.bot,
            args[0],
            args[1:] or None,
            chat_store=ctx.chat_store,
            live=ctx.live,
            user_id=op.user_id,
            now=ctx.clock(),
        )

    async def audit(self, op: Op) -> str:
        """The newest edits: who, when, before and after."""
        return audit_text(await self.ctx.live.audit(audit_count(op.args())), tz=self.ctx.tz)

    async def undo(self, op: Op) -> str:
        """Revert the newest change still in force: a config edit or a channel change."""
        ctx = self.ctx
        if ctx.overlay is not None:
            return await undo_last_change(
                live=ctx.live,
                overlay=ctx.overlay,
                chat_store=ctx.chat_store,
                actor=op.actor,
                now=ctx.clock(),
            )
        try:
            result = await self.ctx.live.undo(actor=op.actor)
        except ConfigError as exc:
            return problems_text("Nothing was undone:", exc.problems)
        return f"Undone: {escape_text(result.summary)}."

    async def reload(self, op: Op) -> str:
        """Read the files again now (they are also watched)."""
        try:
            effective = await self.ctx.live.reload()
        except ConfigError as exc:
            return problems_text(
                "The files have errors; the last good config keeps running:", exc.problems
            )
        return reloaded_text(effective.sources, effective.topics)

    async def rematch(self, op: Op) -> str:
        """Match stored items of the last hours against a topic's current terms."""
        ctx = self.ctx
        topic_id, hours, announce = rematch_args(
            op.args(), default_hours=DEFAULT_HOURS, max_hours=MAX_HOURS
        )
        chosen = ctx.topic(topic_id)
        result = await rematch(
            ctx.ops, chosen, hours=hours, now=ctx.clock(), announce=announce, wake=ctx.wake
        )
        return rematch_text(
            chosen.id,
            hours,
            result.scanned,
            result.already,
            [stored.item.title for stored in result.matched],
            announced=result.announced,
        )
