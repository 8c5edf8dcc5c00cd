"""bot.telegram.delivery with the real telegram.Bot against the Bot API emulator, on SQLite and PostgreSQL.

Every test stores flagged items through `Store.save_fetch` with the real `Outbox.enqueue` hook,
then lets a `DeliveryWorker` deliver them. The emulator enforces Telegram's limits with its clock
sped up `SCALE` times, and the worker's pacer runs at the same scale.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.models import MatchedItem
from bot.storage.chat_tables import outbox
from bot.storage.chats import ChatStore
from bot.storage.delivery import DeliveryStores
from bot.storage.engine import make_engine
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.telegram.delivery import DeliveryWorker, Policy
from bot.telegram.messenger import TelegramMessenger, TelegramSender
from bot.telegram.pacing import Limits, Pacer
from bot.text.formatting import format_plain
from tests.emulator.server import Fault, TelegramEmulator
from tests.storage.test_chats import AZ_IR, ENERGY, SOURCE, entry, flag

SCALE = 20  # emulator and pacer clocks run 20x faster: 1 msg/s per chat becomes 20/s
BAKU = timezone(timedelta(hours=4))
TOPICS = {"azerbaijan-iran": "Azerbaijan–Iran", "energy": "Energy"}
FAST = Policy(
    unavailable_after=3,
    unavailable_span=0.0,
    unavailable_retry=0.02,
    backoff_base=0.01,
    backoff_max=0.05,
    recheck=30.0,
    max_in_flight=8,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Harness:
    """A store with the outbox hook, a chat store and (once started) a worker on a real Bot."""

    def __init__(self, engine: AsyncEngine, emulator: TelegramEmulator, bot: Bot) -> None:
        self.engine, self.emulator, self.bot = engine, emulator, bot
        self.chats, self.outbox = ChatStore(engine), Outbox(engine)
        self.store = Store(engine, on_flagged=[self.outbox.enqueue])
        self.worker: DeliveryWorker | None = None
        self.messenger: TelegramMessenger | None = None

    def start(
        self, *, policy: Policy = FAST, scale: float = SCALE, previews: bool = False
    ) -> DeliveryWorker:
        self.worker = DeliveryWorker(
            DeliveryStores.on(self.engine),
            TelegramSender(self.bot, link_previews=previews),
            topic_names=TOPICS,
            tz=BAKU,
            clock=utc_now,
            pacer=Pacer(Limits(scale=scale)),
            policy=policy,
        )
        self.messenger = TelegramMessenger(self.bot, self.worker)
        self.worker.start()
        return self.worker

    async def subscribe(self, chat_id: int, *topics: str, **kwargs: Any) -> None:
        kind = kwargs.pop("kind", None) or ("private" if chat_id > 0 else "supergroup")
        await self.chats.subscribe(
            chat_id,
            kind=kind,
            title=f"chat {chat_id}",
            topics=topics or ("azerbaijan-iran",),
            thread_id=kwargs.pop("thread_id", None),
            now=utc_now(),
        )

    async def flag(self, entries: Sequence[MatchedItem]) -> None:
        result = await flag(self.store, entries, now=utc_now())
        assert self.messenger is not None
        await self.messenger.announce(result.flagged)

    async def settled(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until nothing is pending and no lane runs."""
        assert self.worker is not None
        async with asyncio.timeout(timeout):
            # Polls the database, which has no event to wait on; bounded by the timeout.
            while await self.outbox.pending_count() or self.worker.active_lanes:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    async def statuses(self) -> Counter[str]:
        async with self.engine.connect() as conn:
            rows = await conn.scalars(select(outbox.c.status))
            return Counter(rows.all())


@pytest.fixture
async def bot(telegram_api: TelegramEmulator) -> AsyncIterator[Bot]:
    telegram_api.configure(time_scale=SCALE)
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as bot:
        yield bot


@pytest.fixture
async def h(db_engine: AsyncEngine, telegram_api: TelegramEmulator, bot: Bot):
    harness = Harness(db_engine, telegram_api, bot)
    await harness.store.sync_sources([SOURCE])
    yield harness
    if harness.worker is not None:
        await harness.worker.stop()


def texts(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.plain_text.splitlines()[0] for m in emulator.sent_messages(chat_id)]


async def test_a_flagged_item_reaches_every_subscribed_chat_exactly_once(h: Harness) -> None:
    h.emulator.add_chat(-1001234567890, "channel")
    for chat_id in (11, 12, -5, -1001234567890):
        await h.subscribe(chat_id, kind="channel" if chat_id < -1000 else None)
    await h.subscribe(13, "energy")  # another topic: gets nothing
    h.start()
    await h.flag([entry("a")])
    await h.flag([entry("a")])  # served again by the feed: not sent again
    await h.settled()
    got = Counter(m.chat_id for m in h.emulator.sent_messages())
    assert got == {11: 1, 12: 1, -5: 1, -1001234567890: 1}
    assert texts(h.emulator, -1001234567890) == ["Title a"]
    assert await h.statuses() == {"sent": 4}


