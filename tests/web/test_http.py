"""Every HTTP path of the wing through a real client (httpx) against the real tornado server.

The database holds what the real pipeline stored from feeds on the loopback feed server; the
real scheduler polls (its reports feed the metrics and the health check). SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from bot.storage.engine import make_engine, migrate
from bot.web.handlers import TelegramWebhook
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.storage.test_stories import CALL
from tests.web.rig import WebRig, start_rig

FLAGGED = "Azerbaijan and Iran sign a new transit deal"
HOSTILE = 'Baku & Tehran agree: tariffs < 5% "corridor" <script>alert(1)</script>'
STORED = 'Baku & Tehran agree: tariffs < 5% "corridor"'  # the script is dropped at parsing
NOW = datetime.now(UTC).replace(microsecond=0)


def good_feed(*extra: int) -> bytes:
    items = [
        item(1, title=FLAGGED, pub_date=NOW - timedelta(hours=3)),
        item(2, title="Weather in Paris", pub_date=NOW - timedelta(hours=2)),
        item(3, title=HOSTILE, description="Aliyev & Pezeshkian <i>met</i> in Tehran",
             pub_date=NOW - timedelta(hours=1)),
    ]  # fmt: skip
    items += [item(n, title=f"Iran and Azerbaijan talk, part {n}", pub_date=NOW) for n in extra]
    return rss(items, title="Good outlet")


def sources(server: FeedServer) -> list[Source]:
    return [
        Source("good", "Good Outlet", server.url("/web/good.xml"), 600.0),
        Source("down", "Down Outlet", server.url("/web/down.xml"), 600.0),
    ]


async def wait_for(predicate, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    # Polls over HTTP or the database, which have no event to wait on; bounded by the timeout.
    async with asyncio.timeout(timeout):
        while not await predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


@pytest.fixture
async def rig(db_engine: AsyncEngine, feed_server: FeedServer) -> AsyncIterator[WebRig]:
    feed_server.put("/web/good.xml", good_feed())
    feed_server.fail("/web/down.xml", 500)
    rig = await start_rig(db_engine, sources(feed_server))
    try:
        yield rig
    finally:
        await rig.close()


@pytest.fixture
def forwarded() -> list[object]:
    """What the webhook path handed on to Telegram's side (`hooked_rig`)."""
    return []


@pytest.fixture
async def hooked_rig(
    db_engine: AsyncEngine, feed_server: FeedServer, forwarded: list[object]
) -> AsyncIterator[WebRig]:
    """The rig in webhook mode: Telegram's posts to /hook/abc123 go to `forwarded`."""

    async def sink(data: object) -> None:
        forwarded.append(data)

    feed_server.put("/web/good.xml", good_feed())
    feed_server.fail("/web/down.xml", 500)
    webhook = TelegramWebhook("hook/abc123", "s3cret-header", sink)
    rig = await start_rig(db_engine, sources(feed_server), webhook=webhook)
    try:
        yield rig
    finally:
        await rig.close()


async def polled(rig: WebRig, count: int = 2) -> None:
    async def enough() -> bool:
        text = (await rig.http.get("/metrics")).text
        return sum(_samples(text, "bot_fetches_total").values()) >= count

    await wait_for(enough)


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


async def test_healthz_is_ok_with_the_database_the_scheduler_and_the_last_poll(rig: WebRig):
    await polled(rig)
    answer = await rig.http.get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["scheduler"] == "running"
    assert datetime.fromisoformat(body["last_poll"]) > NOW - timedelta(minutes=1)


async def test_healthz_answers_503_with_the_reason_when_the_scheduler_stopped(rig: WebRig):
    await rig.scheduler.shutdown(1.0)
    answer = await rig.http.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unhealthy"
    assert answer.json()["reasons"] == ["scheduler not running"]


async def test_healthz_answers_503_when_no_poll_completed_for_too_long(rig: WebRig):
    await polled(rig)
    rig.web.health.stale_after = 0.0  # every poll is now "too long ago"
    answer = await rig.http.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["reasons"][0].startswith("no poll completed for")


async def test_healthz_answers_503_when_the_database_is_unreachable(
    feed_server: FeedServer, tmp_path: Path
):
    feed_server.put("/web/good.xml", good_feed())
    feed_server.fail("/web/down.xml", 500)
    # A database of its own, whose file is then replaced by a directory: no query can run.
    path = tmp_path / "gone" / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    await migrate(engine)
    # No scheduler: a poll running while the file goes would leave an aiosqlite thread that
    # answers after the test's loop has closed.
    rig = await start_rig(engine, sources(feed_server), start_scheduler=False)
    try:
        await engine.dispose()
        for leftover in path.parent.iterdir():
            leftover.unlink()
        path.parent.rmdir()
        answer = await rig.http.get("/healthz")
        assert answer.status_code == 503
        assert answer.json()["database"] == "unreachable"
        assert "database unreachable" in answer.json()["reasons"]
    finally:
        await rig.close()
        await engine.dispose()


