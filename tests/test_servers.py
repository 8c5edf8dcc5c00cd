"""Tests of the test fixtures: the loopback feed server (servers.py), feed builders (feeds.py)."""

from __future__ import annotations

import gzip
import http.client
import io
import socket
import threading
import time
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from xml.etree import ElementTree

import feedparser
import httpx
import pytest

from tests.feeds.build import FeedItem, atom, item, rdf, rss
from tests.servers import FIXTURES, FeedServer, gzip_bomb

FEED = (FIXTURES / "fetch" / "feed.xml").read_bytes()


@pytest.fixture
def web(feed_server: FeedServer):
    with httpx.Client(base_url=feed_server.base_url, follow_redirects=False) as client:
        yield client


# -- content -----------------------------------------------------------------------------------


def test_serves_fixture_files_by_path_with_validators(web):
    r = web.get("/fetch/feed.xml")
    assert r.status_code == 200
    assert r.content == FEED
    assert r.headers["content-type"] == "application/xml"
    assert r.headers["etag"].startswith('"')
    assert parsedate_to_datetime(r.headers["last-modified"]).tzinfo is not None
    assert web.get("/fetch/page.html").headers["content-type"].startswith("text/html")


def test_unknown_path_is_404(web):
    assert web.get("/nothing/here.xml").status_code == 404


def test_paths_outside_the_root_are_not_served(feed_server):
    conn = http.client.HTTPConnection("127.0.0.1", feed_server.port, timeout=5)
    try:
        conn.request("GET", "/../../servers.py")
        response = conn.getresponse()
        assert response.status == 404
        response.read()
    finally:
        conn.close()


def test_put_sets_and_replaces_a_route_with_new_validators(feed_server, web):
    feed_server.put("/live.xml", rss([item(1)]))
    first = web.get("/live.xml")
    feed_server.put("/live.xml", rss([item(1), item(2)]), content_type="application/rss+xml")
    second = web.get("/live.xml")
    assert first.content == rss([item(1)])
    assert second.content == rss([item(1), item(2)])
    assert second.headers["content-type"] == "application/rss+xml"
    assert second.headers["etag"] != first.headers["etag"]
    assert parsedate_to_datetime(second.headers["last-modified"]) > parsedate_to_datetime(
        first.headers["last-modified"]
    )


def test_put_wins_over_a_file_until_removed(feed_server, web):
    feed_server.put("/fetch/feed.xml", b"<rss/>")
    assert web.get("/fetch/feed.xml").content == b"<rss/>"
    feed_server.remove("/fetch/feed.xml")
    assert web.get("/fetch/feed.xml").content == FEED


def test_put_with_status_and_headers(feed_server, web):
    feed_server.put("/x", b"gone", status=410, headers={"X-Test": "1"}, content_type="text/plain")
    r = web.get("/x")
    assert (r.status_code, r.content, r.headers["x-test"]) == (410, b"gone", "1")


def test_head_answers_headers_without_body(feed_server, web):
    r = web.head("/fetch/feed.xml")
    assert r.status_code == 200
    assert r.headers["content-length"] == str(len(FEED))
    assert r.content == b""


def test_gzip_route_is_compressed_on_the_wire(feed_server, web):
    feed_server.put("/gz.xml", FEED, gzip=True)
    r = web.get("/gz.xml")
    assert r.headers["content-encoding"] == "gzip"
    assert r.content == FEED
    assert int(r.headers["content-length"]) == feed_server.bytes_sent("/gz.xml") < len(FEED)


def test_gzip_bomb_expands_to_the_requested_size():
    bomb = gzip_bomb(3_000_123)
    assert len(bomb) < 10_000
    assert gzip.decompress(bomb) == bytes(3_000_123)


def test_chunked_route_has_no_content_length(feed_server, web):
    feed_server.put("/c.xml", FEED, chunked=True)
    r = web.get("/c.xml")
    assert r.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in r.headers
    assert r.content == FEED


# -- conditional requests ----------------------------------------------------------------------


