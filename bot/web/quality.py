"""The status page's desk-feedback figures: `/quality`'s figures of the last 7 days, no names.

Same figures as the operators' `/quality` (`bot.operator.quality`), rendered with `people`
False: no person's name, no chat id, no user id reaches the page. The topics are compiled once
per version of the live config, not per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.models import Topic
from bot.operator.quality import gather, lines
from bot.storage.labels import LabelStore
from bot.topics.matcher import Matcher, compile_topics

WINDOW = timedelta(days=7)


class QualityFigures:
    """The figures' lines for the status page."""

    def __init__(
        self,
        labels: LabelStore,
        topics: Callable[[], Sequence[Topic]],
        clock: Callable[[], datetime],
        window: timedelta = WINDOW,
    ) -> None:
        self._labels = labels
        self._topics = topics
        self._clock = clock
        self._window = window
        self._compiled: tuple[tuple[Topic, ...], Matcher] | None = None

    async def lines(self) -> list[str]:
        """The window's figures, one fact a line, without people."""
        found = await gather(self._labels, self._matcher(), now=self._clock(), window=self._window)
        return lines(found, people=False)

    def _matcher(self) -> Matcher:
        topics = tuple(self._topics())
        if self._compiled is None or self._compiled[0] != topics:
            self._compiled = (topics, compile_topics(topics))
        return self._compiled[1]
