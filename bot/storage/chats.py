"""Chats and their topic subscriptions (SQLAlchemy async, same edge as store).

`ChatStore` serves the commands: subscribe, unsubscribe, /mode, and a group's move to a
supergroup (`migrate_chat`, which the delivery worker calls too). The delivery side's failure
bookkeeping is `bot.storage.chat_failures.ChatFailures`, the daily review's claims
`bot.storage.review_claims.ReviewClaims`, the outbox `bot.storage.outbox`. SQLAlchemy rows and
errors stay here: callers get `Chat` and `StoreError`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.chat_tables import DROPPED, PENDING, chats, outbox, subscriptions
from bot.storage.tables import item_topics

log = logging.getLogger(__name__)

KINDS = ("private", "group", "supergroup", "channel")
MODES = ("instant", "digest", "both")  # single messages, the daily review, or both


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
    mode: str = "instant"  # see MODES


class ChatStore:
    """Reads and writes chats, their subscriptions and modes, through the shared access."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

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
            if not await _topics(conn, chat_id):
                await conn.execute(
                    update(chats).where(chats.c.chat_id == chat_id).values(active=False)
                )
            found = await read_chat(conn, chat_id)
        assert found is not None  # noqa: S101  (just written in this transaction)
        return found

    async def unsubscribe(
        self, chat_id: int, *, topics: Sequence[str] | None, now: datetime
    ) -> Chat | None:
        """Remove `topics` (None: all); pending rows no longer wanted are dropped; None if unknown."""
        async with self._db.write(f"unsubscribing chat {chat_id}") as conn:
            if await read_chat(conn, chat_id) is None:
                return None
            removing = delete(subscriptions).where(subscriptions.c.chat_id == chat_id)
            if topics is not None:
                removing = removing.where(subscriptions.c.topic_id.in_(list(topics)))
            await conn.execute(removing)
            left = await _topics(conn, chat_id)
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
            return await read_chat(conn, chat_id)

    async def chat(self, chat_id: int) -> Chat | None:
        """The chat, or None if it never subscribed."""
        async with self._db.read(f"reading chat {chat_id}") as conn:
            return await read_chat(conn, chat_id)

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
            old = await read_chat(conn, old_id)
            if old is None:
                return
            new = await read_chat(conn, new_id)
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

    async def set_mode(self, chat_id: int, mode: str, *, now: datetime) -> Chat | None:
        """Instant messages, the daily review, or both; None when the chat is unknown.

        Switching to "digest" drops the chat's pending instant messages (the review covers them).
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        async with self._db.write(f"setting the mode of chat {chat_id}") as conn:
            await conn.execute(
                update(chats).where(chats.c.chat_id == chat_id).values(mode=mode, updated=now)
            )
            if mode == "digest":
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.chat_id == chat_id, outbox.c.status == PENDING)
                    .values(status=DROPPED, last_error="digest mode", updated=now)
                )
            return await read_chat(conn, chat_id)


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
        mode=row.mode,
    )


async def read_chat(conn: AsyncConnection, chat_id: int) -> Chat | None:
    """The chat as `conn` sees it (inside the caller's transaction), or None."""
    row = (await conn.execute(select(chats).where(chats.c.chat_id == chat_id))).first()
    return None if row is None else _chat(row, await _topics(conn, chat_id))


async def _topics(conn: AsyncConnection, chat_id: int) -> list[str]:
    query = (
        select(subscriptions.c.topic_id)
        .where(subscriptions.c.chat_id == chat_id)
        .order_by(subscriptions.c.topic_id)
    )
    return list((await conn.scalars(query)).all())