async def test_the_worker_wakes_at_once_when_items_are_announced(h: Harness) -> None:
    await h.subscribe(11)
    h.start(policy=replace(FAST, recheck=600.0))
    await asyncio.sleep(0)  # let the dispatcher make its first, empty, round
    started = time.monotonic()
    await h.flag([entry("a")])
    await h.emulator.wait_for_messages_async(11, 1, timeout=2.0)
    assert time.monotonic() - started < 0.5


async def test_pending_rows_from_before_a_start_are_delivered(h: Harness) -> None:
    await h.subscribe(11)
    await flag(h.store, [entry("a"), entry("b", minutes=1)], now=utc_now())  # nobody announces
    h.start()
    await h.emulator.wait_for_messages_async(11, 2)
    assert texts(h.emulator, 11) == ["Title a", "Title b"]


async def test_message_is_html_with_thread_and_no_link_preview(h: Harness) -> None:
    await h.subscribe(-1001, thread_id=7)
    h.start()
    await h.flag([entry("a", matches=(AZ_IR, ENERGY))])
    [sent] = await h.emulator.wait_for_messages_async(-1001, 1)
    assert sent.parse_mode == "HTML"
    assert sent.message_thread_id == 7
    assert sent.link_preview_options == {"is_disabled": True}
    assert any(e["type"] == "text_link" for e in sent.entities)
    assert "Caliber.Az" in sent.plain_text
    assert "Azerbaijan–Iran" in sent.plain_text


async def test_a_hostile_title_is_delivered_as_valid_html(h: Harness) -> None:
    await h.subscribe(11)
    h.start()
    hostile = entry("x")
    item = replace(
        hostile.item,
        title="<script>alert(1)</script> & <b>unclosed <i>Iran",
        summary="a < b && c > d </p> &amp; done.",
        url="https://caliber.az/post?a=1&b=<2>",
    )
    await h.flag([MatchedItem(item, hostile.matches)])
    [sent] = await h.emulator.wait_for_messages_async(11, 1)
    assert sent.parse_mode == "HTML"  # no plain-text fallback was needed
    assert "<script>alert(1)</script> & <b>unclosed <i>Iran" in sent.plain_text
    assert h.emulator.stats.errors == Counter()


async def test_flood_control_pauses_only_that_chat_then_resends(h: Harness) -> None:
    await h.subscribe(11)
    await h.subscribe(12)
    h.emulator.inject(11, Fault.retry_after(10))  # 10 Telegram seconds: 0.5 s here
    h.start()
    await h.flag([entry("a")])
    [other] = await h.emulator.wait_for_messages_async(12, 1)
    assert h.emulator.sent_messages(11) == []
    [paused] = await h.emulator.wait_for_messages_async(11, 1, timeout=5.0)
    assert paused.received_at - other.received_at >= 10 / SCALE * 0.9
    assert paused.plain_text == other.plain_text
    await h.settled()
    assert len(h.emulator.sent_messages()) == 2


async def test_server_errors_are_retried_until_delivered(h: Harness) -> None:
    await h.subscribe(11)
    h.emulator.inject(11, Fault.server_error(502), times=3)
    h.start()
    await h.flag([entry("a")])
    await h.emulator.wait_for_messages_async(11, 1)
    await h.settled()
    assert await h.statuses() == {"sent": 1}
    assert len(h.emulator.requests("sendMessage")) == 4


async def test_a_temporary_block_keeps_the_subscription(h: Harness) -> None:
    await h.subscribe(11)
    h.emulator.inject(11, Fault.blocked(), times=1)
    h.start()
    await h.flag([entry("a")])
    await h.emulator.wait_for_messages_async(11, 1)
    await h.settled()
    chat = await h.chats.chat(11)
    assert chat is not None
    assert chat.active
    assert chat.failures == 0


async def test_repeated_blocks_within_the_span_do_not_deactivate(h: Harness) -> None:
    await h.subscribe(11)
    h.emulator.inject(11, Fault.blocked(), times=5)  # more than unavailable_after ...
    h.start(policy=replace(FAST, unavailable_span=3600.0))  # ... but over less than an hour
    await h.flag([entry("a")])
    await h.emulator.wait_for_messages_async(11, 1)
    chat = await h.chats.chat(11)
    assert chat is not None
    assert chat.active


@pytest.mark.parametrize("fault", [Fault.blocked(), Fault.kicked(), Fault.chat_not_found()])
async def test_a_chat_unavailable_again_and_again_is_deactivated(h: Harness, fault: Fault) -> None:
    await h.subscribe(-7)
    await h.subscribe(12)
    h.emulator.inject(-7, fault, times=None)
    h.start()
    await h.flag([entry("a"), entry("b", minutes=1)])
    await h.settled()
    chat = await h.chats.chat(-7)
    assert chat is not None
    assert not chat.active
    assert chat.failures == 3
    assert h.emulator.sent_messages(-7) == []
    assert len(h.emulator.sent_messages(12)) == 2  # the other chat was not held up
    assert await h.statuses() == {"sent": 2, "dropped": 2}
    assert [c.chat_id for c in await h.chats.chats()] == [12]


