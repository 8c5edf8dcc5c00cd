"""The review outbox's store: a chat's review of a day claimed together with its messages, and
those messages claimed, marked sent, retried or dropped by their one sender.

`claim_and_enqueue` inserts the chat's `digests_sent` row (unique per chat and day) and, only if
this caller inserted it, the review's messages, in one transaction: the review is claimed once
whatever the processes, and once claimed it cannot be lost to a crash or an outage (the rows
wait until a sender delivers them). Rows are claimed like outbox rows (`claimed_by`,
`claim_expires`): one sender per row, a dead sender's rows taken over when the claim expires.
Same edge as the other stores: rows and driver errors stay here, callers get `ReviewMessage`s
and `StoreError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.chat_tables import DROPPED, PENDING, SENT, chats
from bot.storage.review_tables import review_outbox
from bot.storage.story_tables import digests_sent

MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class ReviewMessage:
    """One pending message of a chat's daily review."""

    id: int
    chat_id: int
    thread_id: int | None
    day: str
    part: int
    text: str
    attempts: int


class ReviewOutbox:
    """Fills, claims and settles the review outbox through an injected engine."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def claim_and_enqueue(
        self,
        chat_id: int,
        day: str,
        messages: Sequence[str],
        *,
        thread_id: int | None,
        now: datetime,
    ) -> bool:
        """Take the chat's review of `day` and queue its messages, in one transaction: True for
        the one caller, in any process, that took it; False for everyone else."""
        claim = (
            self._db.insert(digests_sent)
            .values(chat_id=chat_id, day=day, stories=len(messages), created=now)
            .on_conflict_do_nothing()
            .returning(digests_sent.c.chat_id)
        )
        rows = [
            {
                "chat_id": chat_id, "day": day, "part": n, "text": text, "thread_id": thread_id,
                "status": PENDING, "attempts": 0, "created": now, "updated": now,
            }
            for n, text in enumerate(messages, 1)
        ]  # fmt: skip
        async with self._db.write(f"claiming the review of chat {chat_id} for {day}") as conn:
            if await conn.scalar(claim) is None:
                return False
            if rows:
                await conn.execute(review_outbox.insert(), rows)
            return True

    async def pending_chats(self) -> list[int]:
        """Active chats with a review message waiting."""
        query = (
            select(review_outbox.c.chat_id)
            .join(chats, chats.c.chat_id == review_outbox.c.chat_id)
            .where(review_outbox.c.status == PENDING, chats.c.active.is_(True))
            .distinct()
            .order_by(review_outbox.c.chat_id)
        )
        async with self._db.read("reading the chats with review messages waiting") as conn:
            return list((await conn.scalars(query)).all())

    async def claim_next(
        self, chat_ids: Sequence[int], holder: str, *, now: datetime, ttl: float
    ) -> list[ReviewMessage]:
        """Claim the first waiting message of each of `chat_ids` for `holder` (for `ttl` s):
        the ones it now holds, in chat order. A message another sender holds is left alone."""
        if not chat_ids:
            return []
        firsts = (
            select(func.min(review_outbox.c.id))
            .where(review_outbox.c.status == PENDING, review_outbox.c.chat_id.in_(list(chat_ids)))
            .group_by(review_outbox.c.chat_id)
        )
        free = or_(
            review_outbox.c.claim_expires.is_(None),
            review_outbox.c.claim_expires <= now,
            review_outbox.c.claimed_by == holder,
        )
        # Locked in id order, skipping rows another sender is claiming (as the outbox does).
        claimable = (
            select(review_outbox.c.id)
            .where(review_outbox.c.id.in_(firsts.scalar_subquery()), free)
            .order_by(review_outbox.c.id)
            .with_for_update(skip_locked=True)
        )
        async with self._db.write("claiming review messages") as conn:
            ids = (
                (
                    await conn.execute(
                        update(review_outbox)
                        .where(review_outbox.c.id.in_(claimable.scalar_subquery()))
                        .values(claimed_by=holder, claim_expires=now + timedelta(seconds=ttl))
                        .returning(review_outbox.c.id)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return []
            rows = (
                await conn.execute(
                    select(review_outbox).where(review_outbox.c.id.in_(list(ids)))
                    .order_by(review_outbox.c.chat_id)
                )
            ).all()  # fmt: skip
        return [
            ReviewMessage(r.id, r.chat_id, r.thread_id, r.day, r.part, r.text, r.attempts)
            for r in rows
        ]

    async def mark_sent(self, message_id: int, *, telegram_id: int | None, now: datetime) -> None:
        """The message was delivered."""
        await self._settle(message_id, SENT, now=now, values={"message_id": telegram_id})

    async def drop(self, message_id: int, *, reason: str, now: datetime) -> None:
        """Give up on the message (Telegram refused it for good)."""
        await self._settle(message_id, DROPPED, now=now, values={"last_error": reason[:MAX_ERROR]})

    async def record_attempt(self, message_id: int, *, error: str, now: datetime) -> None:
        """A failed try: counted, its error kept; the message stays pending (and claimed)."""
        async with self._db.write(f"recording a failed review message {message_id}") as conn:
            await conn.execute(
                update(review_outbox)
                .where(review_outbox.c.id == message_id)
                .values(
                    attempts=review_outbox.c.attempts + 1,
                    last_error=error[:MAX_ERROR],
                    updated=now,
                )
            )

    async def release(self, holder: str) -> None:
        """Hand back `holder`'s claims (a clean stop), so another sender takes them at once."""
        async with self._db.write("releasing review message claims") as conn:
            await conn.execute(
                update(review_outbox)
                .where(review_outbox.c.claimed_by == holder, review_outbox.c.status == PENDING)
                .values(claimed_by=None, claim_expires=None)
            )

    async def _settle(
        self, row_id: int, status: str, *, now: datetime, values: dict[str, object]
    ) -> None:
        async with self._db.write(f"settling review message {row_id}") as conn:
            await conn.execute(
                update(review_outbox)
                .where(review_outbox.c.id == row_id)
                .values(status=status, updated=now, claimed_by=None, claim_expires=None, **values)
            )
