"""bot.operator.rematch over the real store (SQLite, and PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Item, MatchedItem, Source, StoredItem, TermGroup, Topic, Validators
from bot.operator.rematch import new_matches, rematch
from bot.storage.chat_tables import outbox
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.ops import OpsStore
from bot.storage.outbox import Outbox
from bot.topics.matcher import compile_topics

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SOURCE = Source("caliber", "Caliber.Az", "https://caliber.az/rss", 300.0)
OLD = Topic(
    "az-ir",
    "Azerbaijan–Iran",
    (TermGroup("az", ("Baku",)), TermGroup("ir", ("Tehran",))),
    ("az", "ir"),
)
NEW = Topic(
    "az-ir",
    "Azerbaijan–Iran",
    (TermGroup("az", ("Baku", "Nakhchivan")), TermGroup("ir", ("Tehran",))),
    ("az", "ir"),
)


def entry(key: str, title: str, *, hours_ago: float) -> Item:
    return Item(
        source_id=SOURCE.id,
        key=key,
        url=f"https://caliber.az/{key}",
        title=title,
        summary="",
        published=NOW - timedelta(hours=hours_ago),
    )


@pytest.fixture
def chat_store(db_engine: AsyncEngine) -> ChatStore:
    return ChatStore(db_engine)


@pytest.fixture
async def stored(db_engine: AsyncEngine, chat_store: ChatStore) -> Store:
    """Four items stored under the OLD rules: one flagged, two only NEW flags (one too old)."""
    store = Store(db_engine, on_flagged=[Outbox(db_engine).enqueue])
    await store.sync_sources([SOURCE], now=NOW)
    matcher = compile_topics([OLD])
    items = [
        entry("a", "Baku and Tehran agree on gas", hours_ago=2),
        entry("b", "Nakhchivan corridor: Tehran objects", hours_ago=5),
        entry("c", "Weather in Nakhchivan", hours_ago=3),
        entry("d", "Nakhchivan and Tehran, a year ago", hours_ago=72),
    ]
    await store.save_fetch(
        SOURCE.id,
        items=[MatchedItem(i, matcher.match(i.title, i.summary)) for i in items],
        validators=Validators(),
        now=NOW - timedelta(hours=1),
        next_poll=NOW,
        announce=False,
    )
    return store


async def outbox_rows(engine: AsyncEngine) -> list[tuple[int, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.item_id, outbox.c.chat_id).order_by(outbox.c.id))
        return [(r.item_id, r.chat_id) for r in rows]


async def test_rematch_flags_items_the_new_rules_match_without_announcing(
    stored: Store, db_engine: AsyncEngine, chat_store: ChatStore
) -> None:
    await chat_store.subscribe(
        -100, kind="channel", title="C", topics=["az-ir"], thread_id=None, now=NOW
    )
    ops = OpsStore(db_engine, on_flagged=[Outbox(db_engine).enqueue])
    result = await rematch(ops, NEW, hours=24, now=NOW, announce=False)
    assert (result.scanned, result.already) == (3, 1)
    assert [s.item.key for s in result.matched] == ["b"]
    assert result.matched[0].matches[0].terms_by_group() == {"az": ["Nakhchivan"], "ir": ["Tehran"]}
    assert not result.announced
    assert await outbox_rows(db_engine) == []
    latest = await stored.latest(10, topics=["az-ir"])
    assert sorted(s.item.key for s in latest) == ["a", "b"]


async def test_rematch_with_announce_enqueues_only_the_new_matches_for_subscribers(
    stored: Store, db_engine: AsyncEngine, chat_store: ChatStore
) -> None:
    await chat_store.subscribe(
        -100, kind="channel", title="C", topics=["az-ir"], thread_id=None, now=NOW
    )
    await chat_store.subscribe(
        7, kind="private", title=None, topics=["other"], thread_id=None, now=NOW
    )
    woken: list[bool] = []
    ops = OpsStore(db_engine, on_flagged=[Outbox(db_engine).enqueue])
    result = await rematch(
        ops, NEW, hours=24, now=NOW, announce=True, wake=lambda: woken.append(True)
    )
    assert result.announced
    assert woken == [True]
    [b] = result.matched
    assert await outbox_rows(db_engine) == [(b.id, -100)]
    again = await rematch(
        ops, NEW, hours=24, now=NOW, announce=True, wake=lambda: woken.append(True)
    )
    assert again.matched == ()
    assert again.already == 2
    assert woken == [True]
    assert len(await outbox_rows(db_engine)) == 1


async def test_a_longer_window_reaches_older_items(stored: Store, db_engine: AsyncEngine) -> None:
    result = await rematch(OpsStore(db_engine), NEW, hours=100, now=NOW, announce=False)
    assert sorted(s.item.key for s in result.matched) == ["b", "d"]


@pytest.mark.parametrize("hours", [0, -1, 24 * 31])
async def test_rematch_refuses_a_window_out_of_bounds(db_engine: AsyncEngine, hours: float) -> None:
    with pytest.raises(ValueError, match="hours"):
        await rematch(OpsStore(db_engine), NEW, hours=hours, now=NOW, announce=False)


def test_new_matches_skips_items_already_flagged_for_the_topic() -> None:
    item = entry("x", "Nakhchivan and Tehran", hours_ago=1)
    flagged = StoredItem(1, item, "C", NOW, matches=compile_topics([NEW]).match(item.title, ""))
    fresh = StoredItem(2, item, "C", NOW)
    found = new_matches(compile_topics([NEW]), "az-ir", [flagged, fresh])
    assert [s.id for s in found] == [2]


async def test_last_news_is_the_newest_first_sight_before_a_time_else_when_the_source_was_added(
    stored: Store, db_engine: AsyncEngine
) -> None:
    ops = OpsStore(db_engine)
    assert await ops.last_news("caliber", NOW) == NOW - timedelta(hours=1)
    # The run that stored the items at NOW - 1 h asks about the time before it: none yet.
    assert await ops.last_news("caliber", NOW - timedelta(hours=1)) == NOW  # sync_sources' time
    assert await ops.last_news("nobody", NOW) is None
