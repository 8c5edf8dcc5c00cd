"""Sends by outcome, 429s and the delivery latency histogram, fed by the real delivery worker
sending through the real telegram.Bot to the Bot API emulator (with a 429 and a refusal injected).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.storage.chats import ChatStore
from bot.storage.delivery import DeliveryStores
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.status import StatusStore
from bot.telegram.delivery import DeliveryWorker, Policy
from bot.telegram.messenger import TelegramSender
from bot.telegram.pacing import Limits, Pacer
from bot.web.metrics import CountingSender, Metrics
from tests.emulator.faults import Fault
from tests.emulator.server import TelegramEmulator
from tests.storage.test_chats import SOURCE, entry, flag

SCALE = 20
FAST = Policy(backoff_base=0.01, backoff_max=0.05, recheck=30.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def bot(telegram_api: TelegramEmulator) -> AsyncIterator[Bot]:
    telegram_api.configure(time_scale=SCALE)
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as bot:
        yield bot


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_sends_429s_and_latency_are_counted_from_real_deliveries(
    db_engine: AsyncEngine, telegram_api: TelegramEmulator, bot: Bot
):
    chats, outbox = ChatStore(db_engine), Outbox(db_engine)
    store = Store(db_engine, on_flagged=[outbox.enqueue])
    await store.sync_sources([SOURCE])
    metrics = Metrics(StatusStore(db_engine), clock=utc_now)
    for chat_id in (11, 12):
        await chats.subscribe(
            chat_id, kind="private", title=None, topics=["azerbaijan-iran"], thread_id=None,
            now=utc_now(),
        )  # fmt: skip
    telegram_api.inject(11, Fault.retry_after(1))
    telegram_api.inject(12, Fault(400, "Bad Request: message is too long"))
    worker = DeliveryWorker(
        DeliveryStores.on(db_engine),
        CountingSender(TelegramSender(bot, link_previews=False), metrics),
        topic_names={"azerbaijan-iran": "Azerbaijan–Iran"},
        tz=UTC,
        clock=utc_now,
        pacer=Pacer(Limits(scale=SCALE)),
        policy=FAST,
        on_delivered=metrics.delivered,
    )
    await flag(store, [entry("a")], now=utc_now() - timedelta(seconds=3))
    worker.start()
    try:
        async with asyncio.timeout(10):
            # The outbox has no event to wait on; polled, bounded by the timeout.
            while await outbox.pending_count():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        await worker.stop()
    got = samples((await metrics.collect()).decode())
    assert got[("bot_sends_total", (("outcome", "rate-limited"),))] == 1
    assert got[("bot_sends_total", (("outcome", "rejected"),))] == 1
    assert got[("bot_sends_total", (("outcome", "sent"),))] == 1
    assert got[("bot_telegram_429_total", ())] == 1
    assert got[("bot_delivery_latency_seconds_count", ())] == 1
    # Stored 3 s before the worker started: the one delivery took at least that long.
    assert got[("bot_delivery_latency_seconds_bucket", (("le", "2.0"),))] == 0
    assert got[("bot_delivery_latency_seconds_bucket", (("le", "30.0"),))] == 1
    assert got[("bot_outbox_depth", ())] == 0
