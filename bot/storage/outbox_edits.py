"""Edits of a story's message: the outbox queries behind the delivery worker's edit path.

A later report of a story a chat already has a message for is enqueued as an EDIT row
(`bot.storage.outbox.Outbox.enqueue`). `OutboxEdits.edit_target` finds the message that was
posted for the story and the reports it should now name; `mark_edited` settles the edit's rows
once Telegram accepted it, and `drop_rows` gives them up when it refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import StoredItem
from bot.storage.access import DbAccess
from bot.storage.chat_tables import (
    DROPPED,
    EDIT,
    MAX_ERROR,
    PENDING,
    SEND,
    SENT,
    outbox,
    subscriptions,
)
from bot.storage.rows import item_from_row, match_from_row
from bot.storage.tables import item_topics, items, sources


@dataclass(frozen=True, slots=True)
class EditTarget:
    """A story's message in a chat, and the later reports it should name."""

    outbox_id: int  # the row that posted it
    message_id: int
    edited: datetime | None  # when it was last edited
    first: StoredItem  # the report it was posted for
    later: tuple[StoredItem, ...]  # reports to name under "Also:", in order
    pending: tuple[int, ...]  # outbox ids of the edit rows this edit settles


class OutboxEdits:
    """Reads a story's message for an edit and settles the edit's rows, through the shared access."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def edit_target(self, chat_id: int, story_id: int) -> EditTarget | None:
        """The chat's posted message of the story and the reports to add; None if none was posted."""
        mine = (outbox.c.chat_id == chat_id, outbox.c.story_id == story_id)
        anchor_query = (
            select(outbox.c.id, outbox.c.message_id, outbox.c.edited, outbox.c.item_id)
            .where(*mine, outbox.c.kind == SEND, outbox.c.status == SENT)
            .where(outbox.c.message_id.is_not(None))
            .order_by(outbox.c.id)
            .limit(1)
        )
        later_query = (
            select(outbox.c.id, outbox.c.item_id, outbox.c.status)
            .where(*mine, outbox.c.kind == EDIT, outbox.c.status.in_([PENDING, SENT]))
            .order_by(outbox.c.id)
        )
        async with self._db.read(f"reading the story message of chat {chat_id}") as conn:
            anchor = (await conn.execute(anchor_query)).first()
            if anchor is None:
                return None
            later = (await conn.execute(later_query)).all()
            ids = [anchor.item_id, *(r.item_id for r in later)]
            reports = await self._reports(conn, chat_id, ids)
        return EditTarget(
            outbox_id=anchor.id,
            message_id=anchor.message_id,
            edited=anchor.edited,
            first=reports[anchor.item_id],
            later=tuple(reports[r.item_id] for r in later if r.item_id in reports),
            pending=tuple(r.id for r in later if r.status == PENDING),
        )

    async def _reports(
        self, conn: AsyncConnection, chat_id: int, item_ids: Sequence[int]
    ) -> dict[int, StoredItem]:
        rows = (
            await conn.execute(
                select(items, sources.c.name.label("source_name"))
                .join(sources, sources.c.id == items.c.source_id)
                .where(items.c.id.in_(list(item_ids)))
            )
        ).all()
        found = (
            await conn.execute(
                select(item_topics)
                .where(item_topics.c.item_id.in_(list(item_ids)))
                .order_by(item_topics.c.topic_id)
            )
        ).all()
        subscribed = set(
            (
                await conn.scalars(
                    select(subscriptions.c.topic_id).where(subscriptions.c.chat_id == chat_id)
                )
            ).all()
        )
        out = {}
        for r in rows:
            matches = [m for m in found if m.item_id == r.id]
            chosen = [m for m in matches if m.topic_id in subscribed] or matches
            out[r.id] = StoredItem(
                id=r.id,
                item=item_from_row(r),
                source_name=r.source_name,
                first_seen=r.first_seen,
                matches=tuple(match_from_row(m) for m in chosen),
            )
        return out

    async def mark_edited(self, target: EditTarget, *, now: datetime) -> None:
        """The edit was accepted: its rows are sent, and the message's last edit is now."""
        async with self._db.write(f"marking message {target.message_id} edited") as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id == target.outbox_id).values(edited=now)
            )
            if target.pending:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(list(target.pending)), outbox.c.status == PENDING)
                    .values(status=SENT, message_id=target.message_id, updated=now)
                )

    async def drop_rows(self, outbox_ids: Sequence[int], *, reason: str, now: datetime) -> None:
        """Give up on several rows at once (an edit Telegram refused)."""
        async with self._db.write(f"dropping {len(outbox_ids)} message(s)") as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(outbox_ids)), outbox.c.status == PENDING)
                .values(status=DROPPED, last_error=reason[:MAX_ERROR], updated=now)
            )
