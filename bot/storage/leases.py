"""Several processes on one database: named leases (the Telegram leader) and claims on sources.

Nothing but the database coordinates the processes. A lease or a claim is a row naming its holder
and an expiry; whoever finds it expired may take it, so the work of a process that died (even by
`kill -9`) is taken over once its expiry passes, and a process that stops cleanly hands its work
back at once (`release`). Every check-and-take is one conditional UPDATE: on PostgreSQL a second
writer of the same row waits for the first to commit and then sees the row it left (READ
COMMITTED re-checks the WHERE), on SQLite writers are serialized; either way one taker wins.

Times come from the injected clock of each process: hosts must keep their clocks in step (NTP)
to well under the lease and claim durations.

- `LeaseStore.hold(name, holder)`: take or renew a named lease; `release`; `holder`.
- `SourceClaims.claim(source_id, holder)`: take a source that is due and not claimed by a live
  holder; returns its state as read in the same statement. `pull_forward` makes a source due
  sooner (poll now, a shorter interval). The pipeline's saves clear
  the claim with the new state (`bot.storage.items`). `next_look` says when to try again.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import SourceState
from bot.storage.access import DbAccess
from bot.storage.source_state import state_from_row
from bot.storage.tables import leases
from bot.storage.tables import source_state as state_t

DUE_SLACK = timedelta(seconds=1)  # a timer that fires a moment early still finds its source due


def process_id() -> str:
    """This process's name in claims and leases: host, pid and a random tag (pids are reused)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as stored."""

    name: str
    holder: str
    expires: datetime
    acquired: datetime


class LeaseStore:
    """Named leases with an expiry, taken and renewed by conditional updates."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def hold(self, name: str, holder: str, *, now: datetime, ttl: float) -> bool:
        """Take the lease, or renew it if `holder` has it; False while another holds it unexpired."""
        expires = now + timedelta(seconds=ttl)
        async with self._db.write(f"taking the lease {name!r}") as conn:
            renewed = await conn.execute(
                update(leases)
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(expires=expires)
                .returning(leases.c.name)
            )
            if renewed.first() is not None:
                return True
            taken = await conn.execute(
                update(leases)
                .where(leases.c.name == name, leases.c.expires <= now)
                .values(holder=holder, expires=expires, acquired=now)
                .returning(leases.c.name)
            )
            if taken.first() is not None:
                return True
            row = {"name": name, "holder": holder, "expires": expires, "acquired": now}
            stmt = self._db.insert(leases).values(row).on_conflict_do_nothing()
            created = await conn.execute(stmt.returning(leases.c.name))
            return created.first() is not None

    async def release(self, name: str, holder: str, *, now: datetime) -> None:
        """Give the lease up (if `holder` still has it), so that another may take it at once."""
        async with self._db.write(f"releasing the lease {name!r}") as conn:
            await conn.execute(
                update(leases)
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(expires=now)
            )

    async def get(self, name: str) -> Lease | None:
        """The lease as stored (expired or not), or None when nobody ever took it."""
        async with self._db.read(f"reading the lease {name!r}") as conn:
            row = (await conn.execute(select(leases).where(leases.c.name == name))).first()
        return None if row is None else Lease(row.name, row.holder, row.expires, row.acquired)

    async def holder(self, name: str, *, now: datetime) -> str | None:
        """Who holds the lease now; None when it is free."""
        lease = await self.get(name)
        return lease.holder if lease is not None and lease.expires > now else None


class SourceClaims:
    """Claims on sources: one process polls a source at a time, and any process can take any."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def claim(
        self, source_id: str, holder: str, *, now: datetime, ttl: float
    ) -> SourceState | None:
        """Claim the source if it is due and no live claim holds it.

        Returns the source's state (read in the claiming statement), or None when another process
        polls it now or already did (its next poll is then in the future).
        """
        expires = now + timedelta(seconds=ttl)
        free = or_(
            state_t.c.claim_expires.is_(None),
            state_t.c.claim_expires <= now,
            state_t.c.claimed_by == holder,  # our own, left by a poll cut short
        )
        due = or_(state_t.c.next_poll.is_(None), state_t.c.next_poll <= now + DUE_SLACK)
        async with self._db.write(f"claiming {source_id}") as conn:
            row = (
                await conn.execute(
                    update(state_t)
                    .where(state_t.c.source_id == source_id, free, due)
                    .values(claimed_by=holder, claim_expires=expires)
                    .returning(*state_t.c)
                )
            ).first()
            if row is not None:
                return state_from_row(row)
            # Never polled by anyone yet: the first to insert its state row has it.
            stmt = self._db.insert(state_t).values(
                source_id=source_id,
                consecutive_failures=0,
                items_seen=0,
                claimed_by=holder,
                claim_expires=expires,
            )
            created = await conn.execute(stmt.on_conflict_do_nothing().returning(*state_t.c))
            row = created.first()
        return None if row is None else state_from_row(row)

    async def pull_forward(self, source_id: str, when: datetime) -> None:
        """Make the source due by `when` at the latest (poll now, a shorter interval).

        Idempotent, so every process that hears of the change may do it: the earliest time wins.
        """
        async with self._db.write(f"moving the next poll of {source_id}") as conn:
            await conn.execute(
                update(state_t)
                .where(state_t.c.source_id == source_id, state_t.c.next_poll > when)
                .values(next_poll=when)
            )

    async def next_look(self, source_id: str, *, now: datetime) -> datetime:
        """When a process that could not claim the source should try again: its next poll, or
        the end of the live claim on it (the holder may die before it stores a next poll)."""
        query = select(state_t.c.next_poll, state_t.c.claim_expires).where(
            state_t.c.source_id == source_id
        )
        async with self._db.read(f"reading the claim on {source_id}") as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return now
        claim_end = row.claim_expires if row.claim_expires and row.claim_expires > now else None
        next_poll = row.next_poll or now
        return max(next_poll, claim_end) if claim_end else max(next_poll, now)

    async def release(self, holder: str) -> int:
        """Drop every claim `holder` still has (a clean stop); returns how many there were."""
        async with self._db.write("releasing source claims") as conn:
            result = await conn.execute(
                update(state_t)
                .where(state_t.c.claimed_by == holder)
                .values(claimed_by=None, claim_expires=None)
                .returning(state_t.c.source_id)
            )
            return len(result.all())
