"""The daily review goes through its outbox: claimed with the day, then sent like every other
message, exactly once across a Telegram outage, a process that dies between the claim and the
send, and several senders.

Real parts: the store on SQLite or PostgreSQL, the real `telegram.Bot` (through
`TelegramSender`) talking to the Bot API emulator, the real pacer. Stories are stored as a poll
stores them, two hours before the review runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.models import Validators
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.review_outbox import ReviewOutbox
from bot.storage.review_tables import review_outbox
from bot.storage.stories import StoryStore
from bot.telegram.messenger import TelegramSender
from bot.telegram.pacing import Pacer
from bot.telegram.review_job import ReviewJob
from bot.telegram.review_sender import ReviewPolicy, ReviewSender
from tests.emulator.server import TelegramEmulator
from tests.storage.test_stories import CALL, SOURCES, report
from tests.telegram.test_commands import BAKU, TOPICS

WINDOW = timedelta(hours=48)
CHAT = 8101
FAST = ReviewPolicy(recheck=0.2, claim_ttl=1.0, backoff_base=0.05, backoff_max=0.2)


@dataclass
class Rig:
    emu: TelegramEmulator
    db: DbAccess
    job: ReviewJob
    bot: Bot

    def sender(self, holder: str, policy: ReviewPolicy = FAST) -> ReviewSender:
        return ReviewSender(
            ReviewOutbox(self.db), TelegramSender(self.bot), Pacer(), holder=holder,
            clock=lambda: datetime.now(UTC), policy=policy,
        )  # fmt: skip

    def reviews(self) -> list[str]:
        return [m.plain_text for m in self.emu.sent_messages(CHAT) if "Media review" in m.text]

    async def statuses(self) -> list[str]:
        async with self.db.read("test") as conn:
            return list((await conn.scalars(select(review_outbox.c.status))).all())


@pytest.fixture
async def rig(telegram_api: TelegramEmulator, db_engine: AsyncEngine) -> AsyncIterator[Rig]:
    telegram_api.configure(rate_limits=None)
    db = DbAccess(db_engine)
    chats = ChatStore(db)
    stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
    store = Store(db, on_matched=[stories.assign], on_flagged=[Outbox(db).enqueue])
    await store.sync_sources(SOURCES)
    now = datetime.now(UTC)
    for source, key, text in (("apa", "a1", CALL["apa"]), ("irna", "i1", CALL["irna"])):
        entry = report(source, key, text, 0)
        item = replace(entry.item, published=now - timedelta(hours=2))
        await store.save_fetch(
            source, items=[replace(entry, item=item)], validators=Validators(), now=now,
            next_poll=now, announce=False,
        )  # fmt: skip
    await chats.subscribe(
        CHAT, kind="private", title=None, topics=["azerbaijan-iran"], thread_id=None, now=now
    )
    await chats.set_mode(CHAT, "digest", now=now)
    job = ReviewJob(
        chats, stories, ReviewOutbox(db), topic_names=lambda: {t.id: t.name for t in TOPICS},
        tz=BAKU, clock=lambda: datetime.now(UTC),
    )  # fmt: skip
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as bot:
        yield Rig(telegram_api, db, job, bot)


async def test_a_review_telegram_refuses_for_a_while_arrives_once(rig: Rig):
    rig.emu.fail_next(4, 502, methods=["sendMessage"])  # Telegram away for four tries
    sender = rig.sender("leader")
    sender.start()
    try:
        assert await rig.job.send_due() == 1
        await rig.emu.wait_until_async(rig.reviews, timeout=10)
        assert await rig.job.send_due() == 0  # the same day again: nothing more
    finally:
        await sender.stop()
    assert await rig.sender("another").run_once() == 0  # nothing left to send again
    assert len(rig.reviews()) == 1
    assert len(rig.emu.requests("sendMessage")) == 5  # four refused, one accepted
    assert await rig.statuses() == ["sent"]


async def test_a_process_that_dies_between_claim_and_send_loses_nothing(rig: Rig):
    assert await rig.job.send_due() == 1  # claimed with its messages, in one transaction
    # The process that would send it claims the message and dies before sending.
    dead = ReviewOutbox(rig.db)
    [taken] = await dead.claim_next([CHAT], "dead", now=datetime.now(UTC), ttl=FAST.claim_ttl)
    assert taken.chat_id == CHAT
    # Its successors (two, as with several processes) take it over once the claim expires.
    senders = [rig.sender("heir-1"), rig.sender("heir-2")]
    for sender in senders:
        sender.start()
    try:
        await rig.emu.wait_until_async(rig.reviews, timeout=10)
    finally:
        for sender in senders:
            await sender.stop()
    assert await rig.sender("another").run_once() == 0  # nothing left to send again
    assert len(rig.reviews()) == 1
    assert await rig.statuses() == ["sent"]


async def test_a_long_review_goes_in_its_parts_in_order(rig: Rig):
    outbox = ReviewOutbox(rig.db)
    parts = [f"<b>Media review</b> part {n}" for n in range(1, 4)]
    now = datetime.now(UTC)
    assert await outbox.claim_and_enqueue(CHAT, "2026-12-07", parts, thread_id=None, now=now)
    assert not await outbox.claim_and_enqueue(CHAT, "2026-12-07", parts, thread_id=None, now=now)
    sender = rig.sender("leader")
    assert await sender.drain() == 3
    assert rig.reviews() == ["Media review part 1", "Media review part 2", "Media review part 3"]
