"""Retention: a year of items shrinks to the window, flagged items stay, removed items stay known.

On SQLite and (with TEST_DATABASE_URL) PostgreSQL. The end-to-end tests run the real pipeline
against the loopback feed server, and show that an item removed while still in its feed is neither
stored nor announced again, in the same pipeline or a new one (a restarted process).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds.normalize import item_key
from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.storage.items import Store
from bot.storage.retention import Retention, RetentionPolicy, RetentionReport
from bot.storage.retention_tables import retired_keys
from bot.storage.tables import item_topics, items
from bot.topics.matcher import Matcher
from tests.feeds.build import item, rss
from tests.polling.test_pipeline import FLAGGED, Clock, make_pipeline
from tests.servers import FeedServer

REPO = Path(__file__).resolve().parents[2]
START = datetime(2025, 11, 1, 6, 0, tzinfo=UTC)
SOURCES = [Source(id=f"s{n}", name=f"Outlet {n}", url=f"https://s{n}.test/rss", interval=600) for n in range(3)]  # fmt: skip
MATCH = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran", "title", "Iran"),))


def day_items(source: Source, day: int, per_day: int) -> list[MatchedItem]:
    """`per_day` items of one day; every tenth on the topic."""
    out = []
    for n in range(per_day):
        number = day * per_day + n
        entry = Item(
            source_id=source.id,
            key=f"{source.id}-{number:08d}",
            url=f"https://{source.id}.test/news/{number}",
            title=f"Story {number} " + "headline " * 5,
            summary="Text of the story. " * 40,  # ~800 characters, like a real teaser
            published=START + timedelta(days=day, minutes=n),
            language="en",
        )
        out.append(MatchedItem(entry, (MATCH,) if number % 10 == 0 else ()))
    return out


async def fill_year(store: Store, *, per_day: int) -> datetime:
    """A year of daily fetches of every source; the moment after the last."""
    await store.sync_sources(SOURCES, now=START)
    for day in range(365):
        now = START + timedelta(days=day)
        for source in SOURCES:
            await store.save_fetch(
                source.id,
                items=day_items(source, day, per_day),
                validators=Validators(body_hash=f"{source.id}-{day}"),
                now=now,
                next_poll=now + timedelta(minutes=10),
                announce=False,
            )
    return START + timedelta(days=365)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        flagged = select(func.count(func.distinct(item_topics.c.item_id)))
        return {
            "items": int(await conn.scalar(select(func.count()).select_from(items)) or 0),
            "flagged": int(await conn.scalar(flagged) or 0),
            "retired": int(await conn.scalar(select(func.count()).select_from(retired_keys)) or 0),
        }


async def vacuumed_size(engine: AsyncEngine) -> int:
    """The SQLite file's size after VACUUM and a WAL checkpoint (on a connection of its own)."""
    assert engine.url.database is not None
    return await asyncio.to_thread(_vacuum, engine.url.database)


def _vacuum(path: str) -> int:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return os.path.getsize(path)


