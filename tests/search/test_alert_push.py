"""AlertPush in the saving transaction, on SQLite and PostgreSQL: what reaches the outbox, once,
for which chats, with which alerts noted; alerts saved by another process are seen."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Item, MatchedItem, Validators
from bot.review.alerts import compile_alerts
from bot.review.stories import Grouper, Rules
from bot.storage.alerts import AlertPush, AlertStore
from bot.storage.chat_tables import outbox
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.search_tables import alert_hits
from bot.storage.stories import StoryStore
from tests.search.archive import NOW, TOPIC, fill, search_store

A, B = 7001, 7002


def report(key: str, title: str, *, minutes: int = 0, flagged: bool = False) -> MatchedItem:
    item = Item(
        source_id="apa-en",
        key=key,
        url=f"https://apa-en.test/{key}",
        title=title,
        summary="",
        published=NOW + timedelta(minutes=minutes),
        language="en",
    )
    return MatchedItem(item, (TOPIC,) if flagged else ())


def stack(engine: AsyncEngine) -> tuple[Store, ChatStore]:
    chats = ChatStore(engine)
    stories = StoryStore(engine, Grouper(Rules()), window=timedelta(hours=48))
    push = AlertPush(engine, compile_alerts, stories.assign)
    store = search_store(
        engine, [push], on_flagged=[Outbox(engine).enqueue], on_matched=[stories.assign]
    )
    return store, chats


async def save(store: Store, *items: MatchedItem, announce: bool = True, at: int = 0) -> None:
    await store.save_fetch(
        "apa-en",
        items=list(items),
        validators=Validators(),
        now=NOW + timedelta(minutes=at),
        next_poll=NOW + timedelta(hours=1),
        announce=announce,
    )


async def rows(engine: AsyncEngine) -> list[tuple[int, str, str]]:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(outbox.c.chat_id, outbox.c.kind, outbox.c.item_id).order_by(outbox.c.id)
        )
        return [(c, k, str(i)) for c, k, i in found.all()]


async def test_an_alert_saved_by_another_process_pushes_the_next_new_item(
    db_engine: AsyncEngine, other_engine: AsyncEngine
):
    store, _ = stack(db_engine)
    await fill(store, announce=False)
    await save(store, report("n1", "Astara bridge closed for repairs"))  # loads (no alerts yet)
    assert await rows(db_engine) == []
    await AlertStore(other_engine).add(A, "astara", kind="private", title=None, now=NOW, limit=5)
    await save(store, report("n2", "Astara customs post reopens"), at=1)
    assert [(c, k) for c, k, _ in await rows(db_engine)] == [(A, "send")]
    saved = await AlertStore(other_engine).saved(A)
    await AlertStore(other_engine).remove(A, saved[0].number)
    await save(store, report("n3", "Astara port expands"), at=2)
    assert len(await rows(db_engine)) == 1


async def test_a_backlog_pushes_nothing_and_digest_chats_get_nothing(db_engine: AsyncEngine):
    store, chats = stack(db_engine)
    await fill(store, announce=False)
    alerts = AlertStore(db_engine)
    await alerts.add(A, "astara", kind="private", title=None, now=NOW, limit=5)
    await alerts.add(B, "astara", kind="private", title=None, now=NOW, limit=5)
    await chats.set_mode(B, "digest", now=NOW)
    await save(store, report("n1", "Astara news"), announce=False)
    assert await rows(db_engine) == []
    await save(store, report("n2", "More Astara news"), at=1)
    assert [c for c, _, _ in await rows(db_engine)] == [A]


async def test_one_row_per_item_and_chat_when_a_topic_matches_too_and_the_alert_is_noted(
    db_engine: AsyncEngine,
):
    store, chats = stack(db_engine)
    await fill(store, announce=False)
    await chats.subscribe(
        A, kind="private", title=None, topics=[TOPIC.topic_id], thread_id=None, now=NOW
    )
    alerts = AlertStore(db_engine)
    await alerts.add(A, "astara", kind="private", title=None, now=NOW, limit=5)
    await alerts.add(A, '"bridge opens"', kind="private", title=None, now=NOW, limit=5)
    await save(store, report("n1", "Astara bridge opens", flagged=True))
    assert [(c, k) for c, k, _ in await rows(db_engine)] == [(A, "send")]
    async with db_engine.connect() as conn:
        noted = (await conn.execute(select(alert_hits.c.chat_id, alert_hits.c.queries))).all()
    assert [(c, q.splitlines()) for c, q in noted] == [(A, ["astara", '"bridge opens"'])]
    (pending,) = await Outbox(db_engine).next_pending(A)
    assert pending.item.alerts == ("astara", '"bridge opens"')


async def test_a_later_report_of_the_story_edits_the_chats_message(db_engine: AsyncEngine):
    store, _ = stack(db_engine)
    await fill(store, announce=False)
    await AlertStore(db_engine).add(A, "lankaran", kind="private", title=None, now=NOW, limit=5)
    await save(store, report("n1", "Flood in Lankaran: roads closed, villages cut off"))
    await save(
        store, report("n2", "Lankaran flood: roads closed, villages cut off", minutes=20), at=30
    )
    assert [(c, k) for c, k, _ in await rows(db_engine)] == [(A, "send"), (A, "edit")]
