"""Leases and claims on one database shared by several processes (two engines stand for two)."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source, Validators
from bot.storage.chats import ChatStore
from bot.storage.engine import make_engine
from bot.storage.items import Store
from bot.storage.leases import LeaseStore, SourceClaims, process_id
from bot.storage.outbox import Outbox
from bot.storage.outbox_sends import OutboxSends
from tests.storage.test_chats import SOURCE, entry, flag

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_one_holder_at_a_time_and_an_expired_lease_is_taken_over(
    db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    a, b = LeaseStore(db_engine), LeaseStore(other_engine)
    assert await a.hold("leader", "A", now=at(0), ttl=30)
    assert not await b.hold("leader", "B", now=at(1), ttl=30)
    assert await a.hold("leader", "A", now=at(20), ttl=30)  # renewed: now good until 50
    assert not await b.hold("leader", "B", now=at(45), ttl=30)
    assert await b.holder("leader", now=at(45)) == "A"
    assert await b.hold("leader", "B", now=at(50), ttl=30)  # A stopped renewing: B takes over
    assert not await a.hold("leader", "A", now=at(51), ttl=30)
    lease = await a.get("leader")
    assert lease is not None
    assert (lease.holder, lease.acquired, lease.expires) == ("B", at(50), at(80))


async def test_a_released_lease_is_free_at_once(
    db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    a, b = LeaseStore(db_engine), LeaseStore(other_engine)
    assert await a.hold("leader", "A", now=at(0), ttl=30)
    await b.release("leader", "B", now=at(1))  # not B's: nothing happens
    assert await a.holder("leader", now=at(1)) == "A"
    await a.release("leader", "A", now=at(1))
    assert await a.holder("leader", now=at(1)) is None
    assert await b.hold("leader", "B", now=at(1), ttl=30)


async def test_many_processes_racing_for_a_lease_leave_one_holder(
    database_url: str, db_engine: AsyncEngine
) -> None:
    engines = [make_engine(database_url) for _ in range(4)]
    try:
        won = await asyncio.gather(
            *(
                LeaseStore(e).hold("leader", f"P{n}", now=at(0), ttl=30)
                for n, e in enumerate(engines)
            )
        )
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(won) == 1


async def _sources(store: Store, *ids: str) -> None:
    await store.sync_sources(
        [Source(id=i, name=i, url=f"https://{i}.example/rss", interval=60.0) for i in ids]
    )


async def test_a_due_source_is_claimed_by_one_process_with_its_state(
    store: Store, db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    await _sources(store, "a")
    a, b = SourceClaims(db_engine), SourceClaims(other_engine)
    first = await a.claim("a", "A", now=at(0), ttl=60)
    assert first is not None
    assert first.first_sight  # never polled: claimed with a fresh row
    assert await b.claim("a", "B", now=at(1), ttl=60) is None  # A is polling it
    assert await b.next_look("a", now=at(1)) == at(60)  # ... or dies: look when the claim ends
    validators = Validators(etag='"v1"', last_modified=None, body_hash="h")
    await store.states.save_not_modified("a", now=at(2), next_poll=at(12), validators=validators)
    assert await b.claim("a", "B", now=at(3), ttl=60) is None  # polled; next poll at 12
    assert await b.next_look("a", now=at(3)) == at(12)
    state = await b.claim("a", "B", now=at(12), ttl=60)
    assert state is not None
    assert state.validators.etag == '"v1"'  # B polls with what A learnt
    assert state.next_poll == at(12)


async def test_a_claim_left_by_a_dead_process_is_taken_over_when_it_expires(
    store: Store, db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    await _sources(store, "a")
    a, b = SourceClaims(db_engine), SourceClaims(other_engine)
    assert await a.claim("a", "A", now=at(0), ttl=60) is not None
    assert await b.claim("a", "B", now=at(59), ttl=60) is None
    assert await b.claim("a", "B", now=at(60), ttl=60) is not None
    assert await a.claim("a", "A", now=at(61), ttl=60) is None


async def test_a_process_takes_back_its_own_claim_and_releases_them_on_stop(
    store: Store, db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    await _sources(store, "a", "b")
    a, b = SourceClaims(db_engine), SourceClaims(other_engine)
    assert await a.claim("a", "A", now=at(0), ttl=60) is not None
    assert await a.claim("a", "A", now=at(1), ttl=60) is not None  # e.g. SQLite's fixed name
    assert await a.claim("b", "A", now=at(1), ttl=60) is not None
    assert await a.release("A") == 2
    assert await b.claim("a", "B", now=at(2), ttl=60) is not None


async def test_every_save_of_a_poll_ends_its_claim(store: Store, db_engine: AsyncEngine) -> None:
    await _sources(store, "a")
    claims = SourceClaims(db_engine)
    for n, save in enumerate(("fetch", "failure", "not-modified")):
        start = at(100 * n)
        assert await claims.claim("a", "A", now=start, ttl=60) is not None
        if save == "fetch":
            await store.save_fetch(
                "a",
                items=[],
                validators=Validators(),
                now=start,
                next_poll=start,
                announce=False,
            )
        elif save == "failure":
            await store.states.save_failure("a", error="boom", now=start, next_poll=start)
        else:
            await store.states.save_not_modified("a", now=start, next_poll=start)
        assert await claims.claim("a", "B", now=start, ttl=60) is not None, save
        await claims.release("B")


async def test_pulling_a_poll_forward_makes_it_due_for_everyone_once(
    store: Store, db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    await _sources(store, "a")
    a, b = SourceClaims(db_engine), SourceClaims(other_engine)
    await store.states.save_not_modified("a", now=at(0), next_poll=at(600))
    assert await a.claim("a", "A", now=at(10), ttl=60) is None
    await a.pull_forward("a", at(10))
    await b.pull_forward("a", at(11))  # a later pull does not push it back
    assert await b.next_look("a", now=at(10)) == at(10)
    assert await a.claim("a", "A", now=at(10), ttl=60) is not None
    assert await b.claim("a", "B", now=at(11), ttl=60) is None


async def test_two_processes_claiming_many_sources_at_once_split_them(
    store: Store, db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    ids = [f"s{n}" for n in range(40)]
    await _sources(store, *ids)
    a, b = SourceClaims(db_engine), SourceClaims(other_engine)
    results = await asyncio.gather(
        *(c.claim(i, name, now=at(0), ttl=60) for i in ids for c, name in ((a, "A"), (b, "B")))
    )
    claimed = [r.source_id for r in results if r is not None]
    assert sorted(claimed) == sorted(ids)  # each exactly once


async def _outbox_rows(engine: AsyncEngine, n: int) -> list[int]:
    outbox = Outbox(engine)
    store = Store(engine, on_flagged=[outbox.enqueue])
    await store.sync_sources([SOURCE])
    await ChatStore(engine).subscribe(
        1, kind="private", title=None, topics=["azerbaijan-iran"], thread_id=None, now=T0
    )
    await flag(store, [entry(f"k{i}", minutes=i) for i in range(n)])
    return [row.outbox_id for row in await outbox.next_pending(1, limit=n)]


async def test_each_outbox_row_is_claimed_by_one_sender_until_its_claim_expires(
    store: Store, db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    a, b = OutboxSends(db_engine), OutboxSends(other_engine)
    ids = await _outbox_rows(db_engine, 4)
    assert len(ids) == 4
    assert await a.claim(ids[:2], "A", now=at(0), ttl=30) == set(ids[:2])
    assert await b.claim(ids, "B", now=at(1), ttl=30) == set(ids[2:])
    assert await a.claim(ids[:1], "A", now=at(5), ttl=30) == {ids[0]}  # renewing its own
    await a.mark_sent(ids[0], message_id=7, now=at(6))
    assert await b.claim(ids[:2], "B", now=at(31), ttl=30) == {ids[1]}  # sent rows stay sent
    assert await b.release_claims("B") == 3
    assert await a.claim(ids, "A", now=at(32), ttl=30) == set(ids[1:])


async def test_two_senders_taking_over_the_same_rows_at_once_split_them_without_errors(
    store: Store, db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    # After a sender dies, the survivors take its expired rows over at the same moment, each
    # with its own list. On PostgreSQL the two UPDATEs once locked the rows in different orders
    # and one ended with "deadlock detected" (the chat then waited a minute to retry).
    a, b = OutboxSends(db_engine), OutboxSends(other_engine)
    ids = await _outbox_rows(db_engine, 60)
    rng = random.Random(7)
    for round_ in range(30):
        now = at(100 * round_)  # every claim of the round before has expired
        # Lists of different sizes: PostgreSQL may plan them differently (index or heap order).
        mine, theirs = rng.sample(ids, rng.randint(1, 60)), rng.sample(ids, rng.randint(1, 60))
        got_a, got_b = await asyncio.gather(
            a.claim(mine, "A", now=now, ttl=30), b.claim(theirs, "B", now=now, ttl=30)
        )
        assert not got_a & got_b  # one sender per row
        assert got_a | got_b == set(mine) | set(theirs)  # none left out but by the other


def test_process_ids_differ_between_processes_and_name_the_pid() -> None:
    first, second = process_id(), process_id()
    assert first != second
    assert first.split(":")[1] == str(os.getpid())
