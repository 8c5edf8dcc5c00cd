"""The daily review: its text (pure), and who gets it when, once a day, with a controlled clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Item, StoredItem, Story, TermHit, TopicMatch, Validators
from bot.review.digest import review_messages
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.review_claims import ReviewClaims
from bot.storage.stories import StoryStore
from bot.telegram.review_job import ReviewJob
from bot.text.markup import utf16_len, visible_text
from tests.storage.test_stories import CALL, GAS, SOURCES

BAKU = ZoneInfo("Asia/Baku")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AZ_IR = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran*", "title", "Iran"),))
NAMES = {"azerbaijan-iran": "Azerbaijan–Iran relations"}


def stored(n: int, source: str, title: str, summary: str = "", minutes: int = 0) -> StoredItem:
    item = Item(
        source_id=source,
        key=str(n),
        url=f"https://{source}.example/{n}",
        title=title,
        summary=summary,
        published=T0 + timedelta(minutes=minutes),
    )
    return StoredItem(n, item, source.upper(), T0, (AZ_IR,))


def test_review_heading_order_and_outlets() -> None:
    one = Story(1, (stored(1, "apa", "Trade up 14 percent", "Trade grew."),))
    three = Story(
        2,
        (
            stored(2, "apa", "Aliyev, Pezeshkian talk <by phone>", "They spoke & agreed."),
            stored(3, "irna", "Pezeshkian calls Aliyev", minutes=5),
            stored(4, "trend", "Presidents talk", minutes=9),
        ),
    )
    [html] = review_messages(
        [one, three], topic_name=NAMES["azerbaijan-iran"], day=date(2026, 12, 1)
    )
    lines = html.split("\n")
    assert lines[0] == "<b>Media review: Azerbaijan–Iran relations, 1 Dec 2026</b>"
    # Most-covered first, title linked and escaped, summary escaped, every outlet linked.
    assert lines[2] == (
        '1. <b><a href="https://apa.example/2">Aliyev, Pezeshkian talk &lt;by phone&gt;</a></b>'
    )
    assert lines[3] == "They spoke &amp; agreed."
    assert lines[4] == (
        '<i>Outlets:</i> <a href="https://apa.example/2">APA</a>, '
        '<a href="https://irna.example/3">IRNA</a>, <a href="https://trend.example/4">TREND</a>'
    )
    assert lines[6].startswith("2. ")
    assert lines[-1] == '<i>Outlet:</i> <a href="https://apa.example/1">APA</a>'
    [text] = review_messages([one, three], topic_name="T", day=date(2026, 12, 1), fmt="text")
    assert "   IRNA: https://irna.example/3" in text.splitlines()
    [md] = review_messages([three], topic_name="T", day=date(2026, 12, 1), fmt="markdown")
    assert "**[Aliyev, Pezeshkian talk \\<by phone\\>](https://apa.example/2)**" in md


def test_a_long_review_is_split_between_stories_within_the_limit() -> None:
    stories = [
        Story(n, (stored(n, "apa", f"Story number {n}", "Word " * 150, minutes=n),))
        for n in range(1, 40)
    ]
    messages = review_messages(stories, topic_name="T", day=date(2026, 12, 1))
    assert len(messages) > 1
    for message in messages:
        assert utf16_len(visible_text(message)) <= 4096
    numbers = [
        int(line.split(".", 1)[0])
        for message in messages
        for line in message.split("\n")
        if line[:1].isdigit()
    ]
    assert numbers == list(range(1, 40))  # nothing lost, nothing cut in two


def test_no_stories_no_review() -> None:
    assert review_messages([], topic_name="T", day=date(2026, 12, 1)) == []


class Recorder:
    """The Sender protocol, recording what it was asked to send (the network boundary)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send(self, chat_id: int, text: str, *, html: bool, thread_id: int | None) -> int:
        self.sent.append((chat_id, text))
        return len(self.sent)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def report(source: str, key: str, text: tuple[str, str], minutes: int):
    from tests.storage.test_stories import report as make

    return make(source, key, text, minutes)


