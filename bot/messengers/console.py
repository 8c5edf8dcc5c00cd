"""Console messenger: prints each newly flagged item as a readable block (the default, with no token).

With a `joined` lookup (`bot.storage.story_joins.StoryJoins.first_reports`), a report that joins
a story another outlet started says so above its block ("↳ joins the story first reported by
APA English: …"), as Telegram edits the story's message instead of posting a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import tzinfo
from typing import Protocol, TextIO

from bot.errors import StoreError
from bot.models import StoredItem
from bot.text.clean import clean_title
from bot.text.formatting import format_console

log = logging.getLogger(__name__)


class JoinedStory(Protocol):
    """The first report of a story (`bot.storage.story_joins.Joined`)."""

    @property
    def source_name(self) -> str: ...
    @property
    def title(self) -> str: ...


JoinedLookup = Callable[[Sequence[int]], Awaitable[Mapping[int, JoinedStory]]]


class ConsoleMessenger:
    """Writes flagged items to a text stream, one block each, flushed at once so `tail` sees them."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tz: tzinfo,
        topic_names: Mapping[str, str],
        joined: JoinedLookup | None = None,
    ) -> None:
        self._stream = stream
        self._tz = tz
        self._topic_names = dict(topic_names)
        self._joined = joined

    async def announce(self, items: Sequence[StoredItem]) -> None:
        """Print `items`, oldest first, so the newest ends up at the bottom of the terminal."""
        joins: Mapping[int, JoinedStory] = {}
        if self._joined is not None and items:
            try:
                joins = await self._joined([s.id for s in items])
            except StoreError as exc:  # the blocks still print, without the story line
                log.warning("console: cannot read which stories the items joined: %s", exc)
        for stored in sorted(items, key=lambda s: (s.item.published, s.id)):
            block = format_console(stored, topic_names=self._topic_names, tz=self._tz)
            first = joins.get(stored.id)
            if first is not None:
                title = clean_title(first.title)[:120]
                block = (
                    f"↳ joins the story first reported by {clean_title(first.source_name)}: "
                    f"{title}\n{block}"
                )
            self._stream.write(block.rstrip("\n") + "\n\n")
        self._stream.flush()
