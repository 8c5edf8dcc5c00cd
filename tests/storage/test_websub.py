"""bot.storage.websub on SQLite and PostgreSQL: request, verify, deny, push, replace, cascade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from bot.storage.items import Store
from bot.storage.websub import WebSubStore

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SOURCE = Source("apa", "APA", "https://apa.az/rss", 600.0)
ONE, TWO = "secret-one", "secret-two"  # HMAC secrets of the tests


async def store_with_source(engine: AsyncEngine) -> WebSubStore:
    await Store(engine).sync_sources([SOURCE], now=T0)
    return WebSubStore(engine)


async def test_a_request_then_a_verification_makes_an_active_subscription(db_engine: AsyncEngine):
    subs = await store_with_source(db_engine)
    sub = await subs.request(
        "apa", hub="https://hub.example/", topic="https://apa.az/rss", callback_id="cb1",
        secret=ONE * 6, now=T0,
    )  # fmt: skip
    assert sub.state == "requested"
    assert not sub.active
    await subs.verified("cb1", lease_seconds=600, now=T0 + timedelta(seconds=5))
    got = await subs.by_callback("cb1")
    assert got is not None
    assert got.active
    assert got.lease_seconds == 600
    assert got.expires == T0 + timedelta(seconds=605)
    assert await subs.by_callback("other") is None


async def test_a_renewal_keeps_the_callback_and_secret_and_stays_active(db_engine: AsyncEngine):
    subs = await store_with_source(db_engine)
    await subs.request("apa", hub="https://h/", topic="t", callback_id="cb1", secret=ONE, now=T0)
    await subs.verified("cb1", lease_seconds=600, now=T0)
    later = T0 + timedelta(minutes=7)
    renewed = await subs.request(
        "apa", hub="https://h/", topic="t", callback_id="cb2", secret=TWO, now=later
    )
    assert (renewed.callback_id, renewed.secret, renewed.state) == ("cb1", ONE, "active")
    assert renewed.requested == later


async def test_a_new_hub_replaces_the_subscription_and_the_old_callback_stops_matching(
    db_engine: AsyncEngine,
):
    subs = await store_with_source(db_engine)
    await subs.request("apa", hub="https://h/", topic="t", callback_id="cb1", secret=ONE, now=T0)
    await subs.pushed("cb1", now=T0)
    moved = await subs.request(
        "apa", hub="https://h2/", topic="t", callback_id="cb2", secret=TWO, now=T0
    )
    assert (moved.hub, moved.callback_id, moved.secret, moved.pushes) == (
        "https://h2/",
        "cb2",
        TWO,
        0,
    )
    assert await subs.by_callback("cb1") is None
    assert [s.source_id for s in await subs.all()] == ["apa"]


async def test_pushes_are_counted_and_a_denial_is_kept(db_engine: AsyncEngine):
    subs = await store_with_source(db_engine)
    await subs.request("apa", hub="https://h/", topic="t", callback_id="cb1", secret=ONE, now=T0)
    await subs.pushed("cb1", now=T0 + timedelta(seconds=1))
    await subs.pushed("cb1", now=T0 + timedelta(seconds=2))
    got = await subs.for_source("apa")
    assert got is not None
    assert got.pushes == 2
    assert got.last_push == T0 + timedelta(seconds=2)
    await subs.denied("cb1", now=T0)
    denied = await subs.for_source("apa")
    assert denied is not None
    assert denied.state == "denied"
    await subs.remove("apa")
    assert await subs.all() == []
