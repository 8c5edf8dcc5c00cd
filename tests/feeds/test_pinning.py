"""The article client connects only to addresses it has checked itself (DNS rebinding), over real
loopback HTTP; the names are answered by a resolver the test controls, never by a real DNS."""

from __future__ import annotations

import httpx
import pytest

from bot.errors import TransientFetchError
from bot.feeds.article import ArticleFetcher, article_client, non_public
from bot.feeds.fetch import Fetcher, make_client
from tests.feeds.test_article import PUBLIC, public_resolver, serve_article
from tests.servers import FeedServer


class FakeDns:
    """A DNS that knows only `answers`, and records the names it was asked for."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return self.answers[host]


async def test_a_name_that_rebinds_to_loopback_after_the_check_reaches_nothing(
    feed_server: FeedServer,
) -> None:
    serve_article(feed_server)
    # The check sees a public address; at connect time the same name answers loopback.
    rebinding = FakeDns({"news.example": ["127.0.0.1"]})
    async with article_client(timeout=5.0, allow_private=False, resolve=rebinding) as client:
        articles = ArticleFetcher(Fetcher(client), resolver=public_resolver)
        with pytest.raises(TransientFetchError, match=r"news\.example is a loopback address"):
            await articles.article(feed_server.url("/news/bridge", host="news.example"))
    assert rebinding.asked == ["news.example"]
    assert feed_server.request_count("/news/bridge") == 0


@pytest.mark.parametrize("answer", [["127.0.0.1"], [PUBLIC, "10.0.0.7"], ["::ffff:127.0.0.1"]])
async def test_any_non_public_address_of_a_name_refuses_the_connection(
    feed_server: FeedServer, answer: list[str]
) -> None:
    serve_article(feed_server)
    guarded = FakeDns({"news.example": answer})
    async with make_client(timeout=5.0, admit=non_public, resolve=guarded) as client:
        with pytest.raises(httpx.ConnectError, match="refused"):
            await client.get(feed_server.url("/news/bridge", host="news.example"))
    assert feed_server.request_count("/news/bridge") == 0


async def test_a_literal_private_address_is_refused_at_connect(feed_server: FeedServer) -> None:
    serve_article(feed_server)
    async with article_client(timeout=5.0, allow_private=False) as client:
        with pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1 is a loopback address"):
            await client.get(feed_server.url("/news/bridge"))
    assert feed_server.request_count("/news/bridge") == 0


async def test_the_connection_goes_to_the_checked_address_under_the_original_name(
    feed_server: FeedServer,
) -> None:
    serve_article(feed_server)
    # "pinned.example" exists only in this resolver: the request can reach the loopback server
    # only through the address the backend resolved and admitted.
    pinned = FakeDns({"pinned.example": ["127.0.0.1"]})
    async with make_client(timeout=5.0, admit=lambda address: None, resolve=pinned) as client:
        response = await client.get(feed_server.url("/news/bridge", host="pinned.example"))
    assert response.status_code == 200
    assert [r.host for r in feed_server.requests("/news/bridge")] == ["pinned.example"]
    assert pinned.asked == ["pinned.example"]


async def test_private_urls_allowed_means_no_connect_time_policy(feed_server: FeedServer) -> None:
    serve_article(feed_server)
    async with article_client(timeout=5.0, allow_private=True) as client:
        articles = ArticleFetcher(Fetcher(client), allow_private=True)
        article = await articles.article(feed_server.url("/news/bridge"))
    assert article is not None
    assert feed_server.request_count("/news/bridge") == 1
