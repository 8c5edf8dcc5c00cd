"""The summary step in the pipeline, end to end over loopback: feed and article pages on the feed
server, a real store, the real article fetcher; the announced items carry the review summary."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.feeds.article import ArticleFetcher
from bot.feeds.fetch import Fetcher
from bot.models import Source
from bot.polling.pipeline import Pipeline
from bot.polling.summaries import Summaries, wants_article
from bot.storage.items import Store
from bot.text.formatting import format_console, format_telegram
from bot.topics.matcher import Matcher
from tests.feeds.build import item, rss
from tests.polling.test_pipeline import Clock, RecordingMessenger
from tests.servers import FeedServer

PAGES = Path(__file__).parents[1] / "fixtures" / "articles"
TEASER = "Azerbaijan and Iran sign a bridge deal."
LEAD = "BAKU, Nov 27 (Reuters) - Azerbaijan and Iran signed an agreement on Thursday"


def setup(
    server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
    matcher: Matcher,
    *,
    mode: Literal["never", "short", "always"] = "short",
    allow_private: bool = True,
    timeout: float = 5.0,
    limit: int = 300,
) -> tuple[Pipeline, RecordingMessenger, Source, Clock]:
    fetcher = Fetcher(client)
    summaries = Summaries(
        articles=ArticleFetcher(fetcher, timeout=timeout, allow_private=allow_private),
        limit=limit,
        timeout=timeout,
    )
    messenger, clock = RecordingMessenger(), Clock()
    pipeline = Pipeline(
        fetcher=fetcher,
        store=store,
        matcher=matcher,
        messenger=messenger,
        clock=clock,
        rng=random.Random(1),
        summaries=summaries,
    )
    src = Source("s1", "Outlet", server.url("/feed.xml"), 60, fetch_article=mode)
    return pipeline, messenger, src, clock


async def first_sight_then_news(
    server: FeedServer, store: Store, pipeline: Pipeline, src: Source, clock: Clock, **news: str
) -> None:
    await store.sync_sources([src])
    server.put("/feed.xml", rss([item(1, title="Weather in Paris")]))
    await pipeline.run_source(src)
    clock.now += timedelta(minutes=5)
    fresh = {"title": "Azerbaijan, Iran sign Astara bridge deal", "description": TEASER}
    fresh.update(news)
    server.put("/feed.xml", rss([item(2, link=server.url("/news/bridge"), **fresh)]))
    await pipeline.run_source(src)


async def test_a_short_teaser_is_replaced_by_a_summary_of_the_article(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    feed_server.put(
        "/news/bridge", (PAGES / "en-article.html").read_bytes(), content_type="text/html"
    )
    pipeline, messenger, src, clock = setup(feed_server, store, client, matcher, limit=450)
    await first_sight_then_news(feed_server, store, pipeline, src, clock)

    [announced] = messenger.announced
    summary = announced.review_summary
    assert summary is not None
    assert summary.startswith(LEAD)
    assert len(summary) <= 450
    # The next sentence with a matched term (Iranian) fits; the one after would not.
    assert "The bridge, expected to cost about $25.5 million" in summary
    assert "historic day" not in summary
    assert "Share on X" not in summary
    assert feed_server.request_count("/news/bridge") == 1
    # Stored with the item: `latest`, the outbox and a restart see the same summary.
    [latest] = await store.latest(5)
    assert latest.review_summary == summary
    message = format_telegram(announced, topic_names={}, tz=ZoneInfo("UTC"))
    assert LEAD in message
    assert TEASER not in message
    assert summary[:60] in format_console(announced, topic_names={}, tz=ZoneInfo("UTC"))


async def test_a_refused_link_falls_back_to_the_feed_text_and_is_logged_once(
    feed_server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
    matcher: Matcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed_server.put(
        "/news/bridge", (PAGES / "en-article.html").read_bytes(), content_type="text/html"
    )
    pipeline, messenger, src, clock = setup(
        feed_server, store, client, matcher, allow_private=False
    )
    with caplog.at_level(logging.DEBUG, logger="bot.polling.summaries"):
        await first_sight_then_news(feed_server, store, pipeline, src, clock)
        clock.now += timedelta(minutes=5)
        feed_server.put(
            "/feed.xml",
            rss(
                [item(3, title="Baku and Tehran talk trade", link=feed_server.url("/news/bridge"))]
            ),
        )
        await pipeline.run_source(src)
    assert [m.review_summary for m in messenger.announced] == [TEASER, "Text of item 3."]
    assert feed_server.request_count("/news/bridge") == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "loopback" in warnings[0].getMessage()
    assert "source=s1" in warnings[0].getMessage()


@pytest.mark.parametrize(
    ("setup_page", "limit_s"),
    [
        (lambda s: s.fail("/news/bridge", 404), 5.0),
        (
            lambda s: s.put(
                "/news/bridge", (PAGES / "front-page.html").read_bytes(), content_type="text/html"
            ),
            5.0,
        ),
        (
            lambda s: (
                s.put(
                    "/news/bridge",
                    (PAGES / "en-article.html").read_bytes(),
                    content_type="text/html",
                ),
                s.delay("/news/bridge", 10),
            ),
            0.3,
        ),
    ],
    ids=["404", "not-an-article", "too-slow"],
)
async def test_a_failed_article_falls_back_to_the_feed_text(
    feed_server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
    matcher: Matcher,
    setup_page,
    limit_s: float,
) -> None:
    setup_page(feed_server)
    pipeline, messenger, src, clock = setup(feed_server, store, client, matcher, timeout=limit_s)
    await first_sight_then_news(feed_server, store, pipeline, src, clock)
    [announced] = messenger.announced
    assert announced.review_summary == TEASER


@pytest.mark.parametrize(
    ("mode", "description", "fetched"),
    [
        ("never", TEASER, 0),
        ("short", TEASER, 1),
        ("short", "Azerbaijan and Iran talk. " * 10, 0),
        ("always", "Azerbaijan and Iran talk. " * 10, 1),
    ],
)
async def test_fetch_article_mode_decides_whether_the_page_is_fetched(
    feed_server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
    matcher: Matcher,
    mode: Literal["never", "short", "always"],
    description: str,
    fetched: int,
) -> None:
    feed_server.put(
        "/news/bridge", (PAGES / "en-article.html").read_bytes(), content_type="text/html"
    )
    pipeline, messenger, src, clock = setup(feed_server, store, client, matcher, mode=mode)
    await first_sight_then_news(feed_server, store, pipeline, src, clock, description=description)
    assert feed_server.request_count("/news/bridge") == fetched
    [announced] = messenger.announced
    assert announced.review_summary is not None
    assert announced.review_summary.startswith(LEAD) == bool(fetched)


async def test_items_already_stored_are_not_fetched_again_after_a_restart(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    feed_server.put(
        "/news/bridge", (PAGES / "en-article.html").read_bytes(), content_type="text/html"
    )
    pipeline, _, src, clock = setup(feed_server, store, client, matcher)
    await first_sight_then_news(feed_server, store, pipeline, src, clock)
    assert feed_server.request_count("/news/bridge") == 1
    # A new process (a new pipeline, no memory of the last run) sees the item again.
    restarted, messenger, _, _ = setup(feed_server, store, client, matcher)
    feed_server.put(
        "/feed.xml",
        rss(
            [
                item(
                    2,
                    title="Azerbaijan, Iran sign Astara bridge deal",
                    link=feed_server.url("/news/bridge"),
                    description=TEASER,
                ),
                item(5, title="Football"),
            ]
        ),
    )
    await restarted.run_source(src)
    assert feed_server.request_count("/news/bridge") == 1
    assert messenger.announced == []


def test_wants_article() -> None:
    assert not wants_article("never", "")
    assert wants_article("always", "x" * 1000)
    assert wants_article("short", "<p>" + "x" * 150 + "</p>" + " " * 100)
    assert not wants_article("short", "x" * 200)
