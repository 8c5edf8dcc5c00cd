"""bot.storage.labels on SQLite and PostgreSQL: one label per person and item, a copy of the text
that outlives the item, majority verdicts, imports, pruning, the chats' flag, two processes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Validators
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.labels import LabelStore, NewLabel, Vote, item_ref
from bot.storage.outbox import Outbox
from bot.storage.tables import items
from tests.storage.test_stories import CALL, SOURCES, T0, report

CHAT, GROUP, ANA, BOB, CEM = 11, -100500, 501, 502, 503


async def stored_item(engine: AsyncEngine, key: str = "a1") -> int:
    """Store one flagged APA report; its item id."""
    store = Store(engine)
    await store.sync_sources(SOURCES, now=T0)
    await store.save_fetch(
        "apa",
        items=[report("apa", key, CALL["apa"], 0)],
        validators=Validators(),
        now=T0,
        next_poll=T0 + timedelta(minutes=5),
        announce=True,
    )
    [found] = [s for s in await store.latest(10) if s.item.key == key]
    return found.id


async def test_a_press_is_stored_once_and_a_second_press_changes_the_verdict(
    db_engine: AsyncEngine,
) -> None:
    item_id = await stored_item(db_engine)
    labels = LabelStore(db_engine)
    first = await labels.record(
        item_id, relevant=True, user_id=ANA, user_name="@ana", chat_id=CHAT, now=T0
    )
    again = await labels.record(
        item_id, relevant=True, user_id=ANA, user_name="@ana", chat_id=CHAT, now=T0
    )
    changed = await labels.record(
        item_id,
        relevant=False,
        user_id=ANA,
        user_name="@ana",
        chat_id=CHAT,
        now=T0 + timedelta(minutes=1),
    )
    assert (first.relevant, first.not_relevant, first.changed) == (1, 0, True)  # type: ignore[union-attr]
    assert again is not None
    assert not again.changed
    assert (changed.relevant, changed.not_relevant, changed.changed) == (0, 1, True)  # type: ignore[union-attr]
    [labelled] = await labels.labelled()
    assert [(v.who, v.relevant, v.at) for v in labelled.votes] == [
        (f"telegram:{ANA}", False, T0 + timedelta(minutes=1))
    ]
    assert labelled.ref == item_ref("apa", "a1")
    assert (labelled.title, labelled.source, labelled.topics) == (
        CALL["apa"][0],
        "APA",
        ("azerbaijan-iran",),
    )


async def test_the_majority_decides_and_a_tie_goes_to_the_latest_vote(
    db_engine: AsyncEngine,
) -> None:
    item_id = await stored_item(db_engine)
    labels = LabelStore(db_engine)
    for n, (user, verdict) in enumerate([(ANA, False), (BOB, True)]):
        await labels.record(
            item_id,
            relevant=verdict,
            user_id=user,
            user_name=None,
            chat_id=GROUP,
            now=T0 + timedelta(minutes=n),
        )
    [tie] = await labels.labelled()
    assert (tie.relevant_votes, tie.not_relevant_votes, tie.relevant) == (1, 1, True)
    marks = await labels.record(
        item_id, relevant=False, user_id=CEM, user_name=None, chat_id=GROUP, now=T0
    )
    [majority] = await labels.labelled()
    assert not majority.relevant
    assert marks is not None
    assert (marks.relevant, marks.not_relevant) == (1, 2)
    assert await labels.marks(GROUP, item_id) == marks.__class__(1, 2)
    assert await labels.marks(CHAT, item_id) == marks.__class__(0, 0)  # counts are per chat


async def test_a_label_outlives_its_item_but_a_removed_item_cannot_be_labelled(
    db_engine: AsyncEngine,
) -> None:
    item_id = await stored_item(db_engine)
    labels = LabelStore(db_engine)
    await labels.record(item_id, relevant=False, user_id=ANA, user_name=None, chat_id=CHAT, now=T0)
    async with db_engine.begin() as conn:  # what retention does to an old item
        await conn.execute(delete(items).where(items.c.id == item_id))
    [kept] = await labels.labelled()
    assert kept.title == CALL["apa"][0]
    assert not kept.relevant
    gone = await labels.record(
        item_id, relevant=True, user_id=BOB, user_name=None, chat_id=CHAT, now=T0
    )
    assert gone is None
    assert len((await labels.labelled())[0].votes) == 1


async def test_since_and_topic_select_what_is_read(db_engine: AsyncEngine) -> None:
    old, new = await stored_item(db_engine, "a1"), await stored_item(db_engine, "a2")
    labels = LabelStore(db_engine)
    await labels.record(old, relevant=True, user_id=ANA, user_name=None, chat_id=CHAT, now=T0)
    later = T0 + timedelta(days=3)
    await labels.record(new, relevant=True, user_id=ANA, user_name=None, chat_id=CHAT, now=later)
    recent = await labels.labelled(since=T0 + timedelta(days=1))
    assert [i.ref for i in recent] == [item_ref("apa", "a2")]
    assert len(await labels.labelled(topic="azerbaijan-iran")) == 2
    assert await labels.labelled(topic="energy") == []
    assert await labels.prune(T0 + timedelta(days=1)) == 1
    assert [i.ref for i in await labels.labelled()] == [item_ref("apa", "a2")]


def imported(ref: str, *votes: Vote, named: bool = False) -> NewLabel:
    return NewLabel(ref, "Title", "Text", "en", "IRNA", None, None, (), votes, named)


async def test_import_never_counts_the_desks_own_votes_twice(db_engine: AsyncEngine) -> None:
    item_id = await stored_item(db_engine)
    labels = LabelStore(db_engine)
    await labels.record(item_id, relevant=True, user_id=ANA, user_name=None, chat_id=CHAT, now=T0)
    ref = item_ref("apa", "a1")
    anonymous = [
        imported(ref, Vote("import:1", False, T0)),
        imported("x-1", Vote("import:1", True, T0)),
    ]
    assert await labels.add(anonymous, now=T0) == (1, 1)  # the desk's item is left alone
    assert await labels.add([imported("x-1", Vote("import:1", False, T0))], now=T0) == (1, 0)
    by_ref = {i.ref: i for i in await labels.labelled()}
    assert [v.relevant for v in by_ref[ref].votes] == [True]
    assert [v.relevant for v in by_ref["x-1"].votes] == [False]  # replaced, not added
    person = Vote(f"telegram:{BOB}", False, T0, BOB, "@bob", CHAT)
    assert await labels.add([imported(ref, person, named=True)], now=T0) == (1, 0)
    assert by_ref[ref].relevant  # before
    [*_, after] = [i for i in await labels.labelled() if i.ref == ref]
    assert (after.relevant_votes, after.not_relevant_votes) == (1, 1)


async def test_the_feedback_flag_is_per_chat_and_unknown_chats_are_refused(
    db_engine: AsyncEngine,
) -> None:
    chats = ChatStore(db_engine)
    await Store(db_engine).sync_sources(SOURCES, now=T0)
    await chats.subscribe(
        GROUP, kind="supergroup", title="Desk", topics=["azerbaijan-iran"], thread_id=None, now=T0
    )
    labels = LabelStore(db_engine)
    assert (await labels.flag(GROUP)).known
    assert (await labels.flag(GROUP)).flag is None
    assert await labels.set_flag(GROUP, True, now=T0)
    assert (await labels.flag(GROUP)).flag is True
    assert await labels.set_flag(GROUP, False, now=T0)
    assert (await labels.flag(GROUP)).flag is False
    assert not await labels.set_flag(-1, True, now=T0)
    assert not (await labels.flag(-1)).known
    outbox = Outbox(db_engine)
    store = Store(db_engine, on_flagged=[outbox.enqueue])
    await store.save_fetch(
        "apa",
        items=[report("apa", "a9", CALL["apa"], 0)],
        validators=Validators(),
        now=T0,
        next_poll=T0 + timedelta(minutes=5),
        announce=True,
    )
    [pending] = await outbox.next_pending(GROUP)
    assert pending.feedback is False  # delivery reads the chat's flag with its rows


async def test_two_processes_see_the_same_labels(
    db_engine: AsyncEngine, other_engine: AsyncEngine
) -> None:
    item_id = await stored_item(db_engine)
    here, there = LabelStore(db_engine), LabelStore(other_engine)
    await here.record(item_id, relevant=True, user_id=ANA, user_name=None, chat_id=GROUP, now=T0)
    marks = await there.record(
        item_id, relevant=False, user_id=BOB, user_name=None, chat_id=GROUP, now=T0
    )
    assert marks is not None
    assert (marks.relevant, marks.not_relevant) == (1, 1)
    assert (await here.marks(GROUP, item_id)).not_relevant == 1
    [seen] = await here.labelled()
    assert len(seen.votes) == 2


async def test_the_light_read_takes_the_most_recently_labelled_items(
    db_engine: AsyncEngine,
) -> None:
    labels = LabelStore(db_engine)
    await labels.add(
        [
            imported("old", Vote("import:1", True, T0)),
            imported("new", Vote("import:1", False, T0 + timedelta(days=1))),
            imported("mid", Vote("import:1", True, T0 + timedelta(hours=1))),
        ],
        now=T0,
    )
    newest, total = await labels.texts(2)
    assert total == 3
    assert sorted(i.ref for i in newest) == ["mid", "new"]
    everything, _ = await labels.texts()
    assert {i.ref: i.relevant for i in everything} == {"old": True, "new": False, "mid": True}
