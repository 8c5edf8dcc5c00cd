"""WebSub subscriptions in the database: requested, verified, pushed to, renewed.

Same edge as `bot.storage.items` (SQLAlchemy async; rows and errors stay here, callers get
`Subscription` and `StoreError`). One row per source: a source whose feed names a new hub or topic
gets a fresh row (new callback id and secret), so a stale hub's calls no longer match anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.websub_tables import ACTIVE, DENIED, REQUESTED
from bot.storage.websub_tables import websub_subscriptions as subs_t


@dataclass(frozen=True, slots=True)
class Subscription:
    """One source's subscription at a hub."""

    source_id: str
    hub: str
    topic: str
    callback_id: str
    secret: str
    state: str  # "requested" | "active" | "denied"
    requested: datetime
    lease_seconds: int | None = None
    expires: datetime | None = None
    verified: datetime | None = None
    last_push: datetime | None = None
    pushes: int = 0

    @property
    def active(self) -> bool:
        """The hub verified our intent (the lease may still have run out)."""
        return self.state == ACTIVE


class WebSubStore:
    """Reads and writes `websub_subscriptions` through an injected engine."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def all(self) -> list[Subscription]:
        """Every subscription, by source id."""
        async with self._db.read("reading WebSub subscriptions") as conn:
            rows = (await conn.execute(select(subs_t).order_by(subs_t.c.source_id))).all()
        return [_subscription(r) for r in rows]

    async def for_source(self, source_id: str) -> Subscription | None:
        """The source's subscription, if any."""
        return await self._one(subs_t.c.source_id == source_id, f"reading {source_id}'s WebSub")

    async def by_callback(self, callback_id: str) -> Subscription | None:
        """The subscription a callback URL names, if any."""
        return await self._one(subs_t.c.callback_id == callback_id, "reading a WebSub callback")

    async def request(
        self, source_id: str, *, hub: str, topic: str, callback_id: str, secret: str, now: datetime
    ) -> Subscription:
        """Record that we (re)subscribe; the stored row, as the hub will find it when it verifies.

        The same hub and topic keep their callback and secret (a renewal); anything else replaces
        the row, with `callback_id` and `secret` as given.
        """
        async with self._db.write(f"requesting a WebSub subscription for {source_id}") as conn:
            row = (
                await conn.execute(select(subs_t).where(subs_t.c.source_id == source_id))
            ).first()
            if row is not None and row.hub == hub and row.topic == topic:
                state = ACTIVE if row.state == ACTIVE else REQUESTED
                await conn.execute(
                    update(subs_t)
                    .where(subs_t.c.source_id == source_id)
                    .values(requested=now, state=state)
                )
            else:
                if row is not None:
                    await conn.execute(delete(subs_t).where(subs_t.c.source_id == source_id))
                values = {
                    "source_id": source_id,
                    "hub": hub,
                    "topic": topic,
                    "callback_id": callback_id,
                    "secret": secret,
                    "state": REQUESTED,
                    "requested": now,
                    "pushes": 0,
                }
                await conn.execute(subs_t.insert().values(values))
            new = (await conn.execute(select(subs_t).where(subs_t.c.source_id == source_id))).one()
        return _subscription(new)

    async def verified(self, callback_id: str, *, lease_seconds: int, now: datetime) -> None:
        """The hub confirmed the subscription for `lease_seconds`."""
        await self._update(
            callback_id,
            "recording a WebSub verification",
            state=ACTIVE,
            verified=now,
            lease_seconds=lease_seconds,
            expires=now + timedelta(seconds=lease_seconds),
        )

    async def denied(self, callback_id: str, *, now: datetime) -> None:
        """The hub refused the subscription (polling carries on)."""
        await self._update(callback_id, "recording a WebSub denial", state=DENIED, verified=now)

    async def pushed(self, callback_id: str, *, now: datetime) -> None:
        """A signed push arrived."""
        await self._update(
            callback_id, "recording a WebSub push", last_push=now, pushes=subs_t.c.pushes + 1
        )

    async def remove(self, source_id: str) -> None:
        """Forget the source's subscription."""
        async with self._db.write(f"removing {source_id}'s WebSub subscription") as conn:
            await conn.execute(delete(subs_t).where(subs_t.c.source_id == source_id))

    async def _one(self, where: Any, action: str) -> Subscription | None:
        async with self._db.read(action) as conn:
            row = (await conn.execute(select(subs_t).where(where))).first()
        return _subscription(row) if row is not None else None

    async def _update(self, callback_id: str, action: str, **values: Any) -> None:
        async with self._db.write(action) as conn:
            await conn.execute(
                update(subs_t).where(subs_t.c.callback_id == callback_id).values(**values)
            )


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        source_id=row.source_id,
        hub=row.hub,
        topic=row.topic,
        callback_id=row.callback_id,
        secret=row.secret,
        state=row.state,
        requested=row.requested,
        lease_seconds=row.lease_seconds,
        expires=row.expires,
        verified=row.verified,
        last_push=row.last_push,
        pushes=row.pushes,
    )


__all__ = ["ACTIVE", "DENIED", "REQUESTED", "Subscription", "WebSubStore"]
