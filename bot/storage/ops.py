"""Store-side queries of the operator features: rematching stored items, and a source's newest item.

Same edge as `bot.storage.items` (SQLAlchemy async; rows and errors stay here, callers get `StoredItem` and
`StoreError`). `add_matches` inserts topic matches found after the fact (`/rematch`) and, when the
operator asked for an announcement, runs the flagged hooks (the chat store's outbox `enqueue`)
with just the newly matched items inside the same transaction, as `Store.save_fetch` does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import StoredItem
from bot.storage.access import DbAccess
from bot.storage.rows import match_values, stored_items
from bot.storage.tables import item_topics, items, sources

log = logging.getLogger(__name__)

# The shape of `bot.storage.items.FlaggedHook` (that module is a sibling layer, so not imported here).
FlaggedHook = Callable[[AsyncConnection, Sequence[StoredItem], datetime], Awaitable[None]]


class OpsStore:
    """Reads stored items for rematching and writes the matches it finds."""

    def __init__(
        self, db: AsyncEngine | DbAccess, *, on_flagged: Sequence[FlaggedHook] = ()
    ) -> None:
        self._db = DbAccess.of(db)
        self._on_flagged = tuple(on_flagged)

    async def last_news(self, source_id: str, before: datetime) -> datetime | None:
        """When the source last gave a new item before `before` (its newest item's first sight),
        else when it was added; None for a source the database does not know."""
        # ORDER BY … DESC LIMIT 1 on the (source_id, first_seen) index: one seek in either database.
        newest = (
            select(items.c.first_seen)
            .where(items.c.source_id == source_id, items.c.first_seen < before)
            .order_by(items.c.first_seen.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = select(newest.label("newest"), sources.c.created).where(sources.c.id == source_id)
        async with self._db.read(f"reading the newest item of {source_id}") as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        when: datetime = row.newest if row.newest is not None else row.created
        return when

    async def recent(self, since: datetime, *, limit: int = 20_000) -> list[StoredItem]:
        """Items published since `since`, newest first, with the topics they already matched."""
        query = (
            select(items, sources.c.name.label("source_name"))
            .join(sources, sources.c.id == items.c.source_id)
            .where(items.c.published >= since)
            .order_by(items.c.published.desc(), items.c.id.desc())
            .limit(limit)
        )
        async with self._db.read("reading recent items") as conn:
            rows = (await conn.execute(query)).all()
            ids = [r.id for r in rows]
            matches: list[Row[Any]] = []
            for start in range(0, len(ids), 500):  # bounded IN lists
                matches += (
                    await conn.execute(
                        select(item_topics).where(
                            item_topics.c.item_id.in_(ids[start : start + 500])
                        )
                    )
                ).all()
        return stored_items(rows, matches)

    async def add_matches(
        self, found: Sequence[StoredItem], *, now: datetime, announce: bool
    ) -> list[StoredItem]:
        """Store the matches of `found` not stored yet; the items that gained one (only those).

        With `announce`, the flagged hooks see the items that gained a match, carrying only
        the new matches, so an outbox fills for the chats of those topics alone.
        """
        added: list[StoredItem] = []
        async with self._db.write("storing rematched topics") as conn:
            for stored in found:
                gained = []
                for match in stored.matches:
                    stmt = (
                        self._db.insert(item_topics)
                        .values(match_values(stored.id, match, now))
                        .on_conflict_do_nothing(
                            index_elements=[item_topics.c.item_id, item_topics.c.topic_id]
                        )
                        .returning(item_topics.c.topic_id)
                    )
                    if (await conn.execute(stmt)).first() is not None:
                        gained.append(match)
                if gained:
                    added.append(
                        StoredItem(
                            id=stored.id,
                            item=stored.item,
                            source_name=stored.source_name,
                            first_seen=stored.first_seen,
                            matches=tuple(gained),
                            review_summary=stored.review_summary,
                        )
                    )
            if announce and added:
                # Oldest first, so that announcements read in the order things happened.
                ordered = sorted(added, key=lambda s: (s.item.published, s.id))
                for hook in self._on_flagged:
                    await hook(conn, ordered, now)
        return added
