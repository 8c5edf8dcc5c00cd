"""Article pages over real HTTP (the loopback feed server): fetching, caps, and refused links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.errors import FetchError, PermanentFetchError, TransientFetchError
from bot.feeds.article import ArticleFetcher, LinkRefused, non_public
from bot.feeds.fetch import Fetcher, make_client
from tests.servers import FeedServer

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
HTML = "text/html; charset=utf-8"
PUBLIC = "93.184.216.34"  # what the fake resolver says a name stands for


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with make_client(timeout=5.0, connect_timeout=5.0) as client:
        yield Fetcher(client, max_bytes=200_000)


async def public_resolver(host: str, port: int) -> list[str]:
    """A DNS that says every name is public (so a test can reach the loopback server by name)."""
    return [PUBLIC]


def serve_article(server: FeedServer, path: str = "/news/bridge") -> str:
    server.put(path, (PAGES / "en-article.html").read_bytes(), content_type=HTML)
    return server.url(path)


async def test_article_is_fetched_and_extracted_when_private_urls_are_allowed(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = serve_article(feed_server)
    feed_server.redirect("/short/1", "/news/bridge", status=301)
    articles = ArticleFetcher(fetcher, timeout=5.0, allow_private=True)
    article = await articles.article(feed_server.url("/short/1"))
    assert article is not None
    assert article.title == "Azerbaijan, Iran sign deal on Astara road bridge"
    assert feed_server.request_count("/news/bridge") == 1
    assert url.endswith("/news/bridge")


async def test_windows_1251_page_is_decoded_by_its_http_header(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    body = (PAGES / "ru-cp1251.html").read_bytes().replace(b"windows-1251", b"x-unknown")
    feed_server.put("/ru", body, content_type="text/html; charset=windows-1251")
    article = await ArticleFetcher(fetcher, allow_private=True).article(feed_server.url("/ru"))
    assert article is not None
    assert article.title == "Алиев обсудил с Арагчи мост через Астару"


async def test_a_page_without_an_article_gives_none(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.put("/", (PAGES / "front-page.html").read_bytes(), content_type=HTML)
    assert await ArticleFetcher(fetcher, allow_private=True).article(feed_server.url("/")) is None


@pytest.mark.parametrize(
    ("setup", "error", "reason"),
    [
        (lambda s: s.fail("/p", 404), PermanentFetchError, "HTTP 404"),
        (lambda s: s.fail("/p", 503), TransientFetchError, "HTTP 503"),
        (
            lambda s: s.put("/p", b"%PDF-1.4", content_type="application/pdf"),
            PermanentFetchError,
            "not a web page",
        ),
        (
            lambda s: s.put("/p", b"<p>" + b"x" * 300_000, content_type=HTML),
            PermanentFetchError,
            "larger than",
        ),
        (lambda s: s.redirect("/p", "/p"), PermanentFetchError, "redirect"),
    ],
    ids=["404", "503", "pdf", "too-big", "loop"],
)
async def test_fetch_failures_are_fetch_errors(
    feed_server: FeedServer, fetcher: Fetcher, setup, error, reason
) -> None:
    setup(feed_server)
    with pytest.raises(error, match=reason):
        await ArticleFetcher(fetcher, allow_private=True).article(feed_server.url("/p"))


async def test_a_slow_page_fails_within_the_timeout(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    serve_article(feed_server, "/slow")
    feed_server.delay("/slow", 5.0)
    with pytest.raises(TransientFetchError, match="timed out"):
        await ArticleFetcher(fetcher, timeout=0.3, allow_private=True).article(
            feed_server.url("/slow")
        )


async def test_a_private_ip_literal_is_refused_without_a_request(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = serve_article(feed_server)
    with pytest.raises(LinkRefused, match="loopback"):
        await ArticleFetcher(fetcher).article(url)
    assert feed_server.request_count("/news/bridge") == 0


async def test_a_hostname_resolving_to_loopback_is_refused(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    serve_article(feed_server)
    # The real resolver (the event loop's getaddrinfo): localhost is 127.0.0.1 or ::1.
    with pytest.raises(LinkRefused, match=r"localhost is a loopback address"):
        await ArticleFetcher(fetcher).article(feed_server.url("/news/bridge", host="localhost"))
    assert feed_server.request_count("/news/bridge") == 0


async def test_a_redirect_to_a_private_address_is_refused_at_that_hop(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    serve_article(feed_server)
    feed_server.redirect("/go", feed_server.url("/news/bridge"))  # an absolute 127.0.0.1 URL
    articles = ArticleFetcher(fetcher, resolver=public_resolver)
    with pytest.raises(LinkRefused, match=r"127\.0\.0\.1 is a loopback address"):
        await articles.article(feed_server.url("/go", host="localhost"))
    assert feed_server.request_count("/go") == 1
    assert feed_server.request_count("/news/bridge") == 0


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/a", "file:///etc/passwd", "gopher://example.com/", "//example.com/a"],
)
async def test_non_http_links_are_refused(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(FetchError):
        await ArticleFetcher(fetcher, allow_private=True).article(url)


async def test_a_name_that_does_not_resolve_is_refused(fetcher: Fetcher) -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")

    with pytest.raises(LinkRefused, match="cannot resolve"):
        await ArticleFetcher(fetcher, resolver=no_dns).check(httpx.URL("http://nowhere.invalid/"))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),
        ("fd00::1", "private"),
        ("8.8.8.8", None),
        ("2a00:1450:4001::1", None),
    ],
)
def test_non_public(address: str, reason: str | None) -> None:
    assert non_public(address) == reason
