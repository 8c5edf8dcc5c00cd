"""`GET /search` and `GET /search.atom` through a real HTTP client against the real tornado server
(the application `bot.web.server` builds), on a real store; the feed read back by feedparser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import feedparser
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Story
from bot.storage.search import SearchStore
from bot.storage.status import StatusStore
from bot.web.handlers import Routes
from bot.web.health import Health
from bot.web.metrics import Metrics
from bot.web.search import PAGE_SIZE, SearchPage
from bot.web.server import WebServer
from bot.web.status import StatusPage
from tests.search.archive import NOW, fill, search_store

BAKU = ZoneInfo("Asia/Baku")


@pytest.fixture
async def http(db_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    await fill(search_store(db_engine))
    status = StatusStore(db_engine)

    async def no_stories(*args: object) -> list[Story]:
        return []

    routes = Routes(
        Health(
            status,
            scheduler_running=lambda: True,
            polled_sources=lambda: 0,
            clock=lambda: NOW,
            stale_after=60,
        ),
        Metrics(status, clock=lambda: NOW),
        StatusPage(
            status,
            latest=no_stories,
            topics=lambda: (),
            next_poll=lambda s: None,
            tz=BAKU,
            clock=lambda: NOW,
        ),
        lambda: (),
        no_stories,
        search=SearchPage(SearchStore(db_engine), tz=BAKU, clock=lambda: NOW),
    )
    server = WebServer(routes)
    (port,) = server.start([("127.0.0.1", 0)])
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        await server.stop()


async def test_the_page_lists_results_newest_first_with_outlet_time_link_and_topic(
    http: httpx.AsyncClient,
):
    answer = await http.get("/search", params={"q": "bridge"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert html.index("Astara bridge over the border river opens") < html.index("Bridges and roads")
    assert 'href="https://apa-en.test/news/en1"' in html
    assert "APA (English)" in html
    assert "azerbaijan-iran" in html
    assert "/search.atom?q=bridge" in html


async def test_the_page_searches_in_every_language(http: httpx.AsyncClient):
    for query, title in (
        ("граница", "Иранские власти усилили контроль на границе"),
        ("BAKI", "Bakıda İran səfiri ilə görüş"),
        ("ايران", "سفیر ايران در باکو"),
    ):
        answer = await http.get("/search", params={"q": query})
        assert title in answer.text


async def test_pages_of_results(http: httpx.AsyncClient, db_engine: AsyncEngine):
    from datetime import timedelta

    from bot.models import Item, MatchedItem, Validators

    store = search_store(db_engine)
    many = [
        MatchedItem(
            Item(
                source_id="tass",
                key=f"p{n}",
                url=f"https://tass.test/p/{n}",
                title=f"Pipeline note {n:02d}",
                summary="",
                published=NOW - timedelta(minutes=n),
            )
        )
        for n in range(PAGE_SIZE + 3)
    ]
    await store.save_fetch(
        "tass", items=many, validators=Validators(), now=NOW, next_poll=NOW, announce=False
    )
    first = (await http.get("/search", params={"q": "pipeline"})).text
    assert "Pipeline note 00" in first
    assert f"Pipeline note {PAGE_SIZE:02d}" not in first
    assert 'rel="next"' in first
    second = (await http.get("/search", params={"q": "pipeline", "page": "2"})).text
    assert f"Pipeline note {PAGE_SIZE + 2:02d}" in second
    assert 'rel="next"' not in second
    assert 'rel="prev"' in second


async def test_a_hostile_query_is_escaped_and_a_malformed_one_is_a_400(http: httpx.AsyncClient):
    hostile = "<script>alert(1)</script> '><img src=x onerror=alert(1)>"
    answer = await http.get("/search", params={"q": hostile})
    assert answer.status_code == 200
    assert "<script>alert" not in answer.text
    assert "<img src=x" not in answer.text
    assert "&lt;script&gt;" in answer.text
    bad = await http.get("/search", params={"q": '"unclosed <script>x</script>'})
    assert bad.status_code == 400
    assert "unclosed quote" in bad.text
    assert "<script>x" not in bad.text
    assert "&lt;script&gt;x" in bad.text  # the form keeps the query, escaped
    odd = await http.get("/search?q=%ff%fe&page=-3&sort=%00")
    assert odd.status_code == 400  # not UTF-8: decoded leniently, it holds no word to look for
    assert "no word to look for" in odd.text
    assert "Traceback" not in odd.text


async def test_the_atom_feed_of_a_query_reads_in_feedparser(http: httpx.AsyncClient):
    answer = await http.get("/search.atom", params={"q": "astara OR Астара"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo
    assert feed.feed.title == "Search: astara OR Астара"
    assert [e.title for e in feed.entries] == [
        "Astara bridge over the border river opens",
        "Мост через пограничную реку Астара открыт",
        "Astara körpüsünün tikintisi başa çatıb",
    ]
    assert feed.entries[0].link == "https://apa-en.test/news/en1"
    bad = await http.get("/search.atom", params={"q": "-only"})
    assert bad.status_code == 400
    assert bad.text.startswith("bad query:")
