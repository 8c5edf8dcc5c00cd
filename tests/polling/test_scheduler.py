"""SourceScheduler: a poll asked for while the source is polling (a WebSub push, `/poll`, a shorter
interval) is not lost, and a stop gives the poll in flight its grace.

Each test starts the scheduler on one slow feed (the first poll waits for its answer) and acts
while that poll is in flight or just ending.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from bot.polling.decide import SourceReport
from bot.polling.scheduler import ReportHook, SourceScheduler
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.web.rig import WebRig, start_rig

WAIT = 10.0  # seconds, the bound of every wait for a request


@asynccontextmanager
async def polling(
    db_engine: AsyncEngine,
    feed_server: FeedServer,
    name: str,
    *,
    delay: float = 0.0,
    on_report: Sequence[ReportHook] = (),
) -> AsyncIterator[tuple[WebRig, Source]]:
    """The scheduler started on one feed answering after `delay`; entered once it was asked."""
    path = f"/{name}.xml"
    feed_server.put(path, rss([item(1)]))
    if delay:
        feed_server.delay(path, delay)
    source = Source(name, name.title(), feed_server.url(path), 3600.0)
    rig = await start_rig(db_engine, [source], start_scheduler=True, on_report=on_report)
    try:
        await feed_server.wait_for_requests_async(path, 1, timeout=WAIT)
        yield rig, source
    finally:
        await rig.close()


async def test_poll_now_during_a_poll_polls_again_right_after(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    async with polling(db_engine, feed_server, "slow", delay=0.5) as (rig, _):
        rig.scheduler.poll_now("slow")  # the first poll is still waiting for its answer
        await feed_server.wait_for_requests_async("/slow.xml", 2, timeout=WAIT)


async def test_poll_now_when_idle_moves_the_next_poll_to_now(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    async with polling(db_engine, feed_server, "idle") as (rig, _):
        async with asyncio.timeout(WAIT):
            while (planned := rig.scheduler.next_poll("idle")) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # the run reschedules itself once it is stored
        assert planned > datetime.now(UTC) + timedelta(minutes=30)
        rig.scheduler.poll_now("idle")
        await feed_server.wait_for_requests_async("/idle.xml", 2, timeout=WAIT)


async def test_poll_now_between_a_poll_and_its_rescheduling_is_not_lost(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    # A push handled in the instant after a run ended but before the run rescheduled its source
    # (the run's last callbacks still queued) used to be overwritten by that rescheduling.
    loop = asyncio.get_running_loop()
    schedulers: list[SourceScheduler] = []  # the rig's, once the first poll is in flight

    async def report(polled: Source, outcome: SourceReport) -> None:
        if feed_server.request_count("/edge.xml") == 1:
            # Runs once this run's coroutine has returned, before its rescheduling.
            loop.call_soon(schedulers[0].poll_now, "edge")

    async with polling(db_engine, feed_server, "edge", delay=0.3, on_report=[report]) as (rig, _):
        schedulers.append(rig.scheduler)
        await feed_server.wait_for_requests_async("/edge.xml", 2, timeout=WAIT)


async def test_a_shorter_interval_applied_during_a_poll_is_kept(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    # An operator's `/interval` while the source is polling: the run's own rescheduling (at the
    # old hour-long interval) used to overwrite the sooner poll the edit asked for.
    async with polling(db_engine, feed_server, "busy", delay=0.5) as (rig, source):
        rig.scheduler.sync([replace(source, interval=1.0)])  # the first poll is still waiting
        await feed_server.wait_for_requests_async("/busy.xml", 2, timeout=WAIT)


async def test_shutdown_lets_a_poll_in_flight_finish_within_the_grace(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    # APScheduler's own shutdown cancels the runs in flight at once; the grace is ours to give.
    async with polling(db_engine, feed_server, "late", delay=0.5) as (rig, _):
        await rig.scheduler.shutdown(5.0)  # the poll is still waiting for its answer
        state = await rig.store.states.source_state("late")
        assert state.last_success is not None  # it finished and was stored, not cancelled
