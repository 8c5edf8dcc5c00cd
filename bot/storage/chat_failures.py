"""A chat's delivery failures: counted when Telegram says it is unavailable, and its end.

The delivery worker counts "chat unavailable" answers (blocked, kicked, not found) with
`record_unavailable`; after enough of them over long enough it calls `deactivate`, which drops the
chat's pending rows and keeps its topics (a later /start brings it back). A sent message ends the
run (`bot.storage.outbox_sends.OutboxSends.mark_sent`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.chat_tables import DROPPED, MAX_ERROR, PENDING, chats, outbox
from bot.storage.chats import Chat, read_chat
from bot.storage.tables import UTCDateTime


class ChatFailures:
    """Counts a chat's delivery failures and deactivates it, through the shared access."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def record_unavailable(self, chat_id: int, *, error: str, now: datetime) -> Chat | None:
        """Count a "chat unavailable" failure (blocked, kicked, not found); the updated chat."""
        async with self._db.write(f"recording a failure of chat {chat_id}") as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id == chat_id)
                .values(
                    failures=chats.c.failures + 1,
                    first_failure=func.coalesce(chats.c.first_failure, literal(now, UTCDateTime)),
                    last_error=error[:MAX_ERROR],
                    updated=now,
                )
            )
            return await read_chat(conn, chat_id)

    async def deactivate(self, chat_id: int, *, reason: str, now: datetime) -> None:
        """Stop delivering to a chat that is gone; its pending rows are dropped, topics kept."""
        async with self._db.write(f"deactivating chat {chat_id}") as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id == chat_id)
                .values(active=False, last_error=reason[:MAX_ERROR], updated=now)
            )
            await conn.execute(
                update(outbox)
                .where(outbox.c.chat_id == chat_id, outbox.c.status == PENDING)
                .values(status=DROPPED, last_error=reason[:MAX_ERROR], updated=now)
            )
