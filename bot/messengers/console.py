"""Console messenger: prints each newly flagged item as a readable block (the default, with no token)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import TextIO

from bot.models import StoredItem
from bot.text.formatting import format_console


class ConsoleMessenger:
    """Writes flagged items to a text stream, one block each, flushed at once so `tail` sees them."""

    def __init__(self, stream: TextIO, *, tz: tzinfo, topic_names: Mapping[str, str]) -> None:
        self._stream = stream
        self._tz = tz
        self._topic_names = dict(topic_names)

    async def announce(self, items: Sequence[StoredItem]) -> None:
        """Print `items`, oldest first, so the newest ends up at the bottom of the terminal."""
        for stored in sorted(items, key=lambda s: (s.item.published, s.id)):
            block = format_console(stored, topic_names=self._topic_names, tz=self._tz)
            self._stream.write(block.rstrip("\n") + "\n\n")
        self._stream.flush()
