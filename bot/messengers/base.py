"""The messenger seam: the pipeline hands newly flagged items to whatever announces them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.models import StoredItem


class Messenger(Protocol):
    """Announces newly flagged items. Must not raise for one bad item or chat; it logs instead."""

    async def announce(self, items: Sequence[StoredItem]) -> None:
        """Announce `items` (already stored, each flagged by at least one topic)."""
        ...
