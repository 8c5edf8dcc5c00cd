"""What every operator command needs: the live config, the stores, the clock, and a few helpers.

One `AdminContext` is built per application and shared by the command themes (sources, terms,
upkeep); each theme is a small class whose methods are the commands, so each command is one short
function that can be called with an `Op` in a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from bot.feeds.fetch import Fetcher
from bot.models import Topic
from bot.operator.edits import Edit
from bot.operator.labels import edit_impact, impact_lines
from bot.operator.live import LiveConfig
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.labels import LabelStore
from bot.storage.ops import OpsStore
from bot.storage.overlap import FeedOverlap
from bot.storage.overlay import OverlayStore
from bot.storage.pace import PostingPace
from bot.telegram.guard import Op
from bot.telegram.replies import ArgumentError
from bot.telegram.replying import Replier
from bot.text.markup import escape_text
from bot.topics.matcher import Matcher, compile_topics

Clock = Callable[[], datetime]


@dataclass(slots=True)
class AdminContext:
    """The dependencies of the operator commands.

    `next_poll` is the scheduler's view of a source's next run (else the stored one is shown);
    `wake` starts the delivery worker after `/rematch … announce` enqueued items.
    """

    live: LiveConfig
    store: Store
    chat_store: ChatStore
    ops: OpsStore
    fetcher: Fetcher
    tz: tzinfo
    clock: Clock
    next_poll: Callable[[str], datetime | None] | None = None
    wake: Callable[[], None] | None = None
    overlay: OverlayStore | None = None  # with it, /undo also reverts channel changes
    replier: Replier | None = None  # with it, answers are split, paced and retried
    pace: PostingPace | None = None  # with it, /sources says how often channels must be polled
    overlap: FeedOverlap | None = None  # with it, /addsource refuses a feed already polled
    labels: LabelStore | None = None  # with it, edits of the topics are checked against labels
    _compiled: tuple[tuple[Topic, ...], Matcher] | None = field(default=None, repr=False)

    def matcher(self) -> Matcher:
        """The current topics compiled, recompiled only when the live config changed them."""
        topics = self.live.current.topics
        if self._compiled is None or self._compiled[0] is not topics:
            self._compiled = (topics, compile_topics(topics))
        return self._compiled[1]

    def topic(self, topic_id: str) -> Topic:
        """The configured topic with this id, or an `ArgumentError` naming the known ones."""
        for t in self.live.current.topics:
            if t.id == topic_id:
                return t
        known = ", ".join(t.id for t in self.live.current.topics) or "none"
        raise ArgumentError(f"there is no topic {topic_id!r} (topics: {known})")

    async def edit(self, op: Op, change: Edit) -> str:
        """Apply one audited edit for the operator and say how to revert it; for an edit of the
        topics, also what it does to the items the desk labelled."""
        before = self.matcher() if self.labels is not None else None
        result = await self.live.apply(change, actor=op.actor)
        done = f"Done: {escape_text(result.summary)}. /undo reverts it."
        if self.labels is None or before is None or before.topics == self.live.current.topics:
            return done
        found = await edit_impact(self.labels, before, self.matcher())
        return "\n".join([done, *(escape_text(line) for line in impact_lines(found))])


def exactly(op: Op, n: int, what: str) -> list[str]:
    """The operator's `n` arguments, or an `ArgumentError` saying `what` is needed."""
    args = op.args()
    if len(args) != n:
        raise ArgumentError(f"{what} {'is' if n == 1 else 'are'} needed")
    return args