async def test_a_migrated_group_gets_the_message_at_its_new_id(h: Harness) -> None:
    await h.subscribe(-5, kind="group")
    h.emulator.migrate_chat(-5, -1005)
    h.start()
    await h.flag([entry("a"), entry("b", minutes=1)])
    await h.emulator.wait_for_messages_async(-1005, 2)
    await h.settled()
    assert texts(h.emulator, -1005) == ["Title a", "Title b"]
    assert await h.chats.chat(-5) is None
    new = await h.chats.chat(-1005)
    assert new is not None
    assert (new.kind, new.active, new.topics) == ("supergroup", True, ("azerbaijan-iran",))


async def test_unparsable_html_falls_back_to_plain_text(h: Harness) -> None:
    await h.subscribe(11)
    h.emulator.inject(11, Fault.cant_parse())
    h.start()
    await h.flag([entry("a")])
    [sent] = await h.emulator.wait_for_messages_async(11, 1)
    assert sent.parse_mode is None
    stored = (await h.store.latest(1))[0]
    assert sent.text == format_plain(stored, topic_names=TOPICS, tz=BAKU)
    assert "<" not in sent.text


async def test_a_message_refused_for_good_is_dropped_and_the_next_one_sent(h: Harness) -> None:
    await h.subscribe(11)
    h.emulator.inject(11, Fault(400, "Bad Request: message is too long"))
    h.start()
    await h.flag([entry("a"), entry("b", minutes=1)])
    await h.emulator.wait_for_messages_async(11, 1)
    await h.settled()
    assert texts(h.emulator, 11) == ["Title b"]
    assert await h.statuses() == {"dropped": 1, "sent": 1}
    chat = await h.chats.chat(11)
    assert chat is not None
    assert chat.active


async def test_a_burst_of_200_items_for_one_chat_is_paced_without_any_429(
    h: Harness,
) -> None:
    scale = 100  # 1 msg/s becomes 100/s: 200 messages in about two seconds
    h.emulator.configure(time_scale=scale)
    await h.subscribe(11)
    await h.subscribe(-5, "energy")  # a group, meanwhile, is paced on its own
    h.start(scale=scale)
    started = time.monotonic()
    both = (AZ_IR, ENERGY)
    await h.flag(
        [entry(f"k{i:03d}", minutes=i, matches=both if i < 20 else (AZ_IR,)) for i in range(200)]
    )
    await h.emulator.wait_for_messages_async(11, 200, timeout=15.0)
    elapsed = time.monotonic() - started
    await h.settled(timeout=15.0)
    assert h.emulator.stats.too_many_requests == 0
    assert texts(h.emulator, 11) == [f"Title k{i:03d}" for i in range(200)]
    assert len(h.emulator.sent_messages(-5)) == 20
    assert elapsed >= 199 / scale  # paced, not sent at once


async def test_a_crash_mid_fanout_loses_nothing_and_repeats_at_most_in_flight(
    db_engine: AsyncEngine, database_url: str, telegram_api: TelegramEmulator, bot: Bot
) -> None:
    first = Harness(db_engine, telegram_api, bot)
    await first.store.sync_sources([SOURCE])
    chat_ids = list(range(100, 160))
    for chat_id in chat_ids:
        await first.subscribe(chat_id)
    # 29 msg/s overall at scale 2: the 60 messages take about a second, room to crash in.
    policy = replace(FAST, max_in_flight=4)
    first.start(policy=policy, scale=2)
    await first.flag([entry("a")])
    await telegram_api.wait_for_messages_async(None, 10, timeout=5.0)
    assert first.worker is not None
    await first.worker.stop()  # the crash: every task cancelled wherever it was
    await db_engine.dispose()
    before = len(telegram_api.sent_messages())
    assert before < len(chat_ids)

    engine = make_engine(database_url)
    try:
        second = Harness(engine, telegram_api, bot)
        second.start(policy=policy, scale=SCALE)
        await second.settled(timeout=10.0)
        await second.worker.stop()  # type: ignore[union-attr]
    finally:
        await engine.dispose()
    got = Counter(m.chat_id for m in telegram_api.sent_messages())
    assert set(got) == set(chat_ids)  # nothing skipped
    assert sum(got.values()) - len(chat_ids) <= policy.max_in_flight  # only in-flight repeats


async def test_stop_of_every_topic_stops_pending_deliveries(h: Harness) -> None:
    await h.subscribe(11)
    await h.subscribe(12)
    await flag(h.store, [entry("a")], now=utc_now())
    await h.chats.unsubscribe(11, topics=None, now=utc_now())
    h.start()
    await h.emulator.wait_for_messages_async(12, 1)
    await h.settled()
    assert h.emulator.sent_messages(11) == []
