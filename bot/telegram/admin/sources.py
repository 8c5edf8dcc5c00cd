"""Operator commands about sources: the health view, add, remove, pause, resume, interval."""

from __future__ import annotations

from collections.abc import Mapping

from bot.errors import ConfigError, FetchError, ParseError
from bot.operator.edits import AddSource, PauseSource, RemoveSource, ResumeSource, SetInterval
from bot.operator.probe import probe_feed
from bot.telegram.admin.context import AdminContext, exactly
from bot.telegram.guard import Op, OpHandler
from bot.telegram.replies import (
    ArgumentError,
    added_text,
    duplicate_source_text,
    health_text,
    problems_text,
)
from bot.telegram.texts_outlets import keep_up_text
from bot.text.durations import parse_duration
from bot.text.formatting import clean, trim
from bot.text.markup import escape_text


class SourceCommands:
    """/sources (operators' view), /addsource, /removesource, /pause, /resume, /interval."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def commands(self) -> Mapping[str, OpHandler]:
        """Command name → handler (/sources is registered apart: it shadows the public one)."""
        return {
            "addsource": self.add_source,
            "removesource": self.remove_source,
            "pause": self.pause,
            "resume": self.resume,
            "interval": self.interval,
        }

    async def sources(self, op: Op) -> str:
        """Every source with its health, failures and next poll."""
        ctx = self.ctx
        effective = ctx.live.current
        states = await ctx.store.states.source_states()
        polls = {s.id: ctx.next_poll(s.id) for s in effective.sources} if ctx.next_poll else {}
        text = health_text(effective.sources, states, polls, tz=ctx.tz)
        channels = [s for s in effective.sources if s.kind == "telegram" and s.enabled]
        if channels:
            times = await ctx.pace.recent([s.id for s in channels]) if ctx.pace else {}
            text += "\n\n" + keep_up_text(channels, times)
        return text

    async def add_source(self, op: Op) -> str:
        """Probe the URL first; add the source only when it answers with a readable feed."""
        ctx, args = self.ctx, op.args()
        if len(args) < 2:
            raise ArgumentError("an id and a URL are needed")
        source_id, url, name = args[0], args[1], " ".join(args[2:]) or None
        taken = duplicate_source_text(ctx.live.current.sources, source_id, url)
        if taken is not None:
            return taken
        try:
            probe = await probe_feed(ctx.fetcher, url, now=ctx.clock())
        except FetchError as exc:
            return f"Not added: {escape_text(url)} did not answer with a feed: {escape_text(exc.reason)}"
        except ParseError as exc:
            return f"Not added: {escape_text(url)} is not a readable feed: {escape_text(str(exc))}"
        chosen = name or trim(clean(probe.title), 200) or None
        # The probe may have found another URL to poll: a channel's preview, a page's feed.
        extra = None if probe.kind == "feed" else {"type": probe.kind}
        edit = AddSource(source_id, probe.url or url, chosen, extra=extra)
        try:
            result = await ctx.live.apply(edit, actor=op.actor)
        except ConfigError as exc:
            return problems_text("Not added:", exc.problems)
        text = added_text(
            source_id,
            probe.title,
            probe.item_count,
            probe.newest_title,
            probe.newest_published,
            result.summary,
            tz=ctx.tz,
        )
        if (keep_up := probe.keep_up_text()) is not None:
            text += f"\nTelegram channel: {escape_text(keep_up)}."
        return text

    async def remove_source(self, op: Op) -> str:
        """Remove a source added by an operator, or disable one from the files."""
        (source_id,) = exactly(op, 1, "one source id")
        return await self.ctx.edit(op, RemoveSource(source_id))

    async def pause(self, op: Op) -> str:
        """Stop polling a source until /resume."""
        (source_id,) = exactly(op, 1, "one source id")
        return await self.ctx.edit(op, PauseSource(source_id))

    async def resume(self, op: Op) -> str:
        """Poll a paused source again."""
        (source_id,) = exactly(op, 1, "one source id")
        return await self.ctx.edit(op, ResumeSource(source_id))

    async def interval(self, op: Op) -> str:
        """Change how often a source is polled."""
        source_id, duration = exactly(op, 2, "a source id and a duration")
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
        return await self.ctx.edit(op, SetInterval(source_id, seconds))
