"""Read-only queries for the HTTP wing: a ping, source health and the outbox's depth and age.

Same edge as `bot.storage.items` (SQLAlchemy async; rows and errors stay here, callers get the
records below and `StoreError`). Nothing here returns chat ids or anything else operator-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.chat_tables import PENDING, outbox
from bot.storage.tables import source_state, sources


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A configured source and what its polls left behind."""

    id: str
    name: str
    url: str
    enabled: bool
    last_success: datetime | None = None
    failures: int = 0
    last_error: str | None = None
    next_poll: datetime | None = None
    items_seen: int = 0


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    """Messages waiting to be sent, and when the oldest of them was queued."""

    depth: int
    oldest: datetime | None


class StatusStore:
    """Reads what the health check, the metrics and the status page show."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def ping(self) -> None:
        """Raise StoreError unless the database answers a query."""
        async with self._db.read("pinging the database") as conn:
            await conn.execute(text("SELECT 1"))

    async def sources(self, *, enabled_only: bool = True) -> list[SourceHealth]:
        """Sources (the enabled ones unless told otherwise) with their state, by id."""
        query = (
            select(
                sources.c.id,
                sources.c.name,
                sources.c.url,
                sources.c.enabled,
                source_state.c.last_success,
                source_state.c.consecutive_failures,
                source_state.c.last_error,
                source_state.c.next_poll,
                source_state.c.items_seen,
            )
            .outerjoin(source_state, source_state.c.source_id == sources.c.id)
            .order_by(sources.c.id)
        )
        if enabled_only:
            query = query.where(sources.c.enabled.is_(True))
        async with self._db.read("reading source health") as conn:
            rows = (await conn.execute(query)).all()
        return [
            SourceHealth(
                id=r.id,
                name=r.name,
                url=r.url,
                enabled=r.enabled,
                last_success=r.last_success,
                failures=r.consecutive_failures or 0,
                last_error=r.last_error,
                next_poll=r.next_poll,
                items_seen=r.items_seen or 0,
            )
            for r in rows
        ]

    async def outbox(self) -> OutboxSummary:
        """How many messages are pending, and the creation time of the oldest."""
        query = select(func.count(), func.min(outbox.c.created)).where(outbox.c.status == PENDING)
        async with self._db.read("reading the outbox depth") as conn:
            depth, oldest = (await conn.execute(query)).one()
        return OutboxSummary(int(depth or 0), oldest)
