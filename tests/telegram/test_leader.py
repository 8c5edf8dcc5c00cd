"""Leadership over the leader lease: one leader, hooks on each change, hand-over on stop or expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.leases import LeaseStore
from bot.telegram.leader import LEADER_LEASE, Leadership


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


def member(
    engine: AsyncEngine, name: str, clock: Clock, events: list[str], ttl: float = 30
) -> Leadership:
    async def gain() -> None:
        events.append(f"{name} leads")

    async def lose() -> None:
        events.append(f"{name} follows")

    return Leadership(
        LeaseStore(engine),
        holder=name,
        ttl=ttl,
        clock=lambda: clock.now,
        monotonic=lambda: clock.mono,
        on_gain=gain,
        on_lose=lose,
    )


async def test_one_process_leads_and_another_takes_over_when_its_lease_runs_out(
    db_engine: AsyncEngine,
) -> None:
    clock, events = Clock(), []
    a, b = member(db_engine, "A", clock, events), member(db_engine, "B", clock, events)
    assert await a.try_once()
    assert not await b.try_once()
    clock.advance(10)
    assert await a.try_once()  # renewed until +40
    clock.advance(29)
    assert not await b.try_once()
    clock.advance(1)  # A died after its renewal at +10: its lease ended at +40
    assert await b.try_once()
    assert not await a.try_once()  # a late A finds it lost the lease and steps down
    assert events == ["A leads", "B leads", "A follows"]
    assert (a.is_leader, b.is_leader) == (False, True)
    lease = await LeaseStore(db_engine).get(LEADER_LEASE)
    assert lease is not None
    assert lease.holder == "B"


async def test_a_clean_stop_hands_the_lead_over_at_once(db_engine: AsyncEngine) -> None:
    clock, events = Clock(), []
    a, b = member(db_engine, "A", clock, events), member(db_engine, "B", clock, events)
    assert await a.try_once()
    await a.stop()
    assert await b.try_once()
    assert events == ["A leads", "A follows", "B leads"]
