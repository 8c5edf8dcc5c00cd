"""bot.storage.chats on SQLite and PostgreSQL: subscriptions, migration, and the outbox it fills."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.storage.chat_tables import outbox
from bot.storage.chats import ChatStore
from bot.storage.delivery import DeliveryStores
from bot.storage.items import SaveResult, Store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SOURCE = Source("caliber", "Caliber.Az", "https://caliber.az/rss", 300.0)
AZ_IR = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran*", "title", "Iran"),))
ENERGY = TopicMatch("energy", (TermHit("gas", "gas", "title", "gas"),))


def entry(key: str, *, minutes: int = 0, matches: Sequence[TopicMatch] = (AZ_IR,)) -> MatchedItem:
    """A feed entry of SOURCE flagged by `matches`."""
    item = Item(
        source_id=SOURCE.id,
        key=key,
        url=f"https://caliber.az/post/{key}",
        title=f"Title {key}",
        summary=f"Summary of {key}.",
        published=T0 + timedelta(minutes=minutes),
        language="en",
    )
    return MatchedItem(item, tuple(matches))


async def flag(store: Store, entries: Sequence[MatchedItem], *, now: datetime = T0) -> SaveResult:
    """Store `entries` as a fetch that announces (so the outbox hook runs)."""
    return await store.save_fetch(
        SOURCE.id,
        items=entries,
        validators=Validators(),
        now=now,
        next_poll=now + timedelta(minutes=5),
        announce=True,
    )


async def outbox_rows(engine: AsyncEngine) -> list[tuple[int, int, str]]:
    """(item_id, chat_id, status) of every outbox row, in insertion order."""
    async with engine.connect() as conn:
        query = select(outbox.c.item_id, outbox.c.chat_id, outbox.c.status).order_by(outbox.c.id)
        return [tuple(r) for r in (await conn.execute(query)).all()]  # type: ignore[misc]


@pytest.fixture
def chat_store(db_engine: AsyncEngine) -> ChatStore:
    return ChatStore(db_engine)


@pytest.fixture
def stores(db_engine: AsyncEngine) -> DeliveryStores:
    return DeliveryStores.on(db_engine)


@pytest.fixture
async def hooked(stores: DeliveryStores, db_engine: AsyncEngine) -> Store:
    store = Store(db_engine, on_flagged=[stores.outbox.enqueue])
    await store.sync_sources([SOURCE])
    return store


async def sub(cs: ChatStore, chat_id: int, *topics: str, kind: str = "private", **kw):  # type: ignore[no-untyped-def]
    return await cs.subscribe(
        chat_id, kind=kind, title=f"chat {chat_id}", topics=topics, thread_id=None, now=T0, **kw
    )


async def test_subscribe_creates_an_active_chat_with_sorted_topics(chat_store: ChatStore) -> None:
    chat = await sub(chat_store, 42, "energy", "azerbaijan-iran", added_by=7)
    assert chat.chat_id == 42
    assert chat.active
    assert chat.topics == ("azerbaijan-iran", "energy")
    assert chat.added_by == 7
    assert await chat_store.chat(42) == chat


async def test_subscribe_twice_is_idempotent_and_adds_topics(chat_store: ChatStore) -> None:
    await sub(chat_store, 42, "energy")
    await sub(chat_store, 42, "energy")
    chat = await sub(chat_store, 42, "azerbaijan-iran")
    assert chat.topics == ("azerbaijan-iran", "energy")
    assert chat.added_by is None


async def test_subscribe_remembers_the_forum_thread_and_keeps_added_by(
    chat_store: ChatStore,
) -> None:
    await sub(chat_store, -100123, "energy", kind="supergroup", added_by=9)
    chat = await chat_store.subscribe(
        -100123, kind="supergroup", title="Forum", topics=["energy"], thread_id=77, now=T0
    )
    assert chat.thread_id == 77
    assert chat.added_by == 9
    assert chat.title == "Forum"


async def test_subscribe_reactivates_and_resets_failures(
    stores: DeliveryStores, chat_store: ChatStore
) -> None:
    await sub(chat_store, 42, "energy")
    await stores.failures.record_unavailable(42, error="Forbidden", now=T0)
    await stores.failures.deactivate(42, reason="blocked", now=T0)
    assert not (await chat_store.chat(42)).active  # type: ignore[union-attr]
    chat = await sub(chat_store, 42, "energy")
    assert chat.active
    assert chat.failures == 0
    assert chat.last_error is None


async def test_subscribe_with_no_topics_leaves_the_chat_inactive(chat_store: ChatStore) -> None:
    chat = await sub(chat_store, 42)
    assert not chat.active
    assert chat.topics == ()


async def test_subscribe_refuses_an_unknown_kind(chat_store: ChatStore) -> None:
    with pytest.raises(ValueError, match="kind"):
        await sub(chat_store, 42, "energy", kind="bogus")


async def test_unsubscribe_one_topic_keeps_the_chat_active(chat_store: ChatStore) -> None:
    await sub(chat_store, 42, "energy", "azerbaijan-iran")
    chat = await chat_store.unsubscribe(42, topics=["energy"], now=T0)
    assert chat is not None
    assert chat.active
    assert chat.topics == ("azerbaijan-iran",)


async def test_unsubscribe_all_makes_the_chat_inactive(chat_store: ChatStore) -> None:
    await sub(chat_store, 42, "energy", "azerbaijan-iran")
    chat = await chat_store.unsubscribe(42, topics=None, now=T0)
    assert chat is not None
    assert not chat.active
    assert chat.topics == ()
    assert await chat_store.chats() == []
    assert [c.chat_id for c in await chat_store.chats(active_only=False)] == [42]


async def test_unsubscribe_an_unknown_chat_returns_none(chat_store: ChatStore) -> None:
    assert await chat_store.unsubscribe(5, topics=None, now=T0) is None
    assert await chat_store.chat(5) is None


async def test_chats_lists_active_chats_by_id_with_topics(chat_store: ChatStore) -> None:
    await sub(chat_store, 3, "energy")
    await sub(chat_store, -5, "azerbaijan-iran", "energy", kind="group")
    await sub(chat_store, 9, "energy")
    await chat_store.unsubscribe(9, topics=None, now=T0)
    chats = await chat_store.chats()
    assert [(c.chat_id, c.topics) for c in chats] == [
        (-5, ("azerbaijan-iran", "energy")),
        (3, ("energy",)),
    ]


async def test_enqueue_adds_one_row_per_item_and_subscribed_chat(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore, db_engine: AsyncEngine
) -> None:
    await sub(chat_store, 1, "azerbaijan-iran")
    await sub(chat_store, 2, "azerbaijan-iran", "energy")  # both topics: still one row per item
    await sub(chat_store, 3, "energy")
    await sub(chat_store, 4, "azerbaijan-iran")
    await chat_store.unsubscribe(4, topics=None, now=T0)  # inactive: nothing
    result = await flag(
        hooked, [entry("a", matches=(AZ_IR, ENERGY)), entry("b", minutes=1), entry("c", matches=())]
    )
    a, b = (s.id for s in result.flagged)
    assert sorted(await outbox_rows(db_engine)) == sorted(
        [
            (a, 1, "pending"),
            (a, 2, "pending"),
            (a, 3, "pending"),
            (b, 1, "pending"),
            (b, 2, "pending"),
        ]
    )
    assert await stores.outbox.pending_count() == 5
    assert await stores.outbox.pending_count(3) == 1
    assert await stores.outbox.pending_chats() == [1, 2, 3]


async def test_enqueue_of_a_refetched_item_adds_nothing(
    hooked: Store, chat_store: ChatStore, db_engine: AsyncEngine
) -> None:
    await sub(chat_store, 1, "azerbaijan-iran")
    await flag(hooked, [entry("a")])
    await flag(hooked, [entry("a")], now=T0 + timedelta(minutes=5))
    assert len(await outbox_rows(db_engine)) == 1


async def test_enqueue_is_idempotent_under_the_unique_constraint(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore, db_engine: AsyncEngine
) -> None:
    await sub(chat_store, 1, "azerbaijan-iran")
    result = await flag(hooked, [entry("a")])
    async with db_engine.begin() as conn:
        await stores.outbox.enqueue(conn, result.flagged, T0)
    assert len(await outbox_rows(db_engine)) == 1


async def test_next_pending_gives_rows_in_order_with_the_item_and_thread(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore
) -> None:
    await chat_store.subscribe(
        -1001, kind="supergroup", title="F", topics=["energy"], thread_id=5, now=T0
    )
    await flag(
        hooked,
        [entry("b", minutes=2, matches=(AZ_IR, ENERGY)), entry("a", minutes=1, matches=(ENERGY,))],
    )
    rows = await stores.outbox.next_pending(-1001)
    assert [r.item.item.key for r in rows] == ["a", "b"]  # oldest first
    assert {r.thread_id for r in rows} == {5}
    assert rows[1].item.topics == ("energy",)  # only the chat's own topics are shown
    assert rows[0].item.source_name == "Caliber.Az"
    assert await stores.outbox.next_pending(-1001, limit=1) == rows[:1]


async def test_mark_sent_removes_the_row_from_pending_and_clears_failures(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore, db_engine: AsyncEngine
) -> None:
    await sub(chat_store, 1, "azerbaijan-iran")
    await flag(hooked, [entry("a"), entry("b", minutes=1)])
    chat = await stores.failures.record_unavailable(1, error="Forbidden", now=T0)
    assert chat is not None
    assert chat.failures == 1
    assert chat.first_failure == T0
    first = (await stores.outbox.next_pending(1))[0]
    await stores.sends.mark_sent(first.outbox_id, message_id=10, now=T0)
    assert [r.outbox_id for r in await stores.outbox.next_pending(1)] != [first.outbox_id]
    assert await stores.outbox.pending_count(1) == 1
    chat = await chat_store.chat(1)
    assert chat is not None
    assert chat.failures == 0
    assert chat.first_failure is None


async def test_drop_and_deactivate_end_pending_rows(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore, db_engine: AsyncEngine
) -> None:
    await sub(chat_store, 1, "azerbaijan-iran")
    await sub(chat_store, 2, "azerbaijan-iran")
    await flag(hooked, [entry("a"), entry("b", minutes=1)])
    one = (await stores.outbox.next_pending(1))[0]
    await stores.sends.drop(one.outbox_id, reason="message too long", now=T0)
    await stores.failures.deactivate(2, reason="blocked", now=T0)
    assert await stores.outbox.pending_count(1) == 1
    assert await stores.outbox.pending_count(2) == 0
    assert await stores.outbox.next_pending(2) == []
    chat = await chat_store.chat(2)
    assert chat is not None
    assert not chat.active
    assert chat.topics == ("azerbaijan-iran",)  # kept, for a later /start


async def test_unsubscribe_drops_pending_rows_of_removed_topics_only(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore, db_engine: AsyncEngine
) -> None:
    await sub(chat_store, 1, "azerbaijan-iran", "energy")
    await flag(
        hooked,
        [
            entry("az", matches=(AZ_IR,)),
            entry("gas", minutes=1, matches=(ENERGY,)),
            entry("both", minutes=2, matches=(AZ_IR, ENERGY)),
        ],
    )
    await chat_store.unsubscribe(1, topics=["energy"], now=T0)
    assert [r.item.item.key for r in await stores.outbox.next_pending(1)] == ["az", "both"]
    await chat_store.unsubscribe(1, topics=None, now=T0)
    assert await stores.outbox.pending_count(1) == 0
    assert {status for _, _, status in await outbox_rows(db_engine)} == {"dropped"}


async def test_migrate_chat_moves_subscriptions_and_pending_rows(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore
) -> None:
    await sub(chat_store, -5, "azerbaijan-iran", kind="group", added_by=3)
    await flag(hooked, [entry("a"), entry("b", minutes=1)])
    await chat_store.migrate_chat(-5, -1005, now=T0)
    assert await chat_store.chat(-5) is None
    new = await chat_store.chat(-1005)
    assert new is not None
    assert (new.kind, new.active, new.topics, new.added_by) == (
        "supergroup",
        True,
        ("azerbaijan-iran",),
        3,
    )
    assert [r.item.item.key for r in await stores.outbox.next_pending(-1005)] == ["a", "b"]
    await chat_store.migrate_chat(-5, -1005, now=T0)  # the second service message: no-op


async def test_migrate_chat_merges_into_a_known_chat_without_duplicates(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore, db_engine: AsyncEngine
) -> None:
    await sub(chat_store, -5, "azerbaijan-iran", kind="group")
    await sub(chat_store, -1005, "azerbaijan-iran", "energy", kind="supergroup")
    await flag(hooked, [entry("a"), entry("b", minutes=1)])
    await chat_store.migrate_chat(-5, -1005, now=T0)
    new = await chat_store.chat(-1005)
    assert new is not None
    assert new.topics == ("azerbaijan-iran", "energy")
    assert await stores.outbox.pending_count(-1005) == 2
    assert len(await outbox_rows(db_engine)) == 2


async def test_first_pending_reads_the_oldest_row_of_many_chats_at_once(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore
) -> None:
    for chat_id in (1, 2, 3):
        await sub(chat_store, chat_id, "azerbaijan-iran")
    await chat_store.unsubscribe(3, topics=None, now=T0)
    await sub(chat_store, 4, "energy")
    await flag(hooked, [entry("a"), entry("b", minutes=1)])
    first = await stores.outbox.first_pending([1, 2, 3, 4])
    assert sorted(first) == [1, 2]  # 3 is inactive, 4 has nothing
    assert {row.item.item.key for row in first.values()} == {"a"}
    assert await stores.outbox.first_pending([]) == {}


async def test_concurrent_mark_sent_calls_all_commit_and_say_what_is_left(
    stores: DeliveryStores, hooked: Store, chat_store: ChatStore
) -> None:
    for chat_id in range(1, 11):
        await sub(chat_store, chat_id, "azerbaijan-iran")
    await flag(hooked, [entry("a")])
    await flag(hooked, [entry("b", minutes=1)])
    rows = await stores.outbox.first_pending(list(range(1, 11)))
    await sub(chat_store, 99, "energy")
    more = await asyncio.gather(
        *(
            stores.sends.mark_sent(r.outbox_id, message_id=i, now=T0)
            for i, r in enumerate(rows.values())
        )
    )
    assert more == [True] * 10  # each chat still has "b"
    assert await stores.outbox.pending_count() == 10
    rows = await stores.outbox.first_pending(list(range(1, 11)))
    more = await asyncio.gather(
        *(stores.sends.mark_sent(r.outbox_id, message_id=1, now=T0) for r in rows.values())
    )
    assert more == [False] * 10
    assert await stores.outbox.pending_count() == 0
