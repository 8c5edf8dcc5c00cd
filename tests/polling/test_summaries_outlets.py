"""Review summaries of outlets without a feed: a Telegram post's first outbound link and a news
sitemap's link are read as the article (through the article client's SSRF rules); a post that
links nowhere is summarized from its own text, and its t.me page is never fetched."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import httpx

from bot.feeds.article import ArticleFetcher
from bot.feeds.fetch import Fetcher
from bot.models import Source
from bot.polling.pipeline import Pipeline
from bot.polling.summaries import Summaries
from bot.storage.items import Store
from bot.topics.matcher import Matcher
from tests.feeds.outlets import channel, iso, news_sitemap, post, story
from tests.polling.test_pipeline import Clock, RecordingMessenger
from tests.servers import FeedServer

PAGES = Path(__file__).parents[1] / "fixtures" / "articles"
LEAD = "BAKU, Nov 27 (Reuters) - Azerbaijan and Iran signed an agreement on Thursday"
TITLE = "Azerbaijan, Iran sign Astara bridge deal"


def setup(
    server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
    matcher: Matcher,
    source: Source,
    *,
    allow_private: bool,
) -> tuple[Pipeline, RecordingMessenger, Clock]:
    fetcher = Fetcher(client)
    summaries = Summaries(
        articles=ArticleFetcher(fetcher, timeout=5.0, allow_private=allow_private), limit=450
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
    return pipeline, messenger, clock


async def two_polls(
    server: FeedServer,
    store: Store,
    pipeline: Pipeline,
    src: Source,
    clock: Clock,
    first: bytes,
    second: bytes,
    content_type: str,
) -> None:
    await store.sync_sources([src])
    server.put("/outlet", first, content_type=content_type)
    await pipeline.run_source(src)
    clock.now += timedelta(minutes=5)
    server.put("/outlet", second, content_type=content_type)
    await pipeline.run_source(src)


async def test_a_posts_outbound_link_is_the_article_it_is_summarized_from(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    feed_server.put(
        "/news/bridge", (PAGES / "en-article.html").read_bytes(), content_type="text/html"
    )
    src = Source("tg", "Agency", feed_server.url("/outlet"), 60, kind="telegram")
    pipeline, messenger, clock = setup(feed_server, store, client, matcher, src, allow_private=True)
    link = feed_server.url("/news/bridge")
    news = post(2, f'{TITLE}\n<a href="{link}">Read more</a>')
    await two_polls(
        feed_server,
        store,
        pipeline,
        src,
        clock,
        channel([post(1, "Hello")]),
        channel([post(1, "Hello"), news]),
        "text/html",
    )
    [announced] = messenger.announced
    assert announced.item.url == "https://t.me/azertac/2"  # the post stays the link
    assert (announced.review_summary or "").startswith(LEAD)
    assert feed_server.request_count("/news/bridge") == 1


async def test_a_post_linking_to_an_internal_address_is_refused_and_its_text_summarized(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    feed_server.put(
        "/news/bridge", (PAGES / "en-article.html").read_bytes(), content_type="text/html"
    )
    src = Source("tg", "Agency", feed_server.url("/outlet"), 60, kind="telegram")
    pipeline, messenger, clock = setup(
        feed_server, store, client, matcher, src, allow_private=False
    )
    news = post(
        2, f'{TITLE}\nTalks went well. <a href="{feed_server.url("/news/bridge")}">Read</a>'
    )
    await two_polls(
        feed_server,
        store,
        pipeline,
        src,
        clock,
        channel([post(1, "Hello")]),
        channel([post(1, "Hello"), news]),
        "text/html",
    )
    [announced] = messenger.announced
    assert feed_server.request_count("/news/bridge") == 0  # loopback: refused before connecting
    assert announced.review_summary == "Talks went well."


async def test_a_post_without_a_link_fetches_no_page(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    src = Source(
        "tg", "Agency", feed_server.url("/outlet"), 60, kind="telegram", fetch_article="always"
    )
    pipeline, messenger, clock = setup(feed_server, store, client, matcher, src, allow_private=True)
    news = post(2, f"{TITLE}\nThe ministers met in Baku.")
    await two_polls(
        feed_server,
        store,
        pipeline,
        src,
        clock,
        channel([post(1, "Hello")]),
        channel([post(1, "Hello"), news]),
        "text/html",
    )
    [announced] = messenger.announced
    assert announced.review_summary == "The ministers met in Baku."
    assert [r.path for r in feed_server.requests()] == ["/outlet", "/outlet"]


async def test_a_news_sitemap_item_is_summarized_from_its_article(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    feed_server.put("/news/2", (PAGES / "en-article.html").read_bytes(), content_type="text/html")
    src = Source("sm", "Outlet", feed_server.url("/outlet"), 60, kind="sitemap")
    pipeline, messenger, clock = setup(feed_server, store, client, matcher, src, allow_private=True)
    base = feed_server.url("").rstrip("/")
    first = news_sitemap([story(1, "Weather", date=iso(1))], base=base)
    second = news_sitemap(
        [story(1, "Weather", date=iso(1)), story(2, TITLE, date=iso(2))], base=base
    )
    await two_polls(feed_server, store, pipeline, src, clock, first, second, "application/xml")
    [announced] = messenger.announced
    assert announced.item.summary == ""
    assert (announced.review_summary or "").startswith(LEAD)
