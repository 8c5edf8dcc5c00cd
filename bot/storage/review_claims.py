"""The daily review's claims: one row per chat and local day, so one process sends it once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.story_tables import digests_sent


class ReviewClaims:
    """Claims a chat's review of a day, through the shared access."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def claim_review(self, chat_id: int, day: str, *, stories: int, now: datetime) -> bool:
        """Take the chat's review of `day` (YYYY-MM-DD): True for the one caller, in any process,
        that inserted the row; everyone else (a second process, a restart) gets False."""
        stmt = (
            self._db.insert(digests_sent)
            .values(chat_id=chat_id, day=day, stories=stories, created=now)
            .on_conflict_do_nothing()
            .returning(digests_sent.c.chat_id)
        )
        async with self._db.write(f"claiming the review of chat {chat_id} for {day}") as conn:
            return (await conn.scalar(stmt)) is not None