async def test_metrics_count_fetches_items_and_read_source_state_and_outbox_from_the_database(
    rig: WebRig, feed_server: FeedServer
):
    await polled(rig)
    text = (await rig.http.get("/metrics")).text
    fetches = _samples(text, "bot_fetches_total")
    assert fetches == {(("outcome", "new"),): 1.0, (("outcome", "failed"),): 1.0}
    items = _samples(text, "bot_items_total")
    assert items[(("stage", "parsed"),)] == 3
    assert items[(("stage", "new"),)] == 3
    assert items[(("stage", "flagged"),)] == 2
    assert _samples(text, "bot_source_consecutive_failures") == {
        (("source", "down"),): 1.0,
        (("source", "good"),): 0.0,
    }
    success = _samples(text, "bot_source_last_success_timestamp_seconds")
    assert list(success) == [(("source", "good"),)]
    assert abs(success[(("source", "good"),)] - datetime.now(UTC).timestamp()) < 60
    assert _samples(text, "bot_outbox_depth") == {(): 0.0}
    assert _samples(text, "bot_process_leader") == {(): 1.0}

    # A subscriber, then a new flagged item: one message waits in the outbox.
    await rig.chats.subscribe(
        777000111, kind="private", title=None, topics=["azerbaijan-iran"], thread_id=None,
        now=datetime.now(UTC) - timedelta(seconds=30),
    )  # fmt: skip
    feed_server.put("/web/good.xml", good_feed(4))
    rig.scheduler.poll_now("good")
    await polled(rig, 3)
    text = (await rig.http.get("/metrics")).text
    assert _samples(text, "bot_outbox_depth") == {(): 1.0}
    assert 0 <= _samples(text, "bot_outbox_oldest_age_seconds")[()] < 60
    assert _samples(text, "bot_items_total")[(("stage", "new"),)] == 4
    labels = {
        value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for name, value in sample.labels.items()
        if name != "le"  # histogram buckets
    }
    assert labels == {"new", "failed", "parsed", "flagged", "good", "down"}  # no chat id


