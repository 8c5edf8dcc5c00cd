"""Which sources already hold items with given links: how a new source is recognised as a feed
we already poll under another id (`bot.operator.newsource`).

Same edge as the other stores (SQLAlchemy rows and errors stay here; callers get counts and
`StoreError`). `items.url` has no index of its own: this runs once per source an operator adds,
over at most a feed's worth of links, so a scan is acceptable where an index would cost every
insert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.tables import items

BATCH = 500  # links per query: well under every driver's parameter limit


class FeedOverlap:
    """Counts, per source, the stored items whose link is one of a probed feed's links."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def holders(self, links: Sequence[str]) -> dict[str, int]:
        """Source id → how many of the distinct `links` its items have (sources with none left
        out)."""
        wanted = sorted(set(links))
        counts: Counter[str] = Counter()
        async with self._db.read("looking for a feed's links among stored items") as conn:
            for start in range(0, len(wanted), BATCH):
                chunk = wanted[start : start + BATCH]
                query = (
                    select(items.c.source_id, func.count(func.distinct(items.c.url)))
                    .where(items.c.url.in_(chunk))
                    .group_by(items.c.source_id)
                )
                for source_id, n in (await conn.execute(query)).all():
                    counts[source_id] += int(n)
        return dict(counts)
