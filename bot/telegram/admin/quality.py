"""`/quality [DURATION]`: how the desk judged what was pushed (`bot.operator.quality`), for operators."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.operator.quality import gather, lines
from bot.telegram.admin.context import AdminContext
from bot.telegram.guard import Op, OpHandler
from bot.telegram.replies import ArgumentError
from bot.text.durations import parse_duration
from bot.text.markup import escape_text

DEFAULT = timedelta(days=7)
LONGEST = timedelta(days=3650)


class QualityCommands:
    """/quality."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def commands(self) -> Mapping[str, OpHandler]:
        """Command name → handler."""
        return {"quality": self.quality}

    async def quality(self, op: Op) -> str:
        """Labels received, the share marked not relevant (per outlet and evidence), recent ones."""
        if self.ctx.labels is None:
            return "Relevance labels are not kept by this bot."
        args = op.args()
        if len(args) > 1:
            raise ArgumentError("one duration at most (e.g. 30d)")
        window = DEFAULT
        if args:
            try:
                window = timedelta(seconds=parse_duration(args[0]))
            except ValueError as exc:
                raise ArgumentError(str(exc)) from exc
            if not timedelta(0) < window <= LONGEST:
                raise ArgumentError("the duration must be between 1s and 3650d")
        found = await gather(
            self.ctx.labels, self.ctx.matcher(), now=self.ctx.clock(), window=window
        )
        return "\n".join(escape_text(line) for line in lines(found, people=True))
