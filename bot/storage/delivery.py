"""The stores the delivery worker uses, each with its own job, on one shared database access."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.chat_failures import ChatFailures
from bot.storage.chats import ChatStore
from bot.storage.outbox import Outbox
from bot.storage.outbox_edits import OutboxEdits
from bot.storage.outbox_sends import OutboxSends


@dataclass(frozen=True, slots=True)
class DeliveryStores:
    """What the delivery worker reads and writes: pending rows (`outbox`), sends and their claims
    (`sends`), story edits (`edits`), a chat's move to a supergroup (`chats`) and its failures."""

    outbox: Outbox
    sends: OutboxSends
    edits: OutboxEdits
    chats: ChatStore
    failures: ChatFailures

    @classmethod
    def on(cls, db: AsyncEngine | DbAccess) -> DeliveryStores:
        """Every store on the same access (pass the app's shared one)."""
        access = DbAccess.of(db)
        return cls(
            Outbox(access),
            OutboxSends(access),
            OutboxEdits(access),
            ChatStore(access),
            ChatFailures(access),
        )
