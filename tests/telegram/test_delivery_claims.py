"""Two delivery workers (two processes' senders) on one outbox: each row is sent by one of them."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.delivery import DeliveryStores
from bot.telegram.delivery import DeliveryWorker
from bot.telegram.messenger import TelegramSender
from bot.telegram.pacing import Limits, Pacer
from tests.storage.test_chats import entry, flag
from tests.telegram import test_delivery
from tests.telegram.test_delivery import BAKU, FAST, SCALE, TOPICS, Harness, texts, utc_now

bot = test_delivery.bot  # the fixtures of the single-worker tests
h = test_delivery.h


def worker(engine: AsyncEngine, h: Harness, holder: str) -> DeliveryWorker:
    return DeliveryWorker(
        DeliveryStores.on(engine),
        TelegramSender(h.bot),
        topic_names=TOPICS,
        tz=BAKU,
        clock=utc_now,
        pacer=Pacer(Limits(scale=SCALE)),
        policy=replace(FAST, recheck=0.05, claimed_retry=0.05),
        holder=holder,
    )


async def test_two_senders_on_one_outbox_send_each_message_once_in_order(h: Harness) -> None:
    h.emulator.configure(rate_limits=None)
    chats = list(range(101, 131))
    for chat_id in chats:
        await h.subscribe(chat_id)
    await flag(h.store, [entry(k, minutes=n) for n, k in enumerate("abc")], now=utc_now())
    a, b = worker(h.engine, h, "A"), worker(h.engine, h, "B")
    a.start()
    b.start()
    try:
        async with asyncio.timeout(20):
            # Polls the database, which has no event to wait on; bounded by the timeout.
            while await h.outbox.pending_count():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        await a.stop()
        await b.stop()
    sent = Counter((m.chat_id, m.plain_text.splitlines()[0]) for m in h.emulator.sent_messages())
    assert set(sent.values()) == {1}
    assert len(sent) == 3 * len(chats)
    for chat_id in chats:
        assert texts(h.emulator, chat_id) == ["Title a", "Title b", "Title c"]