def test_if_none_match_gets_304_with_validators_and_no_body(web):
    first = web.get("/fetch/feed.xml")
    r = web.get("/fetch/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == first.headers["etag"]
    assert r.headers["last-modified"] == first.headers["last-modified"]


@pytest.mark.parametrize("template", ['"other", {etag}', "W/{etag}", "*"])
def test_if_none_match_lists_weak_tags_and_star(web, template):
    etag = web.get("/fetch/feed.xml").headers["etag"]
    r = web.get("/fetch/feed.xml", headers={"If-None-Match": template.format(etag=etag)})
    assert r.status_code == 304


def test_if_none_match_wins_over_if_modified_since(web):
    last_modified = web.get("/fetch/feed.xml").headers["last-modified"]
    r = web.get(
        "/fetch/feed.xml", headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    )
    assert r.status_code == 200


def test_if_modified_since_alone(web):
    last_modified = web.get("/fetch/feed.xml").headers["last-modified"]
    assert (
        web.get("/fetch/feed.xml", headers={"If-Modified-Since": last_modified}).status_code == 304
    )
    older = formatdate(parsedate_to_datetime(last_modified).timestamp() - 60, usegmt=True)
    assert web.get("/fetch/feed.xml", headers={"If-Modified-Since": older}).status_code == 200


def test_route_without_validators_ignores_conditions(feed_server, web):
    feed_server.put("/plain.xml", FEED, validators=False)
    r = web.get("/plain.xml", headers={"If-None-Match": "*"})
    assert r.status_code == 200
    assert "etag" not in r.headers
    assert "last-modified" not in r.headers


# -- faults ------------------------------------------------------------------------------------


def test_fail_answers_status_for_a_number_of_requests(feed_server, web):
    feed_server.fail("/fetch/feed.xml", 503, times=2, retry_after=30)
    codes = [web.get("/fetch/feed.xml") for _ in range(3)]
    assert [r.status_code for r in codes] == [503, 503, 200]
    assert codes[0].headers["retry-after"] == "30"


def test_fail_until_cleared_and_explicit_date(feed_server, web):
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    feed_server.fail("/fetch/feed.xml", 500, headers={"Date": date})
    first, second = web.get("/fetch/feed.xml"), web.get("/fetch/feed.xml")
    assert (first.status_code, second.status_code) == (500, 500)
    assert first.headers.get_list("date") == [date]
    feed_server.clear_faults("/fetch/feed.xml")
    assert web.get("/fetch/feed.xml").status_code == 200


def test_delay_holds_the_answer(feed_server, web):
    feed_server.delay("/fetch/feed.xml", 0.2)
    started = time.monotonic()
    assert web.get("/fetch/feed.xml").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_redirect_answers_location(feed_server, web):
    feed_server.redirect("/old", "/fetch/feed.xml", status=301)
    r = web.get("/old")
    assert (r.status_code, r.headers["location"]) == (301, "/fetch/feed.xml")


def test_stall_sends_headers_and_part_of_the_body_then_holds(feed_server):
    feed_server.put("/s.xml", b"x" * 1000)
    feed_server.stall("/s.xml", 100)
    with socket.create_connection(("127.0.0.1", feed_server.port), timeout=5) as conn:
        conn.sendall(b"GET /s.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < 100:
            data += conn.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 1000" in head
    assert body == b"x" * 100
    assert feed_server.bytes_sent("/s.xml") == 100


# -- observations ------------------------------------------------------------------------------


def test_request_log_records_method_path_query_host_and_headers(feed_server, web):
    web.get("/fetch/feed.xml?x=1", headers={"User-Agent": "probe/1"})
    [seen] = feed_server.requests("/fetch/feed.xml")
    assert (seen.method, seen.path, seen.query, seen.host) == (
        "GET",
        "/fetch/feed.xml",
        "x=1",
        "127.0.0.1",
    )
    assert seen.headers["user-agent"] == "probe/1"


def test_wait_for_requests_returns_once_enough_arrived(feed_server):
    def client() -> None:
        with httpx.Client() as c:
            for _ in range(3):
                c.get(feed_server.url("/fetch/feed.xml"))

    worker = threading.Thread(target=client)
    worker.start()
    try:
        assert len(feed_server.wait_for_requests("/fetch/feed.xml", 3, timeout=5)) == 3
    finally:
        worker.join(timeout=5)


def test_wait_for_requests_gives_up_after_its_timeout(feed_server):
    with pytest.raises(AssertionError, match="saw 0"):
        feed_server.wait_for_requests("/never", 1, timeout=0.05)


async def test_wait_for_requests_async_does_not_block_the_loop(feed_server):
    async with httpx.AsyncClient() as client:
        response = await client.get(feed_server.url("/fetch/feed.xml"))
        assert response.status_code == 200
    assert len(await feed_server.wait_for_requests_async("/fetch/feed.xml", 1)) == 1


def test_sequential_requests_peak_at_one_in_flight(feed_server, web):
    for _ in range(3):
        web.get("/fetch/feed.xml")
    assert feed_server.peak_in_flight() == 1
    assert feed_server.peak_in_flight("127.0.0.1") == 1
    assert feed_server.peak_in_flight("localhost") == 0


def test_clear_log_forgets_what_was_seen(feed_server, web):
    web.get("/fetch/feed.xml")
    feed_server.clear_log()
    assert feed_server.requests() == []
    assert feed_server.request_count("/fetch/feed.xml") == 0
    assert feed_server.bytes_sent("/fetch/feed.xml") == 0


# -- lifecycle ---------------------------------------------------------------------------------


def test_context_manager_serves_then_frees_the_port():
    with FeedServer(root=None, log_requests=False) as server:
        server.put("/a", b"<rss/>")
        with httpx.Client() as client:
            assert client.get(server.url("/a")).content == b"<rss/>"
        assert server.requests() == []
        assert server.request_count("/a") == 1
        port = server.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    assert server.errors == []


def test_stop_cuts_idle_keep_alive_connections_promptly():
    server = FeedServer().start()
    client = httpx.Client()
    try:
        assert client.get(server.url("/fetch/feed.xml")).status_code == 200  # connection kept alive
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
    finally:
        client.close()
    assert server.errors == []


# -- feed builders -----------------------------------------------------------------------------

ITEMS = [
    FeedItem(
        "Baku & Tehran",
        "https://example.com/1",
        "g-1",
        "<p>Hi</p>",
        datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
    ),
    {"title": "Second", "link": "https://example.com/2"},
]


@pytest.mark.parametrize("build", [rss, atom, rdf])
def test_builders_make_well_formed_feeds_feedparser_reads(build):
    body = build(ITEMS, title="T")
    ElementTree.fromstring(body)  # noqa: S314 (our own output, checked for well-formedness)
    parsed = feedparser.parse(io.BytesIO(body))
    assert not parsed.bozo
    assert parsed.feed.title == "T"
    assert [e.title for e in parsed.entries] == ["Baku & Tehran", "Second"]
    assert [e.link for e in parsed.entries] == ["https://example.com/1", "https://example.com/2"]
    first = parsed.entries[0]
    assert (first.get("published_parsed") or first.updated_parsed)[:5] == (2025, 1, 2, 3, 4)
    assert "<p>Hi</p>" in parsed.entries[0].summary


def test_rss_builder_writes_guids_and_encoding():
    body = rss([item(1, guid="a-1", title="Иран")], encoding="windows-1251")
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    parsed = feedparser.parse(io.BytesIO(body))
    assert parsed.entries[0].id == "a-1"
    assert parsed.entries[0].title == "Иран"


def test_numbered_items_differ_and_dates_increase():
    first, second = item(1), item(2)
    assert first.guid != second.guid
    assert isinstance(first.pub_date, datetime)
    assert isinstance(second.pub_date, datetime)
    assert second.pub_date > first.pub_date
