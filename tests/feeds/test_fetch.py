"""Fetcher against a real HTTP server on loopback: validators, caps, error mapping, concurrency."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.errors import PermanentFetchError, TransientFetchError
from bot.feeds.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
    make_client,
    parse_retry_after,
    sniff_root,
)
from bot.models import Source, Validators
from tests.feeds.build import item, rss
from tests.servers import FIXTURES, FeedServer, gzip_bomb

FEED = (FIXTURES / "fetch" / "feed.xml").read_bytes()
NONE = Validators()
MB = 1_000_000


def source(url: str, **kwargs: object) -> Source:
    return Source(id="test", name="Test", url=url, interval=60, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout=5.0, connect_timeout=5.0) as c:
        yield c


@pytest.fixture
def fetcher(client: httpx.AsyncClient) -> Fetcher:
    return Fetcher(client, max_bytes=MB, deadline=10.0)


# -- success and conditional GET ---------------------------------------------------------------


async def test_200_returns_body_content_type_and_validators(feed_server: FeedServer, fetcher):
    got = await fetcher.fetch(source(feed_server.url("/fetch/feed.xml")), NONE)
    assert got.status == 200
    assert got.body == FEED
    assert got.content_type == "application/xml"
    assert got.etag
    assert got.last_modified
    assert got.url == feed_server.url("/fetch/feed.xml")
    assert got.elapsed >= 0
    assert not got.not_modified


async def test_304_round_trip_sends_both_validators_and_keeps_them(feed_server, fetcher):
    src = source(feed_server.url("/fetch/feed.xml"))
    first = await fetcher.fetch(src, NONE)
    second = await fetcher.fetch(src, Validators(first.etag, first.last_modified))
    assert second.status == 304
    assert second.not_modified
    assert second.body is None
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    seen = feed_server.requests("/fetch/feed.xml")[-1].headers
    assert seen["if-none-match"] == first.etag
    assert seen["if-modified-since"] == first.last_modified


async def test_connection_is_kept_alive_across_200_and_304(feed_server, fetcher):
    src = source(feed_server.url("/fetch/feed.xml"))
    first = await fetcher.fetch(src, NONE)
    for _ in range(3):
        assert (await fetcher.fetch(src, Validators(first.etag, first.last_modified))).status == 304
    assert feed_server.connections_opened() == 1


async def test_first_request_sends_no_validators(feed_server, fetcher):
    await fetcher.fetch(source(feed_server.url("/fetch/feed.xml")), NONE)
    seen = feed_server.requests("/fetch/feed.xml")[0].headers
    assert "if-none-match" not in seen
    assert "if-modified-since" not in seen


async def test_last_modified_alone_gets_304(feed_server, fetcher):
    src = source(feed_server.url("/fetch/feed.xml"))
    first = await fetcher.fetch(src, NONE)
    second = await fetcher.fetch(src, Validators(last_modified=first.last_modified))
    assert second.status == 304


async def test_changed_feed_gets_200_despite_old_validators(feed_server, fetcher):
    feed_server.put("/live.xml", rss([item(1)]))
    src = source(feed_server.url("/live.xml"))
    first = await fetcher.fetch(src, NONE)
    feed_server.put("/live.xml", rss([item(1), item(2)]))
    second = await fetcher.fetch(src, Validators(first.etag, first.last_modified))
    assert second.status == 200
    assert second.body == rss([item(1), item(2)])
    assert second.etag != first.etag


async def test_gzip_feed_is_decompressed(feed_server, fetcher):
    feed_server.put("/gz.xml", FEED, gzip=True)
    got = await fetcher.fetch(source(feed_server.url("/gz.xml")), NONE)
    assert got.body == FEED
    assert feed_server.bytes_sent("/gz.xml") < len(FEED)


async def test_wrong_charset_label_passes_bytes_and_label_through(feed_server, fetcher):
    body = rss([item(1, title="Азербайджан и Иран")], encoding="windows-1251")
    feed_server.put("/cp1251.xml", body, content_type="application/rss+xml; charset=utf-8")
    got = await fetcher.fetch(source(feed_server.url("/cp1251.xml")), NONE)
    assert got.body == body
    assert got.content_type == "application/rss+xml; charset=utf-8"


# -- status codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
async def test_server_errors_are_transient_with_status(feed_server, fetcher, status):
    feed_server.fail("/down.xml", status)
    with pytest.raises(TransientFetchError) as err:
        await fetcher.fetch(source(feed_server.url("/down.xml")), NONE)
    assert err.value.status == status
    assert err.value.reason.startswith(f"HTTP {status}")
    assert err.value.retry_after is None


async def test_429_with_retry_after_seconds(feed_server, fetcher):
    feed_server.fail("/busy.xml", 429, retry_after=120)
    with pytest.raises(TransientFetchError) as err:
        await fetcher.fetch(source(feed_server.url("/busy.xml")), NONE)
    assert err.value.status == 429
    assert err.value.retry_after == 120.0


async def test_503_with_retry_after_date_is_relative_to_response_date(feed_server, fetcher):
    feed_server.fail(
        "/busy.xml",
        503,
        retry_after="Wed, 21 Oct 2015 07:30:00 GMT",
        headers={"Date": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    with pytest.raises(TransientFetchError) as err:
        await fetcher.fetch(source(feed_server.url("/busy.xml")), NONE)
    assert err.value.retry_after == 120.0


@pytest.mark.parametrize("status", [404, 410, 403, 401])
async def test_client_errors_are_permanent_with_status(feed_server, fetcher, status):
    feed_server.fail("/gone.xml", status)
    with pytest.raises(PermanentFetchError) as err:
        await fetcher.fetch(source(feed_server.url("/gone.xml")), NONE)
    assert err.value.status == status
    assert isinstance(err.value.__cause__, httpx.HTTPStatusError)


async def test_missing_file_is_permanent_404(feed_server, fetcher):
    with pytest.raises(PermanentFetchError, match="HTTP 404"):
        await fetcher.fetch(source(feed_server.url("/no/such.xml")), NONE)


async def test_error_messages_carry_no_credentials_from_the_url(feed_server, fetcher):
    url = feed_server.url("/gone.xml").replace("http://", "http://user:s3cret@") + "?token=s3cret"
    with pytest.raises(PermanentFetchError) as err:
        await fetcher.fetch(source(url), NONE)
    assert "s3cret" not in str(err.value)


# -- time --------------------------------------------------------------------------------------


async def test_slow_server_times_out_as_transient(feed_server):
    feed_server.delay("/slow.xml", 30)
    feed_server.put("/slow.xml", FEED)
    async with make_client(timeout=0.2, connect_timeout=1.0) as client:
        started = time.monotonic()
        with pytest.raises(TransientFetchError, match="timed out") as err:
            await Fetcher(client).fetch(source(feed_server.url("/slow.xml")), NONE)
    assert time.monotonic() - started < 5
    assert isinstance(err.value.__cause__, httpx.ReadTimeout)


async def test_whole_exchange_has_a_deadline(feed_server, client):
    feed_server.delay("/slow.xml", 30)
    feed_server.put("/slow.xml", FEED)
    started = time.monotonic()
    with pytest.raises(TransientFetchError, match="timed out"):
        await Fetcher(client, deadline=0.2).fetch(source(feed_server.url("/slow.xml")), NONE)
    assert time.monotonic() - started < 4  # the client's own read timeout is 5 s


async def test_refused_connection_is_transient(fetcher):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientFetchError, match="connection failed") as err:
        await fetcher.fetch(source(f"http://127.0.0.1:{port}/feed.xml?key=s3cret"), NONE)
    assert "s3cret" not in str(err.value)
    assert isinstance(err.value.__cause__, httpx.ConnectError)


# -- size caps ---------------------------------------------------------------------------------


async def test_content_length_over_cap_is_refused_before_reading(feed_server, fetcher):
    feed_server.put("/big.xml", b"x" * (MB + 500_000))
    feed_server.stall("/big.xml", 0)  # headers only: a fetcher that waited for the body would hang
    with pytest.raises(PermanentFetchError, match="response larger than 1 MB"):
        await fetcher.fetch(source(feed_server.url("/big.xml")), NONE)
    assert feed_server.bytes_sent("/big.xml") == 0


async def test_streamed_body_is_cut_off_at_the_cap(feed_server, fetcher):
    feed_server.put("/big.xml", b"x" * (3 * MB), chunked=True)
    feed_server.stall("/big.xml", MB + 200_000)  # the rest never comes
    with pytest.raises(PermanentFetchError, match="response larger than 1 MB"):
        await fetcher.fetch(source(feed_server.url("/big.xml")), NONE)
    assert feed_server.bytes_sent("/big.xml") < 3 * MB


async def test_body_just_under_the_cap_is_accepted(feed_server, fetcher):
    body = rss([item(1)]).ljust(MB, b" ")
    feed_server.put("/full.xml", body, chunked=True)
    got = await fetcher.fetch(source(feed_server.url("/full.xml")), NONE)
    assert got.body == body


async def test_gzip_bomb_is_cut_off_while_decompressing(feed_server, fetcher):
    expands_to = 64 * MB
    bomb = gzip_bomb(expands_to)
    feed_server.put("/bomb.xml", bomb, headers={"Content-Encoding": "gzip"})
    # Half the compressed body already expands far past the cap; the rest is never sent, so a
    # fetcher that read to the end before counting would hang instead of raising.
    feed_server.stall("/bomb.xml", len(bomb) // 2)
    with pytest.raises(PermanentFetchError, match="response larger than 1 MB"):
        await fetcher.fetch(source(feed_server.url("/bomb.xml")), NONE)
    assert feed_server.bytes_sent("/bomb.xml") * 100 < expands_to


async def test_gzip_bomb_sent_whole_is_refused(feed_server, fetcher):
    feed_server.put("/bomb.xml", gzip_bomb(64 * MB), headers={"Content-Encoding": "gzip"})
    with pytest.raises(PermanentFetchError, match="response larger than 1 MB"):
        await fetcher.fetch(source(feed_server.url("/bomb.xml")), NONE)


# -- redirects ---------------------------------------------------------------------------------


async def test_redirect_chain_is_followed_and_final_url_reported(feed_server, fetcher):
    feed_server.redirect("/a", "/b", status=301)
    feed_server.redirect("/b", feed_server.url("/fetch/feed.xml"), status=308)
    got = await fetcher.fetch(source(feed_server.url("/a")), NONE)
    assert got.status == 200
    assert got.body == FEED
    assert got.url == feed_server.url("/fetch/feed.xml")


async def test_redirect_loop_is_permanent(feed_server, fetcher):
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", "/a")
    with pytest.raises(PermanentFetchError, match="redirect loop") as err:
        await fetcher.fetch(source(feed_server.url("/a")), NONE)
    assert isinstance(err.value.__cause__, httpx.TooManyRedirects)
    assert len(feed_server.requests()) == 6  # the first request and five redirects


async def test_five_redirects_are_allowed(feed_server, fetcher):
    for n in range(5):
        feed_server.redirect(f"/r{n}", f"/r{n + 1}")
    feed_server.redirect("/r5", "/fetch/feed.xml")
    with pytest.raises(PermanentFetchError, match="redirect"):
        await fetcher.fetch(source(feed_server.url("/r0")), NONE)  # six hops
    got = await fetcher.fetch(source(feed_server.url("/r1")), NONE)  # five hops
    assert got.body == FEED


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/feed.xml", "not a url", "http://[::1/feed"])
async def test_invalid_url_is_permanent(fetcher, url):
    with pytest.raises(PermanentFetchError, match="invalid URL"):
        await fetcher.fetch(source(url), NONE)


# -- what the body is --------------------------------------------------------------------------


async def test_html_page_instead_of_feed_is_permanent(feed_server, fetcher):
    with pytest.raises(PermanentFetchError, match="HTML page instead of a feed") as err:
        await fetcher.fetch(source(feed_server.url("/fetch/page.html")), NONE)
    assert err.value.status == 200


async def test_html_page_is_refused_whatever_its_content_type(feed_server, fetcher):
    page = (FIXTURES / "fetch" / "page.html").read_bytes()
    feed_server.put("/page.rss", page, content_type="application/rss+xml")
    with pytest.raises(PermanentFetchError, match="HTML page"):
        await fetcher.fetch(source(feed_server.url("/page.rss")), NONE)


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/plain", None])
async def test_feed_served_with_a_wrong_content_type_is_accepted(
    feed_server, fetcher, content_type
):
    feed_server.put("/odd", FEED, content_type=content_type)
    got = await fetcher.fetch(source(feed_server.url("/odd")), NONE)
    assert got.body == FEED


async def test_atom_with_leading_comment_served_as_html_is_accepted(feed_server, fetcher):
    body = (FIXTURES / "fetch" / "atom.xml").read_bytes()
    feed_server.put("/atom", body, content_type="text/html")
    assert (await fetcher.fetch(source(feed_server.url("/atom")), NONE)).body == body


# -- headers -----------------------------------------------------------------------------------


async def test_default_user_agent_names_the_bot(feed_server, fetcher):
    await fetcher.fetch(source(feed_server.url("/fetch/feed.xml")), NONE)
    agent = feed_server.requests()[0].headers["user-agent"]
    assert agent == DEFAULT_USER_AGENT
    assert agent.startswith("media-review-bot/")
    assert "+https://" in agent


async def test_source_user_agent_overrides_the_default(feed_server, fetcher):
    browser = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
    await fetcher.fetch(source(feed_server.url("/fetch/feed.xml"), user_agent=browser), NONE)
    assert feed_server.requests()[0].headers["user-agent"] == browser


async def test_accept_header_prefers_feeds(feed_server, fetcher):
    await fetcher.fetch(source(feed_server.url("/fetch/feed.xml")), NONE)
    assert feed_server.requests()[0].headers["accept"].startswith("application/rss+xml")


async def test_make_client_sets_timeouts_redirects_and_agent():
    async with make_client(timeout=7.0, connect_timeout=3.0) as client:
        assert client.timeout == httpx.Timeout(7.0, connect=3.0)
        assert client.follow_redirects is True
        assert client.max_redirects == 5
        assert client.headers["user-agent"] == DEFAULT_USER_AGENT


# -- concurrency -------------------------------------------------------------------------------

# Each answer waits 0.1 s on the server: with a broken cap every request would arrive inside
# that window, so the server's peak count would exceed the cap.


async def test_per_host_cap_is_respected(feed_server, client):
    fetcher = Fetcher(client, per_host=2, max_connections=20)
    paths = [f"/p{n}.xml" for n in range(6)]
    for path in paths:
        feed_server.put(path, FEED)
        feed_server.delay(path, 0.1)
    await asyncio.gather(*(fetcher.fetch(source(feed_server.url(p)), NONE) for p in paths))
    assert feed_server.peak_in_flight("127.0.0.1") == 2


async def test_hosts_are_capped_separately(feed_server, client):
    fetcher = Fetcher(client, per_host=1, max_connections=20)
    feed_server.put("/p.xml", FEED)
    feed_server.delay("/p.xml", 0.1)
    urls = [feed_server.url("/p.xml", host=h) for h in ("127.0.0.1", "localhost") * 3]
    await asyncio.gather(*(fetcher.fetch(source(u), NONE) for u in urls))
    assert feed_server.peak_in_flight("127.0.0.1") == 1
    assert feed_server.peak_in_flight("localhost") == 1
    assert feed_server.peak_in_flight() == 2


async def test_overall_cap_is_respected(feed_server, client):
    fetcher = Fetcher(client, per_host=10, max_connections=2)
    paths = [f"/p{n}.xml" for n in range(6)]
    for path in paths:
        feed_server.put(path, FEED)
        feed_server.delay(path, 0.1)
    await asyncio.gather(*(fetcher.fetch(source(feed_server.url(p)), NONE) for p in paths))
    assert feed_server.peak_in_flight() == 2


# -- pure helpers ------------------------------------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "now", "expected"),
    [
        ("120", None, 120.0),
        (" 7 ", None, 7.0),
        ("0", None, 0.0),
        ("Wed, 21 Oct 2015 07:30:00 GMT", NOW, 120.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", NOW, 0.0),  # in the past: retry now
        ("Wed, 21 Oct 2015 07:30:00 GMT", None, None),  # no reference time
        ("-5", None, None),
        ("soon", NOW, None),
        ("", NOW, None),
        (None, NOW, None),
    ],
)
def test_parse_retry_after(value, now, expected):
    assert parse_retry_after(value, now) == expected


@pytest.mark.parametrize(
    ("body", "root"),
    [
        (b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', "rss"),
        (b'\xef\xbb\xbf<?xml version="1.0"?><!-- <html> --><feed xmlns="x"/>', "feed"),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "rdf"),
        (b'<!DOCTYPE rss [<!ENTITY a "<b>">]>\n<rss/>', "rss"),
        (b"<!doctype html><html><body>hi</body></html>", "html"),
        (b'\n\n  <!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">', "html"),
        (b"<HTML><head></head></HTML>", "html"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"/>', "html"),
        ("<?xml version='1.0'?><rss/>".encode("utf-16"), "rss"),
        (b"", None),
        (b"just text", None),
        (b"<!-- never closed", None),
    ],
)
def test_sniff_root(body, root):
    assert sniff_root(body) == root
