"""WebSub through the hub emulator (tests/web/hub.py) against the real server, pipeline and scheduler.

The feed on the loopback feed server advertises the emulator as its hub; the bot discovers it at
its first poll, subscribes, answers the hub's verification, turns a signed push into an immediate
poll, ignores a forged one, refuses verifications it never asked for, and renews before the lease
ends. SQLite and PostgreSQL.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from bot.storage.websub import WebSubStore
from bot.web.websub import signature_ok
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.web.hub import HubEmulator
from tests.web.rig import WebRig, start_rig, with_hub

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = 3600.0  # the source's interval: any poll within a test is a push's doing


def free_port() -> int:
    # The public URL must name the port before the server starts; the OS picks a free one.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def feed(server: FeedServer, hub: HubEmulator, *numbers: int) -> bytes:
    body = rss([item(n, title=f"Baku and Tehran talk, round {n}", pub_date=NOW) for n in numbers])
    return with_hub(body, hub.url, server.url("/ws/feed.xml"))


async def open_rig(engine, server: FeedServer, hub: HubEmulator) -> WebRig:
    server.put("/ws/feed.xml", feed(server, hub, 1))
    port = free_port()
    source = Source("ws", "WebSub Outlet", server.url("/ws/feed.xml"), HOUR)
    return await start_rig(engine, [source], public_url=f"http://127.0.0.1:{port}/", http_port=port)


@pytest.fixture
async def hub() -> AsyncIterator[HubEmulator]:
    emulator = HubEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def rig(db_engine: AsyncEngine, feed_server: FeedServer, hub: HubEmulator):
    rig = await open_rig(db_engine, feed_server, hub)
    try:
        yield rig
    finally:
        await rig.close()


async def subscribed(hub: HubEmulator, count: int = 1) -> None:
    await hub.wait_for(
        lambda: len(hub.active) >= 1 and sum(v.echoed for v in hub.verifications) >= count
    )


async def test_a_feed_that_names_a_hub_is_subscribed_and_the_intent_verified(
    rig: WebRig, hub: HubEmulator, feed_server: FeedServer
):
    await subscribed(hub)
    (request,) = hub.requests
    assert request["hub.mode"] == "subscribe"
    assert request["hub.topic"] == feed_server.url("/ws/feed.xml")
    assert request["hub.callback"].startswith(f"{rig.base}/websub/")
    assert len(request["hub.secret"]) >= 32
    stored = await WebSubStore(rig.db).for_source("ws")
    assert stored is not None
    assert stored.state == "active"
    assert stored.secret == request["hub.secret"]
    assert stored.expires is not None
    assert stored.expires > datetime.now(UTC) + timedelta(days=9)


async def test_a_signed_push_polls_the_source_at_once_and_the_new_item_is_stored(
    rig: WebRig, hub: HubEmulator, feed_server: FeedServer
):
    await subscribed(hub)
    assert feed_server.request_count("/ws/feed.xml") == 1
    body = feed(feed_server, hub, 1, 2)
    feed_server.put("/ws/feed.xml", body)
    assert await hub.publish(feed_server.url("/ws/feed.xml"), body) == [202]
    await feed_server.wait_for_requests_async("/ws/feed.xml", 2, timeout=10)
    stored = await WebSubStore(rig.db).for_source("ws")
    assert stored is not None
    assert stored.pushes == 1
    # sha1, which older hubs use, is accepted too.
    assert await hub.publish(feed_server.url("/ws/feed.xml"), body, algorithm="sha1") == [202]
    await feed_server.wait_for_requests_async("/ws/feed.xml", 3, timeout=10)


async def test_a_push_with_a_forged_signature_is_acknowledged_and_ignored(
    rig: WebRig, hub: HubEmulator, feed_server: FeedServer
):
    await subscribed(hub)
    body = feed(feed_server, hub, 1, 2)
    assert await hub.publish(feed_server.url("/ws/feed.xml"), body, forge=True) == [202]
    metrics = (await rig.http.get("/metrics")).text
    assert 'bot_websub_pushes_total{outcome="bad-signature"} 1.0' in metrics
    stored = await WebSubStore(rig.db).for_source("ws")
    assert stored is not None
    assert stored.pushes == 0
    assert stored.last_push is None
    assert rig.scheduler.next_poll("ws") > datetime.now(UTC) + timedelta(minutes=30)
    # An unsigned push is the same.
    sub = next(iter(hub.active.values()))
    answer = await rig.http.post(sub.callback.removeprefix(rig.base), content=body)
    assert answer.status_code == 202
    assert rig.scheduler.next_poll("ws") > datetime.now(UTC) + timedelta(minutes=30)
    assert feed_server.request_count("/ws/feed.xml") == 1


async def test_verifications_we_did_not_ask_for_are_refused(
    rig: WebRig, hub: HubEmulator, feed_server: FeedServer
):
    await subscribed(hub)
    sub = next(iter(hub.active.values()))
    other_topic = await hub.verify(sub.callback, "http://127.0.0.1:9/someone-elses-feed.xml")
    assert other_topic.status == 404
    assert not other_topic.echoed
    unknown_callback = await hub.verify(f"{rig.base}/websub/not-a-callback-of-ours", sub.topic)
    assert unknown_callback.status == 404
    unsubscribe = await hub.verify(sub.callback, sub.topic, mode="unsubscribe")
    assert unsubscribe.status == 404  # we never asked to unsubscribe
    stored = await WebSubStore(rig.db).for_source("ws")
    assert stored is not None
    assert stored.state == "active"


async def test_a_push_to_an_unknown_callback_is_gone(rig: WebRig):
    answer = await rig.http.post("/websub/nobody-here", content=b"<rss/>")
    assert answer.status_code == 410


async def test_the_subscription_is_renewed_before_its_lease_ends(
    db_engine: AsyncEngine, feed_server: FeedServer
):
    hub = HubEmulator(lease_seconds=2)  # renewed after 1.5 s
    await hub.start()
    rig = await open_rig(db_engine, feed_server, hub)
    try:
        await subscribed(hub)
        first = await WebSubStore(rig.db).for_source("ws")
        await hub.wait_for(lambda: len(hub.requests) >= 2, timeout=10)
        await subscribed(hub, 2)
        renewed = await WebSubStore(rig.db).for_source("ws")
        assert first is not None
        assert renewed is not None
        assert hub.requests[1]["hub.callback"] == hub.requests[0]["hub.callback"]
        assert renewed.verified > first.verified
        assert renewed.expires > first.expires
        assert renewed.state == "active"
    finally:
        await rig.close()
        await hub.stop()


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("sha256=" + "0" * 64, False),
        ("md5=abc", False),
        ("sha256", False),
        ("", False),
        (None, False),
    ],
)
def test_signatures_that_are_malformed_or_wrong_do_not_pass(header, ok):
    assert signature_ok("secret", b"body", header) is ok


def test_a_correct_signature_passes_in_any_case_of_hex():
    import hashlib
    import hmac

    digest = hmac.new(b"secret", b"body", hashlib.sha256).hexdigest()
    assert signature_ok("secret", b"body", f"sha256={digest.upper()}")
    assert not signature_ok("secret", b"body!", f"sha256={digest}")
