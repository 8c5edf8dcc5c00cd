"""How fast a source publishes: the times of its newest stored items (for Telegram channels,
whose preview shows only the last ~20 messages, so a channel polled too rarely loses some)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.tables import items


class PostingPace:
    """Reads the publication times of sources' newest items."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def recent(self, source_ids: Sequence[str], n: int = 20) -> dict[str, list[datetime]]:
        """Source id → the publication times of its newest `n` items (newest first)."""
        out: dict[str, list[datetime]] = {}
        async with self._db.read("reading sources' posting pace") as conn:
            for source_id in source_ids:
                query = (
                    select(items.c.published)
                    .where(items.c.source_id == source_id)
                    .order_by(items.c.published.desc())
                    .limit(n)
                )
                out[source_id] = list((await conn.execute(query)).scalars())
        return out