async def test_metrics_show_leadership_from_the_callable_app_provides(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    feed_server.put("/web/good.xml", good_feed())
    feed_server.fail("/web/down.xml", 500)
    rig = await start_rig(db_engine, sources(feed_server), leader=False, start_scheduler=False)
    try:
        text = (await rig.http.get("/metrics")).text
        assert _samples(text, "bot_process_leader") == {(): 0.0}
    finally:
        await rig.close()


async def test_the_atom_feed_holds_the_topics_flagged_items_and_feedparser_reads_it(rig: WebRig):
    await polled(rig)
    answer = await rig.http.get("/topics/azerbaijan-iran.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == next(t.name for t in rig.topics if t.id == "azerbaijan-iran")
    assert [e.title for e in parsed.entries] == [STORED, FLAGGED]
    newest = parsed.entries[0]
    assert newest.link == "https://example.com/news/3"
    assert newest.id.startswith("urn:uuid:")
    assert [a.name for a in newest.authors] == ["Good Outlet"]
    assert [link.rel for link in newest.links] == ["alternate"]  # one outlet: nothing related
    assert newest.updated_parsed is not None
    assert newest.summary == "Aliyev & Pezeshkian met in Tehran"
    assert "tariffs &lt; 5%" in answer.text  # escaped in the document, exact once parsed


async def test_atom_supports_conditional_get_with_the_etag(rig: WebRig):
    await polled(rig)
    first = await rig.http.get("/topics/azerbaijan-iran.atom")
    tag = first.headers["etag"]
    again = await rig.http.get("/topics/azerbaijan-iran.atom", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    other = await rig.http.get("/topics/azerbaijan-iran.atom", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200
    assert other.content == first.content


async def test_the_atom_etag_changes_when_a_new_item_is_flagged(
    rig: WebRig, feed_server: FeedServer
):
    await polled(rig)
    tag = (await rig.http.get("/topics/azerbaijan-iran.atom")).headers["etag"]
    feed_server.put("/web/good.xml", good_feed(4))
    rig.scheduler.poll_now("good")
    await polled(rig, 3)
    answer = await rig.http.get("/topics/azerbaijan-iran.atom", headers={"If-None-Match": tag})
    assert answer.status_code == 200
    assert answer.headers["etag"] != tag
    assert len(feedparser.parse(answer.content).entries) == 3


def call_report(n: int, source: str, hours: int) -> bytes:
    """A feed holding `source`'s report of the presidents' phone call, `hours` ago."""
    title, text = CALL[source]
    link = f"https://{source}.example/news/{n}"
    when = NOW - timedelta(hours=hours)
    return rss([item(n, title=title, description=text, link=link, guid=link, pub_date=when)])


@pytest.fixture
async def pair(db_engine: AsyncEngine, feed_server: FeedServer) -> AsyncIterator[WebRig]:
    """APA reports the call; Trend has nothing on it yet (`join` makes it report the call)."""
    feed_server.put("/web/apa.xml", call_report(1, "apa", 3))
    feed_server.put("/web/trend.xml", rss([item(2, title="Weather in Paris", pub_date=NOW)]))
    rig = await start_rig(
        db_engine,
        [
            Source("apa", "APA", feed_server.url("/web/apa.xml"), 600.0),
            Source("trend", "Trend", feed_server.url("/web/trend.xml"), 600.0),
        ],
    )
    try:
        await polled(rig)
        yield rig
    finally:
        await rig.close()


async def join(rig: WebRig, feed_server: FeedServer) -> None:
    """Trend reports the call too, an hour ago; returns once that poll is done."""
    feed_server.put("/web/trend.xml", call_report(3, "trend", 1))
    rig.scheduler.poll_now("trend")
    await polled(rig, 3)


async def test_a_story_two_outlets_carry_is_one_atom_entry_that_updates_when_the_second_joins(
    pair: WebRig, feed_server: FeedServer
):
    path = "/topics/azerbaijan-iran.atom"
    before = await pair.http.get(path)
    [alone] = feedparser.parse(before.content).entries
    assert [a.name for a in alone.authors] == ["APA"]

    await join(pair, feed_server)
    after = await pair.http.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # the feed changed: a new ETag
    [joined] = feedparser.parse(after.content).entries
    assert joined.id == alone.id
    assert joined.title == CALL["apa"][0]
    assert joined.link == "https://apa.example/news/1"
    assert [a.name for a in joined.authors] == ["APA", "Trend"]
    related = [(x.href, x.title) for x in joined.links if x.rel == "related"]
    assert related == [("https://trend.example/news/3", "Trend")]
    assert joined.published == alone.published == _atom_time(NOW - timedelta(hours=3))
    assert joined.updated == _atom_time(NOW - timedelta(hours=1))


def _atom_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_the_status_page_shows_a_story_two_outlets_carry_once_with_both_outlets(
    pair: WebRig, feed_server: FeedServer
):
    await join(pair, feed_server)
    page = (await pair.http.get("/")).text
    assert page.count(CALL["apa"][0]) == 1
    assert CALL["trend"][0] not in page  # the story is named by its first report
    assert '<a href="https://apa.example/news/1" rel="noopener noreferrer">APA</a>' in page
    assert '<a href="https://trend.example/news/3" rel="noopener noreferrer">Trend</a>' in page
    # The time shown is the newest report's, in the configured zone (Asia/Baku).
    newest = (NOW - timedelta(hours=1)).astimezone(ZoneInfo("Asia/Baku"))
    assert newest.strftime("%d %b %Y, %H:%M") in page
    assert "Azerbaijan–Iran relations" in page


async def test_an_unknown_topic_is_404(rig: WebRig):
    for path in ("/topics/nope.atom", "/topics/..%2Fetc.atom", "/nothing-here"):
        answer = await rig.http.get(path)
        assert answer.status_code == 404, path


async def test_the_status_page_is_html_with_sources_stories_and_outbox(rig: WebRig):
    await polled(rig)
    answer = await rig.http.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    page = answer.text
    assert '<meta name="viewport"' in page
    assert "<script" not in page
    assert "tariffs &lt; 5% &#34;corridor&#34;" in page  # the story's title, escaped
    assert '<a href="https://example.com/news/3" rel="noopener noreferrer">Good Outlet</a>' in page
    assert "Down Outlet" in page
    assert "HTTP 500" in page  # the failing source's last error
    assert "outbox: 0 waiting" in page
    assert 'href="/topics/azerbaijan-iran.atom"' in page


async def test_nothing_served_shows_the_token_admin_ids_or_chat_ids(
    hooked_rig: WebRig, feed_server: FeedServer
):
    rig = hooked_rig
    token = "987654:SECRET-token-value"  # noqa: S105
    chat_id = -1009876543210
    await rig.chats.subscribe(
        chat_id, kind="supergroup", title="Desk", topics=["azerbaijan-iran"], thread_id=None,
        now=datetime.now(UTC),
    )  # fmt: skip
    await polled(rig)
    feed_server.put("/web/good.xml", good_feed(4))
    rig.scheduler.poll_now("good")
    await polled(rig, 3)
    bodies = [
        (await rig.http.get(p)).text
        for p in ("/", "/healthz", "/metrics", "/topics/azerbaijan-iran.atom", "/hook/abc123")
    ]
    for body in bodies:
        for secret in (token, "SECRET", str(chat_id), "9876543210", "s3cret-header", "Desk"):
            assert secret not in body


async def test_the_webhook_path_forwards_updates_only_with_the_secret_header(
    hooked_rig: WebRig, forwarded: list[object]
):
    rig = hooked_rig
    update = {
        "update_id": 7,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}},
    }
    headers = {"Content-Type": "application/json"}
    wrong = await rig.http.post(
        "/hook/abc123",
        content=json.dumps(update),
        headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "no"},
    )
    assert wrong.status_code == 403
    elsewhere = await rig.http.post(
        "/hook/other",
        content=json.dumps(update),
        headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "s3cret-header"},
    )
    assert elsewhere.status_code == 404
    right = await rig.http.post(
        "/hook/abc123",
        content=json.dumps(update),
        headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "s3cret-header"},
    )
    assert right.status_code == 200
    assert forwarded == [update]
