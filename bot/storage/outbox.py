"""The delivery outbox: pending rows per (item, chat), read in order and marked sent or dropped.

Same edge as `bot.storage.items` (SQLAlchemy async; rows and errors stay here, callers get `Outgoing` and
`StoreError`). `enqueue` is a `bot.storage.items.FlaggedHook`: it runs inside `Store.save_fetch`'s
transaction and adds one outbox row per (flagged item, active chat subscribed to one of its
topics), so an item is never stored without its deliveries. The delivery worker then reads a
chat's pending rows in order and marks each one sent, retried or dropped. UNIQUE(item_id, chat_id)
keeps a chat from getting an item twice. With several processes, a sender `claim`s rows before
sending them (claimed_by / claim_expires, migration 0006): one sender per row, and an expired
claim is taken over. The queries of a story's edit (`edit_target`, `mark_edited`, `drop_rows`)
live in `bot.storage.outbox_edits`, a mixin of `OutboxStore`. `bot.storage.chats.ChatStore`
extends `OutboxStore` with chats and subscriptions, so callers keep using one store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    String,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import StoreError
from bot.models import StoredItem
from bot.storage.access import DbAccess
from bot.storage.chat_tables import (
    DROPPED,
    EDIT,
    PENDING,
    SEND,
    SENT,
    chats,
    outbox,
    subscriptions,
)
from bot.storage.outbox_edits import MAX_ERROR, EditTarget, OutboxEdits
from bot.storage.rows import item_from_row, match_from_row, review_summary
from bot.storage.story_tables import story_items
from bot.storage.tables import UTCDateTime, item_topics, items, sources

# MAX_ERROR and EditTarget live in bot.storage.outbox_edits; importable from here as before.
__all__ = ["MAX_ERROR", "EditTarget", "OutboxStore", "Outgoing"]


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


@dataclass(slots=True)
class _Mark:
    """One mark_sent call in a group commit, and its outcome."""

    outbox_id: int
    message_id: int | None
    now: datetime
    done: bool = False
    more: bool = False
    error: StoreError | None = None


class OutboxStore(OutboxEdits):
    """Fills, reads and settles the outbox through an injected engine."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)
        self._marks: list[_Mark] = []  # mark_sent calls waiting for the next group commit
        self._mark_lock = asyncio.Lock()

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

    async def mark_sent(self, outbox_id: int, *, message_id: int | None, now: datetime) -> bool:
        """Telegram accepted the message: the row is done, the chat's failure run ends.

        Returns whether the chat has more pending rows. Concurrent calls are committed together
        (group commit): each caller still returns only once its own row is committed.
        """
        mark = _Mark(outbox_id, message_id, now)
        self._marks.append(mark)
        async with self._mark_lock:
            if not mark.done:
                batch, self._marks = self._marks, []
                try:
                    more = await self._mark_batch(batch)
                except BaseException as exc:
                    error = exc if isinstance(exc, StoreError) else StoreError(repr(exc))
                    for other in batch:
                        other.done, other.error = True, error
                    raise
                for other in batch:
                    other.done, other.more = True, more.get(other.outbox_id, False)
        if mark.error is not None:
            raise mark.error
        return mark.more

    async def _mark_batch(self, batch: list[_Mark]) -> dict[int, bool]:
        ids = [m.outbox_id for m in batch]
        async with self._db.write(f"marking {len(batch)} message(s) sent") as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == bindparam("b_id"))
                .values(
                    status=SENT,
                    message_id=bindparam("b_message"),
                    last_error=None,
                    updated=bindparam("b_now"),
                ),
                [{"b_id": m.outbox_id, "b_message": m.message_id, "b_now": m.now} for m in batch],
            )
            found = await conn.execute(
                select(outbox.c.id, outbox.c.chat_id).where(outbox.c.id.in_(ids))
            )
            owners: dict[int, int] = {oid: chat_id for oid, chat_id in found.all()}
            chat_ids = sorted(set(owners.values()))
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id.in_(chat_ids), chats.c.failures > 0)
                .values(failures=0, first_failure=None, last_error=None, updated=batch[-1].now)
            )
            busy = set(
                (
                    await conn.scalars(
                        select(outbox.c.chat_id)
                        .where(outbox.c.chat_id.in_(chat_ids), outbox.c.status == PENDING)
                        .distinct()
                    )
                ).all()
            )
        return {oid: owners.get(oid) in busy for oid in ids}

    async def claim(
        self, outbox_ids: Sequence[int], holder: str, *, now: datetime, ttl: float
    ) -> set[int]:
        """Claim pending rows for `holder` for `ttl` seconds; the ids it now holds.

        A row is free when unclaimed, when its claim expired (its sender died: the row is taken
        over, so at most the messages in flight then repeat) or when `holder` already has it.
        Rows of every kind are claimed alike; one sender per row whatever the processes.
        """
        if not outbox_ids:
            return set()
        free = or_(
            outbox.c.claim_expires.is_(None),
            outbox.c.claim_expires <= now,
            outbox.c.claimed_by == holder,
        )
        # Locked in id order, skipping rows another sender is claiming this instant: two
        # processes taking over a dead sender's rows at once otherwise lock them in different
        # orders and PostgreSQL ends one with "deadlock detected". (SQLite, one writer at a
        # time, renders no FOR UPDATE.)
        claimable = (
            select(outbox.c.id)
            .where(outbox.c.id.in_(list(outbox_ids)), outbox.c.status == PENDING, free)
            .order_by(outbox.c.id)
            .with_for_update(skip_locked=True)
        )
        async with self._db.write(f"claiming {len(outbox_ids)} message(s)") as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(claimable.scalar_subquery()))
                .values(claimed_by=holder, claim_expires=now + timedelta(seconds=ttl))
                .returning(outbox.c.id)
            )
            return set(result.scalars().all())

    async def release_claims(self, holder: str) -> int:
        """Drop the claims `holder` still has on pending rows (a clean stop); how many."""
        async with self._db.write("releasing message claims") as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.claimed_by == holder, outbox.c.status == PENDING)
                .values(claimed_by=None, claim_expires=None)
                .returning(outbox.c.id)
            )
            return len(result.all())

    async def record_attempt(self, outbox_id: int, *, error: str, now: datetime) -> None:
        """A failed attempt that will be retried: count it and keep the reason."""
        async with self._db.write(f"recording a failed attempt of message {outbox_id}") as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(attempts=outbox.c.attempts + 1, last_error=error[:MAX_ERROR], updated=now)
            )

    async def drop(self, outbox_id: int, *, reason: str, now: datetime) -> None:
        """Give up on one row (Telegram refused the message for good)."""
        async with self._db.write(f"dropping message {outbox_id}") as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.status == PENDING)
                .values(
                    status=DROPPED,
                    attempts=outbox.c.attempts + 1,
                    last_error=reason[:MAX_ERROR],
                    updated=now,
                )
            )
