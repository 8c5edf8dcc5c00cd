"""probe_feed against the loopback feed server: what a feed holds, or exactly why it is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import ParseError, PermanentFetchError, TransientFetchError
from bot.feeds.fetch import Fetcher, make_client
from bot.operator.probe import Probe, probe_feed
from tests.feeds.build import atom, item, rss
from tests.servers import FeedServer

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    client = make_client(timeout=0.5, connect_timeout=0.5)
    try:
        yield Fetcher(client, max_bytes=200_000, deadline=2.0)
    finally:
        await client.aclose()


@pytest.mark.parametrize("build", [rss, atom])
async def test_a_feed_gives_its_title_item_count_and_newest_item(
    fetcher: Fetcher, feed_server: FeedServer, build
):
    feed_server.put("/feed.xml", build([item(1), item(3), item(2)], title="Caliber"))
    probe = await probe_feed(fetcher, feed_server.url("/feed.xml"), now=NOW)
    assert (probe.title, probe.item_count, probe.newest_title) == ("Caliber", 3, "Item 3")
    assert probe.newest_published == datetime(2025, 1, 1, 12, 3, tzinfo=UTC)
    assert probe.describe() == "Caliber: 3 items, newest 'Item 3' (2025-01-01 12:03Z)"


async def test_an_empty_feed_is_accepted_with_no_newest_item(
    fetcher: Fetcher, feed_server: FeedServer
):
    feed_server.put("/empty.xml", rss([], title="Quiet"))
    probe = await probe_feed(fetcher, feed_server.url("/empty.xml"), now=NOW)
    assert probe == Probe(title="Quiet", item_count=0, newest_title=None, newest_published=None)


async def test_the_operators_user_agent_is_sent(fetcher: Fetcher, feed_server: FeedServer):
    feed_server.put("/feed.xml", rss([item(1)]))
    await probe_feed(fetcher, feed_server.url("/feed.xml"), now=NOW, user_agent="Mozilla/5.0 x")
    assert feed_server.requests("/feed.xml")[-1].headers["user-agent"] == "Mozilla/5.0 x"


async def test_an_http_error_is_refused_with_its_status(fetcher: Fetcher, feed_server: FeedServer):
    feed_server.fail("/gone.xml", 404)
    with pytest.raises(PermanentFetchError, match="HTTP 404"):
        await probe_feed(fetcher, feed_server.url("/gone.xml"), now=NOW)


async def test_an_html_page_without_a_feed_is_refused_saying_how_to_give_selectors(
    fetcher: Fetcher, feed_server: FeedServer
):
    page = b"<!doctype html><html><body>News</body></html>"
    feed_server.put("/news", page, content_type="text/html")
    with pytest.raises(ParseError, match="needs CSS selectors") as refused:
        await probe_feed(fetcher, feed_server.url("/news"), now=NOW)
    assert "config addsource ID URL --item CSS --title CSS --link CSS" in str(refused.value)


async def test_a_body_without_feed_markup_is_refused_as_not_a_feed(
    fetcher: Fetcher, feed_server: FeedServer
):
    feed_server.put("/data.json", b'{"items": []}', content_type="application/json")
    with pytest.raises(ParseError, match="not a feed"):
        await probe_feed(fetcher, feed_server.url("/data.json"), now=NOW)


async def test_a_slow_server_is_refused_as_a_timeout(fetcher: Fetcher, feed_server: FeedServer):
    feed_server.put("/slow.xml", rss([item(1)]))
    feed_server.delay("/slow.xml", 3)
    with pytest.raises(TransientFetchError, match="timed out"):
        await probe_feed(fetcher, feed_server.url("/slow.xml"), now=NOW)


async def test_an_undated_item_counts_as_seen_now_so_it_is_the_newest(
    fetcher: Fetcher, feed_server: FeedServer
):
    feed_server.put(
        "/feed.xml", rss([item(1, pub_date=None), item(2, pub_date=NOW - timedelta(days=1))])
    )
    probe = await probe_feed(fetcher, feed_server.url("/feed.xml"), now=NOW)
    assert (probe.item_count, probe.newest_title, probe.newest_published) == (2, "Item 1", NOW)
