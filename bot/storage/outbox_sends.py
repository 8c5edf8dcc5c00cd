"""Settling the outbox's sends: claims between processes, sent, retried or dropped rows.

With several processes a sender `claim`s rows before sending them (claimed_by / claim_expires,
migration 0006): one sender per row, and an expired claim is taken over. `mark_sent` commits
concurrent calls together (group commit) and ends the chat's failure run; `record_attempt`
counts a failure that will be retried (sends and edits alike); `drop` gives a row up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import StoreError
from bot.storage.access import DbAccess
from bot.storage.chat_tables import DROPPED, MAX_ERROR, PENDING, SENT, chats, outbox


@dataclass(slots=True)
class _Mark:
    """One mark_sent call in a group commit, and its outcome."""

    outbox_id: int
    message_id: int | None
    now: datetime
    done: bool = False
    more: bool = False
    error: StoreError | None = None


class OutboxSends:
    """Claims and settles outbox rows through the shared access."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)
        self._marks: list[_Mark] = []  # mark_sent calls waiting for the next group commit
        self._mark_lock = asyncio.Lock()

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
