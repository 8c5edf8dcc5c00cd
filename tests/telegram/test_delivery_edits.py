"""A story's later reports edit the chat's message (editMessageText) through the real Bot and the
emulator: two outlets, one message, edited once, across a restart; coalescing; a failed edit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.models import Validators
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.delivery import DeliveryStores
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.stories import StoryStore
from bot.telegram.delivery import DeliveryWorker
from bot.telegram.messenger import TelegramSender
from bot.telegram.pacing import Limits, Pacer
from tests.emulator.server import TelegramEmulator
from tests.storage.test_stories import CALL, SOURCES, report
from tests.telegram.test_delivery import BAKU, FAST, SCALE, TOPICS

WINDOW = timedelta(hours=48)
CHAT = 11


class Process:
    """One "process": its own stores (a fresh grouper) and worker on a shared database."""

    def __init__(self, engine: AsyncEngine, bot: Bot, *, edit_gap: float = 60.0) -> None:
        db = DbAccess(engine)
        self.chats, self.outbox = ChatStore(db), Outbox(db)
        stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
        self.store = Store(db, on_matched=[stories.assign], on_flagged=[self.outbox.enqueue])
        self.worker = DeliveryWorker(
            DeliveryStores.on(db),
            TelegramSender(bot),
            topic_names=TOPICS,
            tz=BAKU,
            clock=lambda: datetime.now(UTC),
            pacer=Pacer(Limits(scale=SCALE)),
            policy=replace(FAST, edit_gap=edit_gap),
        )

    async def flag(self, source: str, key: str, text: tuple[str, str], minutes: int) -> None:
        await self.store.save_fetch(
            source,
            items=[report(source, key, text, minutes)],
            validators=Validators(),
            now=datetime.now(UTC),
            next_poll=datetime.now(UTC) + timedelta(minutes=5),
            announce=True,
        )
        self.worker.wake()

    async def settled(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            # Polls the database, which has no event to wait on; bounded by the timeout.
            while await self.outbox.pending_count() or self.worker.active_lanes:  # noqa: ASYNC110
                await asyncio.sleep(0.01)


@pytest.fixture
async def bot(telegram_api: TelegramEmulator) -> AsyncIterator[Bot]:
    telegram_api.configure(time_scale=SCALE)
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as bot:
        yield bot


async def start(engine: AsyncEngine, bot: Bot, **kwargs: float) -> Process:
    process = Process(engine, bot, **kwargs)
    await process.store.sync_sources(SOURCES)
    await process.chats.subscribe(
        CHAT, kind="private", title=None, topics=["azerbaijan-iran"], thread_id=None,
        now=datetime.now(UTC),
    )  # fmt: skip
    process.worker.start()
    return process


async def test_a_second_outlet_edits_the_message_once_across_a_restart(
    db_engine: AsyncEngine, telegram_api: TelegramEmulator, bot: Bot
) -> None:
    first = await start(db_engine, bot)
    await first.flag("apa", "a1", CALL["apa"], 0)
    await first.settled()
    await first.worker.stop()  # restart: the next report is stored before anyone delivers it
    await first.flag("irna", "i1", CALL["irna"], 30)
    second = await start(db_engine, bot)
    await second.settled()
    await second.worker.stop()

    [message] = telegram_api.sent_messages(CHAT)
    assert len(message.edits) == 1
    assert message.plain_text.startswith(CALL["apa"][0])
    assert message.plain_text.endswith("Also: IRNA")
    links = [e.get("url") for e in message.entities if e["type"] == "text_link"]
    assert "https://irna.example/i1" in links
    # A third start has nothing left: the edit is neither lost nor repeated.
    third = await start(db_engine, bot)
    await third.settled()
    await third.worker.stop()
    assert len(telegram_api.sent_messages(CHAT)) == 1
    assert len(telegram_api.sent_messages(CHAT)[0].edits) == 1


async def test_edits_within_the_gap_are_coalesced_into_one(
    db_engine: AsyncEngine, telegram_api: TelegramEmulator, bot: Bot
) -> None:
    process = await start(db_engine, bot, edit_gap=1.0)
    await process.flag("apa", "a1", CALL["apa"], 0)
    await process.settled()
    await process.flag("irna", "i1", CALL["irna"], 30)
    await process.settled()
    # Two more outlets within the gap: they wait, then go out as one edit.
    await process.flag("trend", "t1", CALL["trend"], 40)
    await process.store.save_fetch(
        "irna",
        items=[report("irna", "i2", (CALL["irna"][0] + " again", CALL["irna"][1]), 45)],
        validators=Validators(),
        now=datetime.now(UTC),
        next_poll=datetime.now(UTC),
        announce=True,
    )
    process.worker.wake()
    await process.settled()
    await process.worker.stop()
    [message] = telegram_api.sent_messages(CHAT)
    assert len(message.edits) == 2
    assert message.plain_text.endswith("Also: IRNA, Trend")


async def test_a_failed_edit_sends_nothing_else(
    db_engine: AsyncEngine, telegram_api: TelegramEmulator, bot: Bot
) -> None:
    process = await start(db_engine, bot)
    await process.flag("apa", "a1", CALL["apa"], 0)
    await process.settled()
    [message] = telegram_api.sent_messages(CHAT)
    await bot.delete_message(CHAT, message.message_id)
    await process.flag("irna", "i1", CALL["irna"], 30)
    await process.settled()
    await process.worker.stop()
    assert len(telegram_api.sent_messages(CHAT)) == 1
    assert message.edits == []