async def test_a_year_of_items_shrinks_to_the_window_and_flagged_items_stay(
    store: Store, db_engine: AsyncEngine
) -> None:
    per_day = 20
    end = await fill_year(store, per_day=per_day)
    before = await counts(db_engine)
    assert before == {"items": 365 * per_day * 3, "flagged": 365 * per_day * 3 // 10, "retired": 0}
    sqlite = db_engine.dialect.name == "sqlite"
    size_before = await vacuumed_size(db_engine) if sqlite else 0

    report = await Retention(db_engine, RetentionPolicy(keep_days=180)).run(end)

    after = await counts(db_engine)
    # Days 185..364 are inside the window (first seen after end - 180 days); older unflagged go.
    kept_days = 180
    old_unflagged = (365 - kept_days) * per_day * 3 * 9 // 10
    assert report.items_removed == old_unflagged
    assert report.flagged_removed == 0
    assert after == {
        "items": before["items"] - old_unflagged,
        "flagged": before["flagged"],
        "retired": old_unflagged,
    }
    assert report.batches >= old_unflagged // 500
    if sqlite:
        size_after = await vacuumed_size(db_engine)
        print(  # the figures the issue asks to see; -s shows them
            f"\nyear of items: {before} -> {after}; SQLite file after VACUUM "
            f"{size_before / 1e6:.1f} MB -> {size_after / 1e6:.1f} MB; {report.batches} batches, "
            f"longest write {report.longest_batch * 1000:.0f} ms"
        )
        assert size_after < size_before * 0.65

    # Flagged items go too once BOT_KEEP_FLAGGED_DAYS is set; their keys stay known.
    policy = RetentionPolicy(keep_days=180, keep_flagged_days=365)
    flagged_report = await Retention(db_engine, policy).run(end + timedelta(days=30))
    assert flagged_report.flagged_removed == 30 * per_day * 3 // 10
    known = await store.known_keys("s0", ["s0-00000000", "s0-00000001", "nope"], now=end)
    assert known.keys == {"s0-00000000", "s0-00000001"}


async def test_small_batches_and_a_window_of_zero_keeps_everything(
    store: Store, db_engine: AsyncEngine
) -> None:
    await store.sync_sources(SOURCES[:1], now=START)
    for day in range(10):
        now = START + timedelta(days=day)
        await store.save_fetch(
            "s0",
            items=day_items(SOURCES[0], day, 25),
            validators=Validators(),
            now=now,
            next_poll=now,
            announce=False,
        )
    end = START + timedelta(days=10)
    assert (await Retention(db_engine, RetentionPolicy(keep_days=0)).run(end)).batches == 0
    report = await Retention(db_engine, RetentionPolicy(keep_days=5, batch_size=40)).run(end)
    assert report.items_removed == 5 * 25 * 9 // 10
    assert report.batches == -(-report.items_removed // 40)  # every batch full but the last
    assert (await counts(db_engine))["items"] == 250 - report.items_removed


async def test_an_item_removed_while_still_in_its_feed_is_not_announced_again(
    feed_server: FeedServer,
    store: Store,
    db_engine: AsyncEngine,
    client: httpx.AsyncClient,
    matcher: Matcher,
) -> None:
    clock = Clock()
    src = Source(id="s1", name="Outlet", url=feed_server.url("/f.xml"), interval=60)
    await store.sync_sources([src])
    pipeline, messenger = make_pipeline(store, client, matcher, clock)
    old = [item(1, title="Weather in Baku"), item(2, title="Football results")]
    feed_server.put("/f.xml", rss(old))
    await pipeline.run_source(src)  # first sight: stored, not announced
    clock.now += timedelta(days=1)
    flagged_old = item(3, title=FLAGGED)
    feed_server.put("/f.xml", rss([flagged_old, *old]))
    await pipeline.run_source(src)
    assert [s.item.title for s in messenger.announced] == [FLAGGED]

    # Months later every one of them is past both windows and removed, though still in the feed.
    clock.now += timedelta(days=200)
    policy = RetentionPolicy(keep_days=180, keep_flagged_days=180)
    report = await Retention(db_engine, policy).run(clock.now)
    assert (report.items_removed, report.flagged_removed) == (2, 1)
    assert (await counts(db_engine))["items"] == 0

    # The feed gains one item: only that one is new, in this pipeline and in a restarted one.
    new = item(4, title="Azerbaijan and Iran sign a new gas deal")
    feed_server.put("/f.xml", rss([new, flagged_old, *old]))
    report_same = await pipeline.run_source(src)
    assert report_same.new_items == 1
    restarted, fresh_messenger = make_pipeline(store, client, matcher, clock)
    feed_server.put("/f.xml", rss([item(5, title="Tennis"), new, flagged_old, *old]))
    report_fresh = await restarted.run_source(src)
    assert report_fresh.new_items == 1
    assert [s.item.title for s in messenger.announced] == [FLAGGED, new.title]
    assert fresh_messenger.announced == []

    # A year on the removed items are still in the feed, which still changes now and then: their
    # keys were renewed on each parse and are not pruned. Once gone from the feed and the window,
    # they are.
    for _ in range(4):
        clock.now += timedelta(days=100)
        feed_server.put("/f.xml", rss([item(int(clock.now.timestamp())), flagged_old, *old]))
        await restarted.run_source(src)
        await Retention(db_engine, RetentionPolicy(keep_days=180)).run(clock.now)
    known = await store.known_keys(src.id, removed_keys(), now=clock.now)
    assert len(known.keys) == 3
    feed_server.put("/f.xml", rss([item(99, title="Only this")]))
    await restarted.run_source(src)
    clock.now += timedelta(days=181)
    feed_server.put("/f.xml", rss([item(100, title="And this")]))
    await restarted.run_source(src)
    pruned = await Retention(db_engine, RetentionPolicy(keep_days=180)).run(clock.now)
    assert pruned.keys_pruned >= 3
    assert (await store.known_keys(src.id, removed_keys(), now=clock.now)).keys == set()


def removed_keys() -> list[str]:
    """The keys of items 1, 2 and 3 as the parser gives them (keyed by their GUIDs)."""
    return [item_key(guid=item(n).guid, url=None, title="", summary="") for n in (1, 2, 3)]


async def test_a_feed_unchanged_for_months_keeps_its_retired_keys(
    feed_server: FeedServer,
    store: Store,
    db_engine: AsyncEngine,
    client: httpx.AsyncClient,
    matcher: Matcher,
) -> None:
    clock = Clock()
    src = Source(id="s1", name="Outlet", url=feed_server.url("/f.xml"), interval=60)
    await store.sync_sources([src])
    pipeline, messenger = make_pipeline(store, client, matcher, clock)
    feed_server.put("/f.xml", rss([item(1, title=FLAGGED)]))
    await pipeline.run_source(src)
    # The feed answers 304 for a year and a half; retention runs throughout.
    for _ in range(6):
        clock.now += timedelta(days=100)
        assert (await pipeline.run_source(src)).outcome == "not-modified"
        policy = RetentionPolicy(keep_days=180, keep_flagged_days=180)
        await Retention(db_engine, policy).run(clock.now)
    feed_server.put("/f.xml", rss([item(2, title="Azerbaijan and Iran hold talks"), item(1, title=FLAGGED)]))  # fmt: skip
    report = await pipeline.run_source(src)
    assert report.new_items == 1
    assert [s.item.title for s in messenger.announced] == ["Azerbaijan and Iran hold talks"]


async def test_the_daily_task_runs_a_pass_and_survives_until_cancelled(
    store: Store, db_engine: AsyncEngine
) -> None:
    await store.sync_sources(SOURCES[:1], now=START)
    await store.save_fetch(
        "s0",
        items=day_items(SOURCES[0], 0, 10),
        validators=Validators(),
        now=START,
        next_poll=START,
        announce=False,
    )
    retention = Retention(db_engine, RetentionPolicy(keep_days=30))
    reports: list[RetentionReport] = []
    passed = asyncio.Event()

    def on_pass(report: RetentionReport) -> None:
        reports.append(report)
        passed.set()

    later = START + timedelta(days=31)
    task = asyncio.create_task(
        retention.daily(lambda: later, first_delay=0, period=3600, on_pass=on_pass)
    )
    try:
        await asyncio.wait_for(passed.wait(), timeout=30)
        assert reports[0].items_removed == 9  # the flagged one stays
        assert (await counts(db_engine))["items"] == 1
        assert not task.done()  # asleep until the next pass
    finally:
        task.cancel()
