"""The chats' feedback flag: whether a chat's messages carry the relevance buttons.

The flag is `chats.feedback` (NULL: the default, decided by `bot.telegram.feedback`).
`bot.storage.labels.LabelStore` builds one `FeedbackFlags` on its access and offers `flag` and
`set_flag` through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from bot.storage.access import DbAccess
from bot.storage.chat_tables import chats


@dataclass(frozen=True, slots=True)
class ChatFlag:
    """A chat's feedback setting: whether the bot knows the chat, and its stored flag."""

    known: bool
    flag: bool | None  # None: the default applies


class FeedbackFlags:
    """Reads and sets the chats' feedback flag through the shared access."""

    def __init__(self, db: DbAccess) -> None:
        self._db = db

    async def flag(self, chat_id: int) -> ChatFlag:
        """The chat's stored feedback flag, and whether the chat is known at all."""
        query = select(chats.c.feedback).where(chats.c.chat_id == chat_id)
        async with self._db.read(f"reading the feedback flag of chat {chat_id}") as conn:
            row = (await conn.execute(query)).first()
        return ChatFlag(False, None) if row is None else ChatFlag(True, row.feedback)

    async def set_flag(self, chat_id: int, on: bool | None, *, now: datetime) -> bool:
        """Turn the chat's buttons on or off (None: back to the default); False if unknown."""
        async with self._db.write(f"setting the feedback flag of chat {chat_id}") as conn:
            result = await conn.execute(
                update(chats)
                .where(chats.c.chat_id == chat_id)
                .values(feedback=on, updated=now)
                .returning(chats.c.chat_id)
            )
            return result.first() is not None
