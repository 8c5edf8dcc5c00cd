"""Outlets without a feed through the whole pipeline over loopback: Telegram channel previews,
listing pages read with selectors, news sitemaps and JSON Feed, as the feed server serves them.

For each kind: the first fetch is stored and not announced; a new relevant item is announced
once and an irrelevant one not; 304 (ETag) ends a run before parsing; a changed page holding the
same items yields nothing new. Then the hostile pages: bounded, one error line, others unharmed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from bot.feeds.fetch import Fetcher
from bot.models import Selectors, Source
from bot.polling.pipeline import Pipeline
from bot.storage.items import Store
from bot.topics.matcher import Matcher
from tests.feeds.build import item, rss
from tests.feeds.outlets import (
    LISTING_SELECTORS,
    Post,
    Story,
    channel,
    iso,
    json_feed,
    listing,
    news_sitemap,
    post,
    story,
)
from tests.polling.test_pipeline import Clock, RecordingMessenger, make_pipeline
from tests.servers import FeedServer

FLAGGED = "Azerbaijan and Iran sign a new transit deal"
IRRELEVANT = "Football: the league starts on Sunday"


def _channel(entries: list[tuple[int, str]], banner: str = "") -> bytes:
    posts: list[Post] = [post(n, text) for n, text in entries]
    body = channel(posts)
    return body.replace(b"</main>", f"<aside>{banner}</aside></main>".encode()) if banner else body


def _listing(entries: list[tuple[int, str]], banner: str = "") -> bytes:
    return listing([story(n, text) for n, text in entries], banner=banner)


def _sitemap(entries: list[tuple[int, str]], banner: str = "") -> bytes:
    stories: list[Story] = [story(n, text, date=iso(n)) for n, text in entries]
    return news_sitemap(stories).replace(b"</urlset>", f"<!-- {banner} --></urlset>".encode())


def _json(entries: list[tuple[int, str]], banner: str = "") -> bytes:
    return json_feed([story(n, text, date=iso(n)) for n, text in entries], title=f"Outlet {banner}")


KINDS: dict[str, tuple[str, Callable[..., bytes], str, Selectors | None]] = {
    "telegram": ("text/html; charset=utf-8", _channel, "telegram", None),
    "html": ("text/html; charset=utf-8", _listing, "html", Selectors(**LISTING_SELECTORS)),
    "sitemap": ("application/xml", _sitemap, "sitemap", None),
    "jsonfeed": ("application/feed+json", _json, "feed", None),
}


def outlet(server: FeedServer, name: str, kind: str, selectors: Selectors | None) -> Source:
    return Source(
        id=name,
        name=f"Outlet {name}",
        url=server.url(f"/{name}"),
        interval=60,
        kind=kind,  # type: ignore[arg-type]
        selectors=selectors,
        fetch_article="never",
    )


@pytest.mark.parametrize("name", list(KINDS))
async def test_an_outlet_is_polled_like_a_feed(
    name: str, feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    content_type, build, kind, selectors = KINDS[name]
    clock = Clock()
    pipeline, messenger = make_pipeline(store, client, matcher, clock)
    src = outlet(feed_server, name, kind, selectors)
    await store.sync_sources([src])
    backlog = [(1, "Baku and Tehran agree on a bus route"), (2, "Weather in Paris")]
    feed_server.put(f"/{name}", build(backlog), content_type=content_type)

    first = await pipeline.run_source(src)
    assert (first.outcome, first.first_sight, first.new_items) == ("new", True, 2), first.error
    assert messenger.announced == []

    clock.now += timedelta(minutes=5)
    feed_server.put(
        f"/{name}", build([*backlog, (3, FLAGGED), (4, IRRELEVANT)]), content_type=content_type
    )
    second = await pipeline.run_source(src)
    assert (second.outcome, second.new_items, second.flagged) == ("new", 2, 1)
    assert [s.item.title for s in messenger.announced] == [FLAGGED]
    assert messenger.announced[0].source_name == f"Outlet {name}"

    # Unchanged: the server's ETag answers 304 and nothing is parsed or announced.
    third = await pipeline.run_source(src)
    assert third.outcome == "not-modified"
    assert "if-none-match" in feed_server.requests(f"/{name}")[-1].headers

    # A changed page that holds the same items: parsed, nothing new, nothing announced again.
    feed_server.put(
        f"/{name}",
        build([*backlog, (3, FLAGGED), (4, IRRELEVANT)], banner="Breaking: new layout"),
        content_type=content_type,
    )
    fourth = await pipeline.run_source(src)
    assert (fourth.outcome, fourth.new_items) == ("new", 0)
    assert [s.item.title for s in messenger.announced] == [FLAGGED]


async def test_an_unchanged_page_without_validators_is_not_parsed_again(
    feed_server: FeedServer, store: Store, client: httpx.AsyncClient, matcher: Matcher
) -> None:
    pipeline, _ = make_pipeline(store, client, matcher, Clock())
    src = outlet(feed_server, "tg", "telegram", None)
    await store.sync_sources([src])
    feed_server.put("/tg", _channel([(1, "Hello")]), content_type="text/html", validators=False)
    assert (await pipeline.run_source(src)).outcome == "new"
    assert (await pipeline.run_source(src)).outcome == "unchanged"


def _nested() -> bytes:
    return b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000 + b"</body></html>"


def _attributes() -> bytes:
    names = b" ".join(b"a%d" % i for i in range(1_000_000))
    return b"<html><body><div class='tgme_widget_message' " + names + b">x</div></body></html>"


@pytest.mark.parametrize(
    ("body", "max_bytes", "error"),
    [
        (b"<html><body>" + b"<p>news</p>" * 5_000_000, 5_000_000, "response larger than 5 MB"),
        (b"<html><body>" + b"x" * 50_000_000, 100_000_000, "page too large"),
        (_nested(), 5_000_000, "no tgme_widget_message found"),
        (_attributes(), 10_000_000, "a tag with 1000001 attributes, limit 1000"),
    ],
    ids=["50MB-fetch-cap", "50MB-parse-cap", "100k-nested", "1M-attributes"],
)
async def test_a_hostile_page_fails_its_source_alone_with_one_line(
    body: bytes,
    max_bytes: int,
    error: str,
    feed_server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
    matcher: Matcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pipeline = Pipeline(
        fetcher=Fetcher(client, max_bytes=max_bytes),
        store=store,
        matcher=matcher,
        messenger=RecordingMessenger(),
        clock=Clock(),
    )
    hostile = outlet(feed_server, "hostile", "telegram", None)
    good_channel = outlet(feed_server, "good-tg", "telegram", None)
    good_feed = Source(id="feed", name="Feed", url=feed_server.url("/f.xml"), interval=60)
    await store.sync_sources([hostile, good_channel, good_feed])
    feed_server.put("/hostile", body, content_type="text/html")
    feed_server.put("/good-tg", _channel([(1, FLAGGED)]), content_type="text/html")
    feed_server.put("/f.xml", rss([item(1, title=FLAGGED)]))
    with caplog.at_level(logging.WARNING, logger="bot.polling.pipeline"):
        reports = {
            r.source_id: r for r in await pipeline.run_all([hostile, good_channel, good_feed])
        }
    assert reports["good-tg"].outcome == "new"
    assert reports["feed"].outcome == "new"
    assert reports["hostile"].outcome == "failed"
    assert error in (reports["hostile"].error or "")
    lines = [r.getMessage() for r in caplog.records if "source=hostile" in r.getMessage()]
    assert len(lines) == 1
    assert "\n" not in lines[0]
