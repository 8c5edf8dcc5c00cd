"""bot.storage.items on SQLite and PostgreSQL: new items, flags, first sight, latest, source state, atomicity."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import StoreError
from bot.models import (
    Item,
    MatchedItem,
    Source,
    SourceState,
    StoredItem,
    TermHit,
    TopicMatch,
    Validators,
)
from bot.storage.items import Store
from bot.storage.tables import items as items_table

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BAKU = timezone(timedelta(hours=4))
SOURCES = [Source("caliber", "Caliber.Az", "https://caliber.az/rss", 300.0)]
AZ_IR = TopicMatch(
    "azerbaijan-iran",
    (
        TermHit("azerbaijan", "Azerbaijan", "title", "Azerbaijan"),
        TermHit("iran", "Iran*", "summary", "Iranian"),
    ),
)
NO_VALIDATORS = Validators()
ENERGY = TopicMatch("energy", (TermHit("gas", "gas", "title", "gas"),))


def entry(
    key: str, *, minutes: int = 0, matches: Sequence[TopicMatch] = (AZ_IR,), source="caliber"
):
    item = Item(
        source_id=source,
        key=key,
        url=f"https://caliber.az/post/{key}",
        title=f"Title {key}",
        summary=f"Summary of {key}",
        published=T0 + timedelta(minutes=minutes),
        language="en",
        guid=f"guid-{key}",
    )
    return MatchedItem(item, tuple(matches))


async def save(
    store: Store, entries, *, now=T0, announce=True, validators=NO_VALIDATORS, source="caliber"
):
    return await store.save_fetch(
        source,
        items=entries,
        validators=validators,
        now=now,
        next_poll=now + timedelta(minutes=5),
        announce=announce,
    )


async def count_items(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(items_table)) or 0)


@pytest.fixture
async def synced(store: Store) -> Store:
    await store.sync_sources(SOURCES)
    return store


async def test_new_matched_items_are_flagged_with_their_matches_and_source_name(synced: Store):
    result = await save(synced, [entry("a"), entry("b", matches=()), entry("c", matches=[ENERGY])])

    assert result.new_items == 3
    assert [f.item.key for f in sorted(result.flagged, key=lambda f: f.item.key)] == ["a", "c"]
    flagged = {f.item.key: f for f in result.flagged}
    assert flagged["a"].matches == (AZ_IR,)
    assert flagged["a"].source_name == "Caliber.Az"
    assert flagged["a"].item == entry("a").item
    assert flagged["a"].first_seen == T0


async def test_first_sight_stores_items_for_latest_but_announces_nothing(synced: Store):
    result = await save(synced, [entry("a"), entry("b")], announce=False)

    assert result.new_items == 2
    assert result.flagged == ()
    assert [s.item.key for s in await synced.latest(10)] == ["b", "a"]


async def test_an_item_served_again_or_updated_is_neither_new_nor_flagged_again(synced: Store):
    await save(synced, [entry("a")])
    updated = MatchedItem(replace(entry("a").item, title="New"), (AZ_IR,))

    result = await save(synced, [updated, entry("a"), entry("b")], now=T0 + timedelta(hours=1))

    assert result.new_items == 1
    assert [f.item.key for f in result.flagged] == ["b"]
    [stored_a] = [s for s in await synced.latest(10) if s.item.key == "a"]
    assert stored_a.item.title == "Title a"  # the first version stands


async def test_the_same_key_twice_in_one_fetch_is_stored_once(synced: Store):
    result = await save(synced, [entry("a"), entry("a", matches=[ENERGY])])

    assert result.new_items == 1
    assert [f.matches for f in result.flagged] == [(AZ_IR,)]


async def test_concurrent_saves_store_each_item_once(db_engine: AsyncEngine, synced: Store):
    keys = [f"k{i:03d}" for i in range(60)]
    rng = random.Random(7)

    async def one_run(run: int):
        chosen = rng.sample(keys, 40)
        return await save(synced, [entry(k) for k in chosen], now=T0 + timedelta(seconds=run))

    results = await asyncio.gather(*(one_run(run) for run in range(8)))

    flagged = [f.item.key for r in results for f in r.flagged]
    assert sorted(flagged) == sorted(set(flagged))  # never announced twice
    assert sum(r.new_items for r in results) == len(set(flagged)) == await count_items(db_engine)
    state = await synced.states.source_state("caliber")
    assert state.items_seen == len(set(flagged))


async def test_latest_is_newest_published_first_then_newest_first_seen(synced: Store):
    await save(synced, [entry("old", minutes=-60), entry("mid", minutes=0)], now=T0)
    await save(synced, [entry("tie", minutes=0), entry("new", minutes=30)], now=T0 + timedelta(1))

    assert [s.item.key for s in await synced.latest(10)] == ["new", "tie", "mid", "old"]
    assert [s.item.key for s in await synced.latest(2)] == ["new", "tie"]
    assert await synced.latest(0) == []


async def test_latest_skips_unflagged_items_and_filters_by_topic(synced: Store):
    await save(
        synced,
        [
            entry("both", minutes=3, matches=[AZ_IR, ENERGY]),
            entry("energy", minutes=2, matches=[ENERGY]),
            entry("azir", minutes=1),
            entry("none", minutes=4, matches=()),
        ],
    )

    every = await synced.latest(10)
    energy = await synced.latest(10, topics=["energy"])

    assert [s.item.key for s in every] == ["both", "energy", "azir"]
    assert every[0].topics == ("azerbaijan-iran", "energy")
    assert every[0].matches == (AZ_IR, ENERGY)  # explanations survive the round trip
    assert [s.item.key for s in energy] == ["both", "energy"]
    assert energy[0].topics == ("energy",)
    assert await synced.latest(10, topics=[]) == []
    assert await synced.latest(10, topics=["unknown"]) == []


async def test_latest_gives_each_item_its_source_name(synced: Store):
    await synced.sync_sources([*SOURCES, Source("trend", "Trend", "https://trend.az/rss", 60.0)])
    await save(synced, [entry("c1")])
    await save(synced, [entry("t1", minutes=1, source="trend")], source="trend")
    await synced.sync_sources([Source("caliber", "Caliber", "https://caliber.az/rss", 300.0)])

    names = {s.item.key: s.source_name for s in await synced.latest(10)}

    assert names == {"c1": "Caliber", "t1": "Trend"}  # renamed; a removed source keeps its name


async def test_sync_sources_disables_sources_that_left_the_config(
    db_engine: AsyncEngine, synced: Store
):
    await synced.sync_sources([Source("trend", "Trend", "https://trend.az/rss", 60.0)])

    async with db_engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, enabled FROM sources ORDER BY id"))).all()

    assert [(r.id, bool(r.enabled)) for r in rows] == [("caliber", False), ("trend", True)]


async def test_failures_are_counted_and_a_success_resets_them(synced: Store):
    for expected in (1, 2, 3):
        got = await synced.states.save_failure(
            "caliber", error=f"HTTP 500 #{expected}", now=T0, next_poll=T0
        )
        assert got == expected
    failing = await synced.states.source_state("caliber")
    await save(synced, [entry("a")], now=T0 + timedelta(hours=1))
    recovered = await synced.states.source_state("caliber")
    await synced.states.save_failure("caliber", error="timeout", now=T0, next_poll=T0)
    await synced.states.save_not_modified("caliber", now=T0 + timedelta(hours=2), next_poll=T0)
    after_304 = await synced.states.source_state("caliber")

    assert (failing.consecutive_failures, failing.last_error) == (3, "HTTP 500 #3")
    assert failing.first_sight
    assert (recovered.consecutive_failures, recovered.last_error) == (0, None)
    assert recovered.last_success == T0 + timedelta(hours=1)
    assert (after_304.consecutive_failures, after_304.last_success) == (0, T0 + timedelta(hours=2))


async def test_validators_round_trip_and_a_304_keeps_them_unless_given(synced: Store):
    first = Validators(
        etag='W/"abc"', last_modified="Sat, 01 Mar 2025 12:00:00 GMT", body_hash="f" * 64
    )
    await save(synced, [entry("a")], validators=first)
    after_fetch = await synced.states.source_state("caliber")
    await synced.states.save_not_modified("caliber", now=T0, next_poll=T0)
    after_plain_304 = await synced.states.source_state("caliber")
    second = Validators(etag='"xyz"')
    await synced.states.save_not_modified("caliber", now=T0, next_poll=T0, validators=second)
    after_new_304 = await synced.states.source_state("caliber")

    assert after_fetch.validators == first
    assert after_plain_304.validators == first
    assert after_new_304.validators == second


async def test_an_unknown_source_has_the_default_state(synced: Store):
    assert await synced.states.source_state("nobody") == SourceState("nobody")
    assert (await synced.states.source_state("nobody")).first_sight
    assert await synced.states.source_states() == {}


async def test_source_states_lists_every_polled_source(synced: Store):
    await synced.sync_sources([*SOURCES, Source("trend", "Trend", "https://trend.az/rss", 60.0)])
    await save(synced, [entry("a"), entry("b")])
    await synced.states.save_failure(
        "trend", error="boom", now=T0, next_poll=T0 + timedelta(minutes=1)
    )

    states = await synced.states.source_states()

    assert set(states) == {"caliber", "trend"}
    assert states["caliber"].items_seen == 2
    assert states["trend"].consecutive_failures == 1
    assert states["trend"].next_poll == T0 + timedelta(minutes=1)


async def test_timestamps_come_back_timezone_aware_in_utc(synced: Store):
    now_in_baku = datetime(2025, 3, 1, 16, 30, tzinfo=BAKU)  # 12:30 UTC
    baku_item = MatchedItem(
        Item("caliber", "k", "https://x", "t", "s", datetime(2025, 3, 1, 15, 0, tzinfo=BAKU)),
        (AZ_IR,),
    )
    await save(synced, [baku_item], now=now_in_baku)

    [stored] = await synced.latest(1)
    state = await synced.states.source_state("caliber")

    for moment in (stored.item.published, stored.first_seen, state.last_success, state.next_poll):
        assert moment is not None
        assert moment.utcoffset() == timedelta(0)
    assert stored.item.published == datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    assert stored.first_seen == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


async def test_a_failure_mid_batch_stores_neither_items_nor_state(db_engine: AsyncEngine):
    store = Store(db_engine, batch_size=2)
    await store.sync_sources(SOURCES)
    await save(store, [entry("old")], validators=Validators(etag="v1"))
    before = await store.states.source_state("caliber")
    # A title the schema refuses (NOT NULL), in the second batch: keys are inserted in sorted order.
    broken = MatchedItem(Item("caliber", "z-bad", "https://x", None, "s", T0))  # type: ignore[arg-type]
    batch = [broken, entry("n1"), entry("n2"), entry("n3")]

    with pytest.raises(StoreError, match="saving the fetch of caliber"):
        await save(store, batch, now=T0 + timedelta(hours=1), validators=Validators(etag="v2"))

    assert await count_items(db_engine) == 1
    assert await store.states.source_state("caliber") == before
    assert [s.item.key for s in await store.latest(10)] == ["old"]


async def test_items_of_a_source_never_synced_are_refused(synced: Store):
    with pytest.raises(StoreError, match="saving the fetch of ghost"):
        await save(synced, [entry("a", source="ghost")], source="ghost")
    assert await synced.latest(10) == []


async def test_the_flagged_hook_runs_inside_the_saving_transaction(db_engine: AsyncEngine):
    seen: list[tuple[list[str], int]] = []

    async def hook(conn: AsyncConnection, flagged: Sequence[StoredItem], now: datetime) -> None:
        visible = await conn.scalar(text("SELECT count(*) FROM items"))
        seen.append(([f.item.key for f in flagged], visible))

    store = Store(db_engine, on_flagged=[hook])
    await store.sync_sources(SOURCES)
    await save(store, [entry("a"), entry("b", matches=())], announce=False)
    await save(store, [entry("c"), entry("d", matches=())])

    assert seen == [(["c"], 4)]  # not called on first sight; sees the rows it is saved with


async def test_a_failing_hook_rolls_the_whole_fetch_back(db_engine: AsyncEngine):
    async def hook(conn: AsyncConnection, flagged: Sequence[StoredItem], now: datetime) -> None:
        raise RuntimeError("outbox unavailable")

    store = Store(db_engine, on_flagged=[hook])
    await store.sync_sources(SOURCES)

    with pytest.raises(RuntimeError, match="outbox unavailable"):
        await save(store, [entry("a")])

    assert await count_items(db_engine) == 0
    assert (await store.states.source_state("caliber")).first_sight


async def test_a_naive_time_is_refused(synced: Store):
    with pytest.raises(StoreError, match="naive"):
        await save(synced, [entry("a")], now=datetime(2025, 3, 1, 12, 0))  # noqa: DTZ001


async def test_concurrent_unchanged_saves_are_committed_together_and_each_lands(
    db_engine: AsyncEngine,
):
    store = Store(db_engine)
    sources = [
        Source(id=f"u{n}", name=f"U{n}", url=f"https://u{n}.example/feed", interval=60)
        for n in range(40)
    ]
    await store.sync_sources(sources)
    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    await store.states.save_failure("u0", error="down", now=now, next_poll=now)
    await asyncio.gather(
        *(
            store.states.save_not_modified(
                s.id,
                now=now,
                next_poll=now + timedelta(seconds=n),
                validators=Validators(etag=f'"e{n}"', last_modified=None, body_hash=f"h{n}"),
            )
            for n, s in enumerate(sources)
        )
    )
    states = await store.states.source_states()
    for n, s in enumerate(sources):
        state = states[s.id]
        assert state.next_poll == now + timedelta(seconds=n)
        assert state.validators.etag == f'"e{n}"'
        assert state.consecutive_failures == 0
        assert state.last_success == now
