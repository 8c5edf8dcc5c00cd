"""Operator commands about what is flagged: terms, masks, vetoes, and /testmatch."""

from __future__ import annotations

from collections.abc import Mapping

from bot.operator.edits import AddMask, AddTerm, AddVeto, RemoveMask, RemoveTerm, RemoveVeto
from bot.telegram.admin.context import AdminContext
from bot.telegram.guard import Op, OpHandler
from bot.telegram.replies import (
    ADMIN_USAGE,
    ArgumentError,
    terms_text,
    testmatch_text,
    topics_list,
)


def _parts(op: Op, n: int, what: str) -> list[str]:
    args = op.args()
    if len(args) != n:
        raise ArgumentError(f"{what} are needed; quote a term of several words")
    return args


class TermCommands:
    """/terms, /addterm, /removeterm, /addmask, /removemask, /addveto, /removeveto, /testmatch."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def commands(self) -> Mapping[str, OpHandler]:
        """Command name → handler."""
        return {
            "terms": self.terms,
            "addterm": self.add_term,
            "removeterm": self.remove_term,
            "addmask": self.add_mask,
            "removemask": self.remove_mask,
            "addveto": self.add_veto,
            "removeveto": self.remove_veto,
            "testmatch": self.testmatch,
        }

    async def terms(self, op: Op) -> str:
        """A topic's groups, terms, masks and vetoes."""
        args = op.args()
        topics = self.ctx.live.current.topics
        if len(args) != 1:
            return f"Which topic? {ADMIN_USAGE['terms']}\n{topics_list(topics)}"
        return terms_text(self.ctx.topic(args[0]))

    async def add_term(self, op: Op) -> str:
        """Add a term to one of a topic's groups."""
        topic, group, term = _parts(op, 3, "a topic, a group and one term")
        return await self.ctx.edit(op, AddTerm(topic, group, term))

    async def remove_term(self, op: Op) -> str:
        """Remove a term from one of a topic's groups."""
        topic, group, term = _parts(op, 3, "a topic, a group and one term")
        return await self.ctx.edit(op, RemoveTerm(topic, group, term))

    async def add_mask(self, op: Op) -> str:
        """Add a phrase whose words do not count as terms."""
        topic, phrase = _parts(op, 2, "a topic and one phrase")
        return await self.ctx.edit(op, AddMask(topic, phrase))

    async def remove_mask(self, op: Op) -> str:
        """Remove a mask phrase."""
        topic, phrase = _parts(op, 2, "a topic and one phrase")
        return await self.ctx.edit(op, RemoveMask(topic, phrase))

    async def add_veto(self, op: Op) -> str:
        """Add a term that keeps an item from being flagged."""
        topic, term = _parts(op, 2, "a topic and one term")
        return await self.ctx.edit(op, AddVeto(topic, term))

    async def remove_veto(self, op: Op) -> str:
        """Remove a veto term."""
        topic, term = _parts(op, 2, "a topic and one term")
        return await self.ctx.edit(op, RemoveVeto(topic, term))

    async def testmatch(self, op: Op) -> str:
        """Explain how the current topics judge a title (first line) and text (the rest)."""
        if not op.rest:
            raise ArgumentError("some text is needed")
        title, _, summary = op.rest.partition("\n")
        return testmatch_text(op.rest, self.ctx.matcher().explain(title.strip(), summary.strip()))
