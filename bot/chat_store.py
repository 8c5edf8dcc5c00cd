"""Chats, their topic subscriptions and the delivery outbox (SQLAlchemy async, same edge as store).

`enqueue` is a `bot.store.FlaggedHook`: it runs inside `Store.save_fetch`'s transaction and adds
one outbox row per (flagged item, active chat subscribed to one of its topics), so an item is
never stored without its deliveries. The delivery worker then reads a chat's pending rows in
order and marks each one sent, retried or dropped. UNIQUE(item_id, chat_id) keeps a chat from
getting an item twice. SQLAlchemy rows and errors stay here: callers get `Chat`, `Outgoing` and
`StoreError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    String,
    bindparam,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.chat_schema import DROPPED, PENDING, SENT, chats, outbox, subscriptions
from bot.db_access import DbAccess
from bot.errors import StoreError
from bot.models import StoredItem
from bot.rows import item_from_row, match_from_row
from bot.schema import UTCDateTime, item_topics, items, sources

log = logging.getLogger(__name__)

KINDS = ("private", "group", "supergroup", "channel")
_MAX_ERROR = 1000  # characters of a failure reason kept


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat the bot delivers to, with its subscribed topics."""

    chat_id: int
    kind: str  # "private" | "group" | "supergroup" | "channel"
    title: str | None
    active: bool  # False after /stop of every topic, or deactivated (blocked, gone)
    topics: tuple[str, ...]  # subscribed topic ids, sorted
    thread_id: int | None  # forum topic the subscription was made in (None: main chat)
    failures: int  # consecutive delivery failures of the "chat unavailable" kind
    last_error: str | None
    added_by: int | None = None  # Telegram user who subscribed / operator who added a channel
    first_failure: datetime | None = None  # when the current run of failures began


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A pending outbox row with what is needed to send it."""

    outbox_id: int
    chat_id: int
    thread_id: int | None
    item: StoredItem  # matches limited to the chat's topics (all of them if none overlap)
    attempts: int


@dataclass(slots=True)
class _Mark:
    """One mark_sent call in a group commit, and its outcome."""

    outbox_id: int
    message_id: int | None
    now: datetime
    done: bool = False
    more: bool = False
    error: StoreError | None = None


class ChatStore:
    """Reads and writes chats, subscriptions and the outbox through an injected engine."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)
        self._marks: list[_Mark] = []  # mark_sent calls waiting for the next group commit
        self._mark_lock = asyncio.Lock()

    # --- subscriptions -------------------------------------------------------------------------

    async def subscribe(
        self,
        chat_id: int,
        *,
        kind: str,
        title: str | None,
        topics: Sequence[str],
        thread_id: int | None,
        now: datetime,
        added_by: int | None = None,
    ) -> Chat:
        """Add `topics` (idempotent), (re)activate the chat, remember its thread, reset failures."""
        if kind not in KINDS:
            raise ValueError(f"unknown chat kind {kind!r}")
        async with self._db.write(f"subscribing chat {chat_id}") as conn:
            values = {
                "kind": kind,
                "title": title,
                "active": True,
                "thread_id": thread_id,
                "failures": 0,
                "first_failure": None,
                "last_error": None,
                "updated": now,
            }
            stmt = self._db.insert(chats).values(
                chat_id=chat_id, added_by=added_by, created=now, **values
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[chats.c.chat_id],
                    set_={
                        **values,
                        "added_by": func.coalesce(stmt.excluded.added_by, chats.c.added_by),
                    },
                )
            )
            if topics:
                rows = [{"chat_id": chat_id, "topic_id": t, "created": now} for t in set(topics)]
                await conn.execute(
                    self._db.insert(subscriptions).values(rows).on_conflict_do_nothing()
                )
            if not await self._topics(conn, chat_id):
                await conn.execute(
                    update(chats).where(chats.c.chat_id == chat_id).values(active=False)
                )
            found = await self._chat(conn, chat_id)
        assert found is not None  # noqa: S101  (just written in this transaction)
        return found

    async def unsubscribe(
        self, chat_id: int, *, topics: Sequence[str] | None, now: datetime
    ) -> Chat | None:
        """Remove `topics` (None: all); pending rows no longer wanted are dropped; None if unknown."""
        async with self._db.write(f"unsubscribing chat {chat_id}") as conn:
            if await self._chat(conn, chat_id) is None:
                return None
            removing = delete(subscriptions).where(subscriptions.c.chat_id == chat_id)
            if topics is not None:
                removing = removing.where(subscriptions.c.topic_id.in_(list(topics)))
            await conn.execute(removing)
            left = await self._topics(conn, chat_id)
            pending = (outbox.c.chat_id == chat_id) & (outbox.c.status == PENDING)
            if not left:
                await conn.execute(
                    update(chats)
                    .where(chats.c.chat_id == chat_id)
                    .values(active=False, updated=now)
                )
            else:
                wanted = exists().where(
                    item_topics.c.item_id == outbox.c.item_id, item_topics.c.topic_id.in_(left)
                )
                pending = pending & ~wanted
            await conn.execute(
                update(outbox)
                .where(pending)
                .values(status=DROPPED, last_error="unsubscribed", updated=now)
            )
            return await self._chat(conn, chat_id)

    async def chat(self, chat_id: int) -> Chat | None:
        """The chat, or None if it never subscribed."""
        async with self._db.read(f"reading chat {chat_id}") as conn:
            return await self._chat(conn, chat_id)

    async def chats(self, *, active_only: bool = True) -> list[Chat]:
        """Every chat (only the active ones by default), by id."""
        query = select(chats).order_by(chats.c.chat_id)
        if active_only:
            query = query.where(chats.c.active.is_(True))
        async with self._db.read("reading chats") as conn:
            rows = (await conn.execute(query)).all()
            subs = (
                await conn.execute(
                    select(subscriptions.c.chat_id, subscriptions.c.topic_id).order_by(
                        subscriptions.c.topic_id
                    )
                )
            ).all()
        by_chat: dict[int, list[str]] = {}
        for chat_id, topic_id in subs:
            by_chat.setdefault(chat_id, []).append(topic_id)
        return [_chat(row, by_chat.get(row.chat_id, [])) for row in rows]

    async def migrate_chat(self, old_id: int, new_id: int, *, now: datetime) -> None:
        """Group → supergroup: subscriptions and outbox rows move to `new_id` (merged if known)."""
        if old_id == new_id:
            return
        async with self._db.write(f"migrating chat {old_id} to {new_id}") as conn:
            old = await self._chat(conn, old_id)
            if old is None:
                return
            new = await self._chat(conn, new_id)
            if new is None:
                await conn.execute(
                    chats.insert().values(
                        chat_id=new_id,
                        kind="supergroup",
                        title=old.title,
                        active=old.active,
                        thread_id=None,
                        added_by=old.added_by,
                        failures=0,
                        created=now,
                        updated=now,
                    )
                )
            elif old.active and not new.active:
                await conn.execute(
                    update(chats)
                    .where(chats.c.chat_id == new_id)
                    .values(active=True, failures=0, first_failure=None, updated=now)
                )
            if old.topics:
                rows = [{"chat_id": new_id, "topic_id": t, "created": now} for t in old.topics]
                await conn.execute(
                    self._db.insert(subscriptions).values(rows).on_conflict_do_nothing()
                )
            # Rows the new id already has for the same item win; the rest move over as they are.
            taken = select(outbox.c.item_id).where(outbox.c.chat_id == new_id)
            await conn.execute(
                delete(outbox).where(outbox.c.chat_id == old_id, outbox.c.item_id.in_(taken))
            )
            await conn.execute(
                update(outbox).where(outbox.c.chat_id == old_id).values(chat_id=new_id)
            )
            await conn.execute(delete(chats).where(chats.c.chat_id == old_id))
        log.info("chat %d migrated to %d", old_id, new_id)

    # --- the outbox ----------------------------------------------------------------------------

    async def enqueue(
        self, conn: AsyncConnection, flagged: Sequence[StoredItem], now: datetime
    ) -> None:
        """A FlaggedHook: one pending row per (item, active chat subscribed to its topics)."""
        for stored in flagged:
            if not stored.topics:
                continue
            wanted = exists().where(
                subscriptions.c.chat_id == chats.c.chat_id,
                subscriptions.c.topic_id.in_(list(stored.topics)),
            )
            rows = select(
                literal(stored.id, Integer),
                chats.c.chat_id,
                literal(PENDING, String),
                literal(0, Integer),
                literal(now, UTCDateTime),
                literal(now, UTCDateTime),
            ).where(chats.c.active.is_(True), wanted)
            names = ["item_id", "chat_id", "status", "attempts", "created", "updated"]
            stmt = self._db.insert(outbox).from_select(names, rows)
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
                chats.c.thread_id,
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
            )
            out.append(Outgoing(r.outbox_id, r.chat_id, r.thread_id, stored, r.attempts))
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

    async def record_attempt(self, outbox_id: int, *, error: str, now: datetime) -> None:
        """A failed attempt that will be retried: count it and keep the reason."""
        async with self._db.write(f"recording a failed attempt of message {outbox_id}") as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(attempts=outbox.c.attempts + 1, last_error=error[:_MAX_ERROR], updated=now)
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
                    last_error=reason[:_MAX_ERROR],
                    updated=now,
                )
            )

    async def record_unavailable(self, chat_id: int, *, error: str, now: datetime) -> Chat | None:
        """Count a "chat unavailable" failure (blocked, kicked, not found); the updated chat."""
        async with self._db.write(f"recording a failure of chat {chat_id}") as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id == chat_id)
                .values(
                    failures=chats.c.failures + 1,
                    first_failure=func.coalesce(chats.c.first_failure, literal(now, UTCDateTime)),
                    last_error=error[:_MAX_ERROR],
                    updated=now,
                )
            )
            return await self._chat(conn, chat_id)

    async def deactivate(self, chat_id: int, *, reason: str, now: datetime) -> None:
        """Stop delivering to a chat that is gone; its pending rows are dropped, topics kept."""
        async with self._db.write(f"deactivating chat {chat_id}") as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id == chat_id)
                .values(active=False, last_error=reason[:_MAX_ERROR], updated=now)
            )
            await conn.execute(
                update(outbox)
                .where(outbox.c.chat_id == chat_id, outbox.c.status == PENDING)
                .values(status=DROPPED, last_error=reason[:_MAX_ERROR], updated=now)
            )

    # --- helpers -------------------------------------------------------------------------------

    async def _chat(self, conn: AsyncConnection, chat_id: int) -> Chat | None:
        row = (await conn.execute(select(chats).where(chats.c.chat_id == chat_id))).first()
        return None if row is None else _chat(row, await self._topics(conn, chat_id))

    @staticmethod
    async def _topics(conn: AsyncConnection, chat_id: int) -> list[str]:
        query = (
            select(subscriptions.c.topic_id)
            .where(subscriptions.c.chat_id == chat_id)
            .order_by(subscriptions.c.topic_id)
        )
        return list((await conn.scalars(query)).all())


def _chat(row: Row[Any], topics: Sequence[str]) -> Chat:
    return Chat(
        chat_id=row.chat_id,
        kind=row.kind,
        title=row.title,
        active=row.active,
        topics=tuple(sorted(topics)),
        thread_id=row.thread_id,
        failures=row.failures,
        last_error=row.last_error,
        added_by=row.added_by,
        first_failure=row.first_failure,
    )