async def setup(engine: AsyncEngine, clock: Clock, sender: Recorder):
    db = DbAccess(engine)
    window = timedelta(hours=48)
    stories = StoryStore(db, Grouper(Rules(window=window)), window=window)
    chats, outbox = ChatStore(db), Outbox(db)
    store = Store(db, on_matched=[stories.assign], on_flagged=[outbox.enqueue])
    await store.sync_sources(SOURCES, now=T0)
    job = ReviewJob(
        chats,
        stories,
        sender,
        claims=ReviewClaims(db),
        topic_names=lambda: NAMES,
        tz=BAKU,
        clock=clock,
    )
    return store, chats, stories, job


async def save(store: Store, source: str, entries) -> None:
    await store.save_fetch(
        source,
        items=entries,
        validators=Validators(),
        now=T0 + timedelta(hours=1),
        next_poll=T0 + timedelta(hours=2),
        announce=True,
    )


async def subscribe(chats: ChatStore, chat_id: int, mode: str) -> None:
    await chats.subscribe(
        chat_id, kind="private", title=None, topics=["azerbaijan-iran"], thread_id=None, now=T0
    )
    await chats.set_mode(chat_id, mode, now=T0)


async def test_the_review_goes_once_a_day_to_digest_and_both_chats(db_engine: AsyncEngine) -> None:
    clock, sender = Clock(T0 + timedelta(hours=20)), Recorder()  # 05:00 in Baku, 2 Dec
    store, chats, _stories, job = await setup(db_engine, clock, sender)
    outbox = Outbox(db_engine)
    for chat_id, mode in ((1, "instant"), (2, "digest"), (3, "both")):
        await subscribe(chats, chat_id, mode)
    await save(store, "apa", [report("apa", "a1", CALL["apa"], 0), report("apa", "g", GAS, 5)])
    await save(store, "irna", [report("irna", "i1", CALL["irna"], 30)])

    # Modes: a digest chat gets no instant messages; instant and both do.
    assert await outbox.pending_count(1) == 3
    assert await outbox.pending_count(2) == 0
    assert await outbox.pending_count(3) == 3

    assert await job.send_due() == 2
    assert sorted({chat for chat, _ in sender.sent}) == [2, 3]
    review = dict(sender.sent)[2]
    assert review.startswith("<b>Media review: Azerbaijan–Iran relations, 2 Dec 2026</b>")
    assert review.index("Pezeshkian") < review.index("Mustafayev")  # two outlets before one

    # The same day again, or another process with its own job: nothing more.
    assert await job.send_due() == 0
    other = ReviewJob(
        chats,
        _stories,
        sender,
        claims=ReviewClaims(db_engine),
        topic_names=lambda: NAMES,
        tz=BAKU,
        clock=clock,
    )
    assert await other.send_due() == 0
    assert len(sender.sent) == 2

    # The next day: the stories are older than 24 h, so the day sends nothing.
    clock.now += timedelta(days=1)
    assert await job.send_due() == 0
    assert len(sender.sent) == 2


async def test_switching_to_digest_drops_pending_instant_messages(db_engine: AsyncEngine) -> None:
    store, chats, _stories, _job = await setup(db_engine, Clock(T0), Recorder())
    outbox = Outbox(db_engine)
    await subscribe(chats, 5, "instant")
    await save(store, "apa", [report("apa", "a1", CALL["apa"], 0)])
    assert await outbox.pending_count(5) == 1
    chat = await chats.set_mode(5, "digest", now=T0)
    assert chat is not None
    assert chat.mode == "digest"
    assert await outbox.pending_count(5) == 0
    with pytest.raises(ValueError, match="unknown mode"):
        await chats.set_mode(5, "sometimes", now=T0)


def test_the_cron_fires_at_the_digest_time_in_the_bot_time_zone() -> None:
    job = ReviewJob(None, None, Recorder(), claims=None, topic_names=dict, tz=BAKU, clock=Clock(T0))  # type: ignore[arg-type]
    trigger = job.trigger(9, 0)
    after = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 10:00 in Baku: today's run has passed
    fire = trigger.get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
