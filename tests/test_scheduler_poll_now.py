"""SourceScheduler.poll_now (WebSub pushes use it): a request made while the source is polling
is not lost; the source is polled again right after, not at its next interval."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from bot.pipeline import SourceReport
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.web.rig import start_rig


async def test_poll_now_during_a_poll_polls_again_right_after(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    feed_server.put("/slow.xml", rss([item(1)]))
    feed_server.delay("/slow.xml", 0.5)
    source = Source("slow", "Slow", feed_server.url("/slow.xml"), 3600.0)
    rig = await start_rig(db_engine, [source], start_scheduler=True)
    try:
        await feed_server.wait_for_requests_async("/slow.xml", 1, timeout=10)
        rig.scheduler.poll_now("slow")  # the first poll is still waiting for its answer
        await feed_server.wait_for_requests_async("/slow.xml", 2, timeout=10)
    finally:
        await rig.close()


async def test_poll_now_when_idle_moves_the_next_poll_to_now(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    feed_server.put("/idle.xml", rss([item(1)]))
    source = Source("idle", "Idle", feed_server.url("/idle.xml"), 3600.0)
    rig = await start_rig(db_engine, [source], start_scheduler=True)
    try:
        await feed_server.wait_for_requests_async("/idle.xml", 1, timeout=10)
        async with asyncio.timeout(10):
            while (planned := rig.scheduler.next_poll("idle")) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # the run reschedules itself once it is stored
        assert planned > datetime.now(UTC) + timedelta(minutes=30)
        rig.scheduler.poll_now("idle")
        await feed_server.wait_for_requests_async("/idle.xml", 2, timeout=10)
    finally:
        await rig.close()


async def test_poll_now_between_a_poll_and_its_rescheduling_is_not_lost(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    # A push handled in the instant after a run ended but before the run rescheduled its source
    # (the run's last callbacks still queued) used to be overwritten by that rescheduling.
    feed_server.put("/edge.xml", rss([item(1)]))
    feed_server.delay("/edge.xml", 0.3)
    source = Source("edge", "Edge", feed_server.url("/edge.xml"), 3600.0)
    rig = await start_rig(db_engine, [source], start_scheduler=True)
    try:
        await feed_server.wait_for_requests_async("/edge.xml", 1, timeout=10)
        previous = rig.scheduler.on_report
        loop = asyncio.get_running_loop()

        async def report(polled: Source, outcome: SourceReport) -> None:
            if previous is not None:
                await previous(polled, outcome)
            if feed_server.request_count("/edge.xml") == 1:
                # Runs once this run's coroutine has returned, before its rescheduling.
                loop.call_soon(rig.scheduler.poll_now, "edge")

        rig.scheduler.on_report = report
        await feed_server.wait_for_requests_async("/edge.xml", 2, timeout=10)
    finally:
        await rig.close()


async def test_a_shorter_interval_applied_during_a_poll_is_kept(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    # An operator's `/interval` while the source is polling: the run's own rescheduling (at the
    # old hour-long interval) used to overwrite the sooner poll the edit asked for.
    feed_server.put("/busy.xml", rss([item(1)]))
    feed_server.delay("/busy.xml", 0.5)
    source = Source("busy", "Busy", feed_server.url("/busy.xml"), 3600.0)
    rig = await start_rig(db_engine, [source], start_scheduler=True)
    try:
        await feed_server.wait_for_requests_async("/busy.xml", 1, timeout=10)
        rig.scheduler.sync([replace(source, interval=1.0)])  # the first poll is still waiting
        await feed_server.wait_for_requests_async("/busy.xml", 2, timeout=10)
    finally:
        await rig.close()


async def test_shutdown_lets_a_poll_in_flight_finish_within_the_grace(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    # APScheduler's own shutdown cancels the runs in flight at once; the grace is ours to give.
    feed_server.put("/late.xml", rss([item(1)]))
    feed_server.delay("/late.xml", 0.5)
    source = Source("late", "Late", feed_server.url("/late.xml"), 3600.0)
    rig = await start_rig(db_engine, [source], start_scheduler=True)
    try:
        await feed_server.wait_for_requests_async("/late.xml", 1, timeout=10)
        await rig.scheduler.shutdown(5.0)  # the poll is still waiting for its answer
        state = await rig.store.source_state("late")
        assert state.last_success is not None  # it finished and was stored, not cancelled
    finally:
        await rig.close()
