"""The delivery outbox, filled and read: pending rows per (item, chat), in order.

`enqueue` is a `bot.storage.items.FlaggedHook`: it runs inside `Store.save_fetch`'s transaction
and adds one outbox row per (flagged item, active chat subscribed to one of its topics), so an
item is never stored without its deliveries: a "send" for a story's first report, an "edit" for
a later one when the chat already has (or will have) the story's message. UNIQUE(item_id,
chat_id) keeps a chat from getting an item twice. The delivery worker reads a chat's pending rows
in order here; it settles them through `bot.storage.outbox_sends.OutboxSends` (sends) and
`bot.storage.outbox_edits.OutboxEdits` (edits). SQLAlchemy rows and errors stay in this wing:
callers get `Outgoing` and `StoreError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, String, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import StoredItem
from bot.storage.access import DbAccess
from bot.storage.chat_tables import DROPPED, EDIT, PENDING, SEND, chats, outbox, subscriptions
from bot.storage.rows import item_from_row, match_from_row, review_summary
from bot.storage.search_tables import alert_hits
from bot.storage.story_tables import story_items
from bot.storage.tables import UTCDateTime, item_topics, items, sources


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A pending outbox row with what is needed to send it."""

    outbox_id: int
    chat_id: int
    thread_id: int | None
    item: StoredItem  # matches limited to the chat's topics (all of them if none overlap)
    attempts: int
    kind: str = SEND  # SEND: a new message; EDIT: add the item to its story's message
    story_id: int | None = None
    feedback: bool | None = None  # the chat's stored feedback flag (None: the default)


