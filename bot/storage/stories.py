"""Stories in the database: each flagged item's story, assigned as it is stored; stories read back.

`StoryStore.assign` is a `bot.storage.items.FlaggedHook`: it runs inside `Store.save_fetch`'s
transaction, before the outbox is filled, so the outbox can tell a story's first report (a new
message) from a later one. The grouping itself is the injected `Grouping` (`bot.review.stories
.Grouper` in the bot), which keeps its index in memory: before each assignment the store feeds
it the rows other processes (or an earlier run) assigned since it last looked, so every process
groups against the same stories. SQLAlchemy rows stay here: callers get `Story` records.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import StoredItem, Story
from bot.storage.access import DbAccess
from bot.storage.rows import stored_items
from bot.storage.story_tables import story_items
from bot.storage.tables import item_topics, items, sources

log = logging.getLogger(__name__)


class Grouping(Protocol):
    """What the store needs of the grouping (`bot.review.stories.Grouper`)."""

    def add(
        self,
        key: Hashable,
        *,
        title: str,
        summary: str,
        published: datetime,
        url: str | None = None,
        lang: str | None = None,
        story: Hashable | None = None,
    ) -> Hashable:
        """Index a report; its story (given `story`, index it under that one)."""
        ...


class StoryStore:
    """Assigns stories to flagged items and reads stories back, through an injected engine."""

    def __init__(
        self, db: AsyncEngine | DbAccess, grouping: Grouping, *, window: timedelta
    ) -> None:
        self._db = DbAccess.of(db)
        self._grouping = grouping
        self._window = window
        self._seen = 0  # highest item id fed to the grouping
        # Built once and executed for many rows: compiled once, not per assignment.
        self._link = self._db.insert(story_items).on_conflict_do_nothing()

    async def assign(
        self, conn: AsyncConnection, flagged: Sequence[StoredItem], now: datetime
    ) -> None:
        """A FlaggedHook: give each flagged item its story (oldest first, as `flagged` is)."""
        if not flagged:
            return
        await self._catch_up(conn, now)
        rows = []
        for stored in flagged:
            item = stored.item
            story = self._grouping.add(
                stored.id,
                title=item.title,
                summary=item.summary,
                published=item.published,
                url=item.url,
                lang=item.language,
            )
            rows.append({"item_id": stored.id, "story_id": int(story), "assigned": now})  # type: ignore[call-overload]
            self._seen = max(self._seen, stored.id)
        await conn.execute(self._link, rows)

    async def _catch_up(self, conn: AsyncConnection, now: datetime) -> None:
        """Feed the grouping what was assigned since it last looked (other processes, a restart)."""
        query = (
            select(items, story_items.c.story_id)
            .join(story_items, story_items.c.item_id == items.c.id)
            .where(items.c.id > self._seen, items.c.published >= now - 2 * self._window)
            .order_by(items.c.published, items.c.id)
        )
        rows = (await conn.execute(query)).all()
        for r in rows:
            self._grouping.add(
                r.id,
                title=r.title,
                summary=r.summary,
                published=r.published,
                url=r.url,
                lang=r.language,
                story=r.story_id,
            )
            self._seen = max(self._seen, r.id)
        if rows:
            log.debug("stories: %d assigned reports loaded", len(rows))

    async def stories(
        self,
        *,
        limit: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        topics: Sequence[str] | None = None,
    ) -> list[Story]:
        """Stories of flagged items (of `topics`), newest report first; `limit` stories.

        A story counts when one of its reports was published in [since, until); it then comes
        with every report of it that matched `topics`. Items stored before stories existed are
        each a story of their own.
        """
        if (limit is not None and limit <= 0) or (topics is not None and not topics):
            return []
        flagged = select(item_topics.c.item_id)
        if topics is not None:
            flagged = flagged.where(item_topics.c.topic_id.in_(list(topics)))
        story = func.coalesce(story_items.c.story_id, items.c.id)
        window: list[Any] = [items.c.id.in_(flagged)]
        if since is not None:
            window.append(items.c.published >= since)
        if until is not None:
            window.append(items.c.published < until)
        newest: Select[Any] = (
            select(story.label("story"), func.max(items.c.published).label("latest"))
            .select_from(items.outerjoin(story_items, story_items.c.item_id == items.c.id))
            .where(*window)
            .group_by(story)
            .order_by(func.max(items.c.published).desc(), story.desc())
            .limit(limit)
        )
        async with self._db.read("reading stories") as conn:
            chosen = [row.story for row in (await conn.execute(newest)).all()]
            if not chosen:
                return []
            reports = (
                select(items, sources.c.name.label("source_name"), story.label("story"))
                .select_from(
                    items.outerjoin(story_items, story_items.c.item_id == items.c.id).join(
                        sources, sources.c.id == items.c.source_id
                    )
                )
                .where(story.in_(chosen), items.c.id.in_(flagged))
                .order_by(items.c.published, items.c.id)
            )
            rows = (await conn.execute(reports)).all()
            found = select(item_topics).where(item_topics.c.item_id.in_([r.id for r in rows]))
            if topics is not None:
                found = found.where(item_topics.c.topic_id.in_(list(topics)))
            match_rows = (await conn.execute(found.order_by(item_topics.c.topic_id))).all()
        by_story: dict[int, list[StoredItem]] = {}
        for row, stored in zip(rows, stored_items(rows, match_rows), strict=True):
            by_story.setdefault(row.story, []).append(stored)
        return [Story(id=s, reports=tuple(by_story[s])) for s in chosen if s in by_story]
