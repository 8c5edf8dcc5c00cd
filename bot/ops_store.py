"""Store-side queries of the operator features: rematching stored items, and each source's newest item.

Same edge as `bot.store` (SQLAlchemy async; rows and errors stay here, callers get `StoredItem` and
`StoreError`). `add_matches` inserts topic matches found after the fact (`/rematch`) and, when the
operator asked for an announcement, runs the flagged hooks (the chat store's outbox `enqueue`)
with just the newly matched items inside the same transaction, as `Store.save_fetch` does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.database import WRITE_OPTIONS, describe_error
from bot.errors import StoreError
from bot.models import Item, StoredItem, TermHit, TopicMatch
from bot.schema import item_topics, items, sources

log = logging.getLogger(__name__)

# The shape of `bot.store.FlaggedHook` (that module is a sibling layer, so not imported here).
FlaggedHook = Callable[[AsyncConnection, Sequence[StoredItem], datetime], Awaitable[None]]


class OpsStore:
    """Reads stored items for rematching and writes the matches it finds."""

    def __init__(self, engine: AsyncEngine, *, on_flagged: Sequence[FlaggedHook] = ()) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**WRITE_OPTIONS)
        self._on_flagged = tuple(on_flagged)
        # Queue our own SQLite writers rather than spin on busy_timeout (as the other stores do).
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    async def newest_items(self) -> dict[str, datetime]:
        """Source id → when its newest stored item was first seen."""
        query = select(items.c.source_id, func.max(items.c.first_seen)).group_by(items.c.source_id)
        async with self._read("reading the newest item of each source") as conn:
            rows = (await conn.execute(query)).all()
        # func.max keeps the column's type, so UTCDateTime gives back aware datetimes.
        return {source_id: when for source_id, when in rows if when is not None}

    async def recent(self, since: datetime, *, limit: int = 20_000) -> list[StoredItem]:
        """Items published since `since`, newest first, with the topics they already matched."""
        query = (
            select(items, sources.c.name.label("source_name"))
            .join(sources, sources.c.id == items.c.source_id)
            .where(items.c.published >= since)
            .order_by(items.c.published.desc(), items.c.id.desc())
            .limit(limit)
        )
        async with self._read("reading recent items") as conn:
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
        by_item: dict[int, list[TopicMatch]] = {}
        for m in matches:
            by_item.setdefault(m.item_id, []).append(_match(m))
        return [
            StoredItem(
                id=r.id,
                item=_item(r),
                source_name=r.source_name,
                first_seen=r.first_seen,
                matches=tuple(sorted(by_item.get(r.id, []), key=lambda m: m.topic_id)),
            )
            for r in rows
        ]

    async def add_matches(
        self, found: Sequence[StoredItem], *, now: datetime, announce: bool
    ) -> list[StoredItem]:
        """Store the matches of `found` not stored yet; the items that gained one (only those).

        With `announce`, the flagged hooks see the items that gained a match, carrying only
        the new matches, so an outbox fills for the chats of those topics alone.
        """
        added: list[StoredItem] = []
        async with self._write("storing rematched topics") as conn:
            for stored in found:
                gained = []
                for match in stored.matches:
                    stmt = (
                        self._insert(item_topics)
                        .values(_match_row(stored.id, match, now))
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
                        )
                    )
            if announce and added:
                # Oldest first, so that announcements read in the order things happened.
                ordered = sorted(added, key=lambda s: (s.item.published, s.id))
                for hook in self._on_flagged:
                    await hook(conn, ordered, now)
        return added

    def _insert(self, table: Any) -> Any:
        # Both dialects' inserts offer on_conflict_do_*; typed Any as their classes are unrelated.
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    @asynccontextmanager
    async def _write(self, action: str) -> AsyncIterator[AsyncConnection]:
        async with AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            stack.enter_context(self._errors(action))  # entered first: also sees the COMMIT fail
            yield await stack.enter_async_context(self._writer.begin())

    @asynccontextmanager
    async def _read(self, action: str) -> AsyncIterator[AsyncConnection]:
        with self._errors(action):
            async with self._engine.connect() as conn:
                yield conn

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate SQLAlchemy's and the driver's errors into StoreError, once, here."""
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{action}: {describe_error(exc, self._engine.url)}") from exc


# The same row ↔ record mapping as bot.store's (whose helpers are private to it).
def _item(row: Row[Any]) -> Item:
    return Item(
        source_id=row.source_id,
        key=row.key,
        url=row.url,
        title=row.title,
        summary=row.summary,
        published=row.published,
        language=row.language,
        guid=row.guid,
    )


def _match(row: Row[Any]) -> TopicMatch:
    hits = (row.explanation or {}).get("hits", [])
    return TopicMatch(
        topic_id=row.topic_id,
        hits=tuple(
            TermHit(
                group=h.get("group", ""),
                term=h.get("term", ""),
                field=h.get("field", ""),
                text=h.get("text", ""),
            )
            for h in hits
        ),
    )


def _match_row(item_id: int, match: TopicMatch, now: datetime) -> dict[str, Any]:
    hits = [
        {"group": h.group, "term": h.term, "field": h.field, "text": h.text} for h in match.hits
    ]
    return {
        "item_id": item_id,
        "topic_id": match.topic_id,
        "explanation": {"hits": hits},
        "matched_at": now,
    }