class Outbox:
    """Fills the outbox (`enqueue`) and reads its pending rows, through the shared access."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def enqueue(
        self, conn: AsyncConnection, flagged: Sequence[StoredItem], now: datetime
    ) -> None:
        """A FlaggedHook: one pending row per (item, active chat subscribed to its topics);
        chats in "digest" mode get the daily review instead."""
        found = await conn.execute(
            select(story_items.c.item_id, story_items.c.story_id).where(
                story_items.c.item_id.in_([s.id for s in flagged])
            )
        )
        stories: dict[int, int] = {item_id: story_id for item_id, story_id in found.all()}
        for stored in flagged:
            if not stored.topics:
                continue
            wanted = exists().where(
                subscriptions.c.chat_id == chats.c.chat_id,
                subscriptions.c.topic_id.in_(list(stored.topics)),
            )
            story = stories.get(stored.id)
            # A chat that has (or will have) a message for the story gets an edit instead.
            posted_rows = outbox.alias("posted")
            posted = exists().where(
                posted_rows.c.chat_id == chats.c.chat_id,
                posted_rows.c.story_id == story,
                posted_rows.c.kind == SEND,
                posted_rows.c.status != DROPPED,
            )
            later = story is not None and story != stored.id
            for kind, which in ((SEND, ~posted), (EDIT, posted)) if later else ((SEND, None),):
                rows = select(
                    literal(stored.id, Integer),
                    chats.c.chat_id,
                    literal(PENDING, String),
                    literal(0, Integer),
                    literal(now, UTCDateTime),
                    literal(now, UTCDateTime),
                    literal(kind, String),
                    literal(story, Integer),
                ).where(chats.c.active.is_(True), chats.c.mode != "digest", wanted)
                if which is not None:
                    rows = rows.where(which)
                names = ["item_id", "chat_id", "status", "attempts", "created", "updated"]
                stmt = self._db.insert(outbox).from_select([*names, "kind", "story_id"], rows)
                await conn.execute(stmt.on_conflict_do_nothing())

    async def pending_chats(self) -> list[int]:
        """Active chats with at least one pending row."""
        query = (
            select(outbox.c.chat_id)
            .join(chats, chats.c.chat_id == outbox.c.chat_id)
            .where(outbox.c.status == PENDING, chats.c.active.is_(True))
            .distinct()
            .order_by(outbox.c.chat_id)
        )
        async with self._db.read("reading the chats with pending messages") as conn:
            return list((await conn.scalars(query)).all())

    async def pending_count(self, chat_id: int | None = None) -> int:
        """Rows waiting to be sent (to one chat, or to all)."""
        query = select(func.count()).select_from(outbox).where(outbox.c.status == PENDING)
        if chat_id is not None:
            query = query.where(outbox.c.chat_id == chat_id)
        async with self._db.read("counting pending messages") as conn:
            return int(await conn.scalar(query) or 0)

    async def next_pending(self, chat_id: int, *, limit: int = 20) -> list[Outgoing]:
        """The chat's oldest pending rows, in the order they were enqueued."""
        where = (outbox.c.chat_id == chat_id,)
        return await self._outgoing(where, limit, f"reading pending messages of chat {chat_id}")

    async def first_pending(self, chat_ids: Sequence[int]) -> dict[int, Outgoing]:
        """The oldest pending row of each of `chat_ids` that has one (one round trip for many)."""
        if not chat_ids:
            return {}
        firsts = (
            select(func.min(outbox.c.id))
            .where(outbox.c.status == PENDING, outbox.c.chat_id.in_(list(chat_ids)))
            .group_by(outbox.c.chat_id)
        )
        rows = await self._outgoing(
            (outbox.c.id.in_(firsts),), None, f"reading pending messages of {len(chat_ids)} chats"
        )
        return {row.chat_id: row for row in rows}

    async def _outgoing(
        self, where: tuple[Any, ...], limit: int | None, action: str
    ) -> list[Outgoing]:
        query = (
            select(
                outbox.c.id.label("outbox_id"),
                outbox.c.chat_id,
                outbox.c.attempts,
                outbox.c.kind,
                outbox.c.story_id,
                chats.c.thread_id,
                chats.c.feedback,
                items,
                sources.c.name.label("source_name"),
            )
            .join(chats, chats.c.chat_id == outbox.c.chat_id)
            .join(items, items.c.id == outbox.c.item_id)
            .join(sources, sources.c.id == items.c.source_id)
            .where(outbox.c.status == PENDING, chats.c.active.is_(True), *where)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        async with self._db.read(action) as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                return []
            matches = (
                await conn.execute(
                    select(item_topics)
                    .where(item_topics.c.item_id.in_(sorted({r.id for r in rows})))
                    .order_by(item_topics.c.topic_id)
                )
            ).all()
            subs = (
                await conn.execute(
                    select(subscriptions.c.chat_id, subscriptions.c.topic_id).where(
                        subscriptions.c.chat_id.in_(sorted({r.chat_id for r in rows}))
                    )
                )
            ).all()
            alerted = await _alerts_noted(conn, rows)
        by_item: dict[int, list[Row[Any]]] = {}
        for m in matches:
            by_item.setdefault(m.item_id, []).append(m)
        topics: dict[int, set[str]] = {}
        for chat_id, topic_id in subs:
            topics.setdefault(chat_id, set()).add(topic_id)
        out = []
        for r in rows:
            found = by_item.get(r.id, [])
            chosen = [m for m in found if m.topic_id in topics.get(r.chat_id, ())] or found
            stored = StoredItem(
                id=r.id,
                item=item_from_row(r),
                source_name=r.source_name,
                first_seen=r.first_seen,
                matches=tuple(match_from_row(m) for m in chosen),
                review_summary=review_summary(r),
                alerts=alerted.get((r.id, r.chat_id), ()),
            )
            out.append(
                Outgoing(
                    r.outbox_id,
                    r.chat_id,
                    r.thread_id,
                    stored,
                    r.attempts,
                    r.kind,
                    r.story_id,
                    r.feedback,
                )
            )
        return out


async def _alerts_noted(
    conn: AsyncConnection, rows: Sequence[Row[Any]]
) -> dict[tuple[int, int], tuple[str, ...]]:
    """Which personal alerts matched each (item, chat) of `rows`: its message says so."""
    noted = (
        await conn.execute(
            select(alert_hits).where(
                alert_hits.c.item_id.in_(sorted({r.id for r in rows})),
                alert_hits.c.chat_id.in_(sorted({r.chat_id for r in rows})),
            )
        )
    ).all()
    return {(n.item_id, n.chat_id): tuple(n.queries.splitlines()) for n in noted}
