"""The pipeline end to end over loopback: feed server → fetch → parse → match → store → messenger."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.feeds.fetch import Fetcher
from bot.models import Source, StoredItem
from bot.polling.decide import backoff_delay
from bot.polling.pipeline import Pipeline
from bot.storage.items import Store
from bot.topics.matcher import Matcher
from tests.feeds.build import FeedItem, item, rss
from tests.servers import FeedServer

REPO = Path(__file__).resolve().parents[2]
FLAGGED = "Azerbaijan and Iran sign a new transit deal"


class RecordingMessenger:
    """A full implementation of the Messenger protocol that remembers what it was asked to announce."""

    def __init__(self) -> None:
        self.announced: list[StoredItem] = []

    async def announce(self, items: Sequence[StoredItem]) -> None:
        self.announced.extend(items)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def make_pipeline(
    store: Store, client: httpx.AsyncClient, matcher: Matcher, clock: Clock
) -> tuple[Pipeline, RecordingMessenger]:
    messenger = RecordingMessenger()
    pipeline = Pipeline(
        fetcher=Fetcher(client),
        store=store,
        matcher=matcher,
        messenger=messenger,
        clock=clock,
        rng=random.Random(7),
        max_backoff=3600,
    )
    return pipeline, messenger


def source(server: FeedServer, path: str, sid: str = "s1", interval: float = 60) -> Source:
    return Source(id=sid, name=f"Outlet {sid}", url=server.url(path), interval=interval)


async def test_first_sight_stores_without_announcing_then_new_items_are_announced_once(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    clock = Clock()
    pipeline, messenger = make_pipeline(store, client, matcher, clock)
    src = source(feed_server, "/feed.xml")
    await store.sync_sources([src])
    backlog = [
        item(1, title="Baku and Tehran agree on bus route"),
        item(2, title="Weather in Paris"),
    ]
    feed_server.put("/feed.xml", rss(backlog))

    first = await pipeline.run_source(src)
    assert (first.outcome, first.first_sight, first.new_items) == ("new", True, 2)
    assert messenger.announced == []
    assert [s.item.title for s in await store.latest(10)] == ["Baku and Tehran agree on bus route"]

    clock.now += timedelta(minutes=5)
    feed_server.put("/feed.xml", rss([item(3, title=FLAGGED), item(4, title="Football"), *backlog]))
    second = await pipeline.run_source(src)
    assert (second.outcome, second.new_items, second.flagged) == ("new", 2, 1)
    assert [s.item.title for s in messenger.announced] == [FLAGGED]
    announced = messenger.announced[0]
    assert announced.source_name == "Outlet s1"
    assert announced.topics == ("azerbaijan-iran",)

    # The same feed again: a 304 from the server, nothing new, nothing announced twice.
    third = await pipeline.run_source(src)
    assert third.outcome == "not-modified"
    assert len(messenger.announced) == 1


async def test_an_updated_or_reserved_item_is_not_announced_again(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    pipeline, messenger = make_pipeline(store, client, matcher, Clock())
    src = source(feed_server, "/f.xml")
    await store.sync_sources([src])
    feed_server.put("/f.xml", rss([item(1)]))
    await pipeline.run_source(src)
    feed_server.put("/f.xml", rss([item(2, title=FLAGGED), item(1)]))
    await pipeline.run_source(src)
    edited = item(2, title=FLAGGED + " (updated)", description="Corrected text.")
    feed_server.put("/f.xml", rss([edited, item(1)]))
    report = await pipeline.run_source(src)
    assert report.new_items == 0
    assert [s.item.title for s in messenger.announced] == [FLAGGED]


async def test_a_body_identical_to_the_last_one_is_not_parsed_again(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    pipeline, _ = make_pipeline(store, client, matcher, Clock())
    src = source(feed_server, "/nv.xml")
    await store.sync_sources([src])
    # No ETag or Last-Modified: the server always answers 200 with the full body.
    feed_server.put("/nv.xml", rss([item(1)]), validators=False)
    assert (await pipeline.run_source(src)).outcome == "new"
    assert (await pipeline.run_source(src)).outcome == "unchanged"


async def test_one_failing_source_does_not_stop_the_others(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    pipeline, _ = make_pipeline(store, client, matcher, Clock())
    good = source(feed_server, "/good.xml", "good")
    broken = source(feed_server, "/broken.xml", "broken")
    html = source(feed_server, "/page.xml", "html")
    await store.sync_sources([good, broken, html])
    feed_server.put("/good.xml", rss([item(1, title=FLAGGED)]))
    feed_server.fail("/broken.xml", 500)
    feed_server.put(
        "/page.xml",
        b"<!doctype html><html><body>Just a moment...</body></html>",
        content_type="text/html",
    )
    reports = {r.source_id: r for r in await pipeline.run_all([broken, good, html])}
    assert reports["good"].outcome == "new"
    assert reports["broken"].outcome == "failed"
    assert reports["broken"].http_status == 500
    assert reports["html"].outcome == "failed"
    assert reports["html"].error is not None
    assert "HTML" in reports["html"].error
    state = await store.states.source_state("broken")
    assert state.consecutive_failures == 1
    assert state.last_error is not None
    assert [s.item.title for s in await store.latest(5)] == [FLAGGED]


async def test_failures_back_off_exponentially_and_honour_retry_after(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    clock = Clock()
    pipeline, _ = make_pipeline(store, client, matcher, clock)
    src = source(feed_server, "/down.xml", interval=60)
    await store.sync_sources([src])
    feed_server.fail("/down.xml", 503)
    delays = []
    for _ in range(3):
        report = await pipeline.run_source(src)
        delays.append((report.next_poll - clock.now).total_seconds())
    assert delays == [60, 120, 240]
    feed_server.fail("/down.xml", 429, retry_after=3000)
    report = await pipeline.run_source(src)
    assert (report.next_poll - clock.now).total_seconds() == 3000
    assert (await store.states.source_state(src.id)).consecutive_failures == 4

    feed_server.clear_faults("/down.xml")
    feed_server.put("/down.xml", rss([item(1)]))
    ok = await pipeline.run_source(src)
    assert ok.outcome == "new"
    assert (await store.states.source_state(src.id)).consecutive_failures == 0
    assert 54 <= (ok.next_poll - clock.now).total_seconds() <= 66  # interval ± 10% jitter


@pytest.mark.parametrize(
    ("failures", "retry_after", "permanent", "expected"),
    [
        (0, None, False, 60),
        (3, None, False, 480),
        (30, None, False, 3600),  # capped
        (0, 900.0, False, 900),  # Retry-After above the curve wins
        (0, 10.0, False, 60),  # ... but never shortens it
        (0, None, True, 240),  # permanent errors start further up
        (0, 10**9, False, 86400),  # an absurd Retry-After is capped at a day
    ],
)
def test_backoff_delay(
    failures: int, retry_after: float | None, permanent: bool, expected: float
) -> None:
    assert (
        backoff_delay(60, failures, retry_after=retry_after, max_backoff=3600, permanent=permanent)
        == expected
    )


async def test_a_hostile_feed_is_a_per_source_failure(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    pipeline, _ = make_pipeline(store, client, matcher, Clock())
    bomb = source(feed_server, "/bomb.xml", "bomb")
    good = source(feed_server, "/ok.xml", "ok")
    await store.sync_sources([bomb, good])
    feed_server.put("/bomb.xml", (REPO / "tests/fixtures/feeds/billion_laughs.xml").read_bytes())
    feed_server.put(
        "/ok.xml", rss([FeedItem(title="Tehran–Baku flights resume", link="https://x.az/1")])
    )
    reports = {r.source_id: r for r in await pipeline.run_all([bomb, good])}
    assert reports["ok"].outcome == "new"
    # The bomb either fails cleanly or yields its harmless items; it never expands.
    assert reports["bomb"].outcome in {"failed", "new"}
    for stored in await store.latest(10):
        assert len(stored.item.title) < 1000


async def test_run_all_keeps_at_most_max_running_sources_in_flight(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    pipeline = Pipeline(
        fetcher=Fetcher(client, max_connections=10, per_host=10),
        store=store,
        matcher=matcher,
        messenger=RecordingMessenger(),
        clock=Clock(),
        max_running=2,
    )
    sources = [source(feed_server, f"/slow{n}.xml", f"slow{n}") for n in range(6)]
    await store.sync_sources(sources)
    for n in range(6):
        feed_server.put(f"/slow{n}.xml", rss([item(n)]))
        feed_server.delay(f"/slow{n}.xml", 0.2)  # the server holds each answer, so runs overlap
    reports = await pipeline.run_all(sources)
    assert [r.outcome for r in reports] == ["new"] * 6
    assert feed_server.peak_in_flight() == 2
