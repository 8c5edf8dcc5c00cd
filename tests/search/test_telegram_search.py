"""/search, /more, /alert, /alerts, /unalert and an alert's push, through the Bot API emulator:
the real PTB Application polls it, and the real delivery worker sends to it, on a real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.models import Item, MatchedItem, Validators
from bot.review.alerts import compile_alerts
from bot.review.stories import Grouper, Rules
from bot.storage.alerts import AlertPush, AlertStore
from bot.storage.chats import ChatStore
from bot.storage.delivery import DeliveryStores
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.search import SearchStore
from bot.storage.stories import StoryStore
from bot.telegram.app import BotApp, build_application, start, stop
from bot.telegram.delivery import DeliveryWorker, Policy
from bot.telegram.messenger import TelegramSender
from bot.telegram.search_commands import make_search_handlers
from tests.emulator.server import SentMessage, TelegramEmulator
from tests.search.archive import NOW, TOPIC, fill, search_store

BAKU = ZoneInfo("Asia/Baku")
CHAT = 5001
OTHER = 5002


@dataclass
class Harness:
    emu: TelegramEmulator
    engine: AsyncEngine
    store: Store
    chats: ChatStore
    app: BotApp

    async def ask(self, chat_id: int, text: str) -> SentMessage:
        before = len(self.emu.sent_messages(chat_id))
        self.emu.send_command(chat_id, text)
        sent = await self.emu.wait_for_messages_async(chat_id, before + 1)
        return sent[before]


@pytest.fixture
async def h(telegram_api: TelegramEmulator, db_engine: AsyncEngine) -> AsyncIterator[Harness]:
    telegram_api.configure(rate_limits=None)
    chats = ChatStore(db_engine)
    stories = StoryStore(db_engine, Grouper(Rules()), window=timedelta(hours=48))
    push = AlertPush(db_engine, compile_alerts, stories.assign)
    store = search_store(
        db_engine, [push], on_flagged=[Outbox(db_engine).enqueue], on_matched=[stories.assign]
    )
    await fill(store, announce=False)
    handlers = make_search_handlers(
        search=SearchStore(db_engine),
        alerts=AlertStore(db_engine),
        tz=BAKU,
        clock=lambda: NOW,
        max_alerts=3,
    )
    app = build_application(telegram_api.token, base_url=telegram_api.api_url, handlers=handlers)
    await start(app, webhook_url=None, port=None)
    try:
        yield Harness(telegram_api, db_engine, store, chats, app)
    finally:
        await stop(app)


async def test_search_answers_with_outlet_time_title_link_and_topic(h: Harness):
    reply = await h.ask(CHAT, "/search bridge")
    text = reply.plain_text
    assert "Astara bridge over the border river opens" in text
    assert "Bridges and roads" in text
    assert "APA (English)" in text
    assert "azerbaijan-iran" in text
    assert text.index("Astara bridge") < text.index("Bridges and roads")  # newest first
    assert "https://apa-en.test/news/en1" in reply.text  # the title links to the report


async def test_search_in_each_language(h: Harness):
    assert "Мост через" in (await h.ask(CHAT, "/search мост")).plain_text
    assert "körpüsünün" in (await h.ask(CHAT, "/search KÖRPÜ")).plain_text
    assert "سفیر" in (await h.ask(CHAT, "/search ايران")).plain_text


async def test_more_gives_the_next_page_then_says_there_is_no_more(h: Harness):
    many = [
        MatchedItem(
            Item(
                source_id="apa-en",
                key=f"c{n}",
                url=f"https://apa-en.test/c/{n}",
                title=f"Corridor report number {n}",
                summary="",
                published=NOW - timedelta(minutes=n),
            )
        )
        for n in range(13)
    ]
    await h.store.save_fetch(
        "apa-en",
        items=many,
        validators=Validators(),
        now=NOW,
        next_poll=NOW,
        announce=False,
    )
    first = (await h.ask(CHAT, "/search corridor")).plain_text
    assert "Corridor report number 0" in first
    assert "/more" in first
    assert "Corridor report number 10" not in first
    second = (await h.ask(CHAT, "/more")).plain_text
    assert "Corridor report number 10" in second
    assert "Corridor report number 12" in second
    assert "Bridges and roads" in second  # the 14th match, an older item
    assert "Nothing more" in (await h.ask(CHAT, "/more")).plain_text


async def test_a_malformed_query_gets_one_line(h: Harness):
    reply = await h.ask(CHAT, '/search "astara bridge')
    assert reply.plain_text == 'Unclosed quote: add the closing ".'
    reply = await h.ask(CHAT, "/search -astara")
    assert "not only words to leave out" in reply.plain_text
    hostile = await h.ask(CHAT, "/search <b>x</b> &amp; <script>")
    assert "<script>" in hostile.plain_text  # shown as text, and Telegram parsed the HTML


async def test_alerts_are_saved_listed_limited_and_removed(h: Harness):
    assert "Alert 1 saved" in (await h.ask(CHAT, "/alert körpü")).plain_text
    assert "Alert 2 saved" in (await h.ask(CHAT, '/alert "border river"')).plain_text
    listing = (await h.ask(CHAT, "/alerts")).plain_text
    assert "1. körpü" in listing
    assert '2. "border river"' in listing
    assert "since:" in (await h.ask(CHAT, "/alert drone since:7d")).plain_text
    assert "almost every" in (await h.ask(CHAT, "/alert the")).plain_text
    assert "Alert 3 saved" in (await h.ask(CHAT, "/alert drone")).plain_text
    assert "already has 3 alerts" in (await h.ask(CHAT, "/alert мост")).plain_text
    assert "Alert 2 removed" in (await h.ask(CHAT, "/unalert 2")).plain_text
    listing = (await h.ask(CHAT, "/alerts")).plain_text
    assert "1. körpü" in listing
    assert "2. drone" in listing
    assert "border" not in listing
    assert "There is no alert 7" in (await h.ask(CHAT, "/unalert 7")).plain_text
    assert "This chat has no alerts" in (await h.ask(OTHER, "/alerts")).plain_text


async def test_a_new_matching_item_is_pushed_once_saying_which_alert_matched(
    h: Harness, telegram_api: TelegramEmulator
):
    await h.ask(CHAT, "/alert körpü")
    await h.ask(OTHER, "/alert tikinti")
    # CHAT also follows the topic that flags one of the new items: still one message for it.
    await h.chats.subscribe(
        CHAT, kind="private", title=None, topics=[TOPIC.topic_id], thread_id=None, now=NOW
    )
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as bot:
        worker = DeliveryWorker(
            DeliveryStores.on(h.engine),
            TelegramSender(bot, link_previews=False),
            topic_names={TOPIC.topic_id: "Azerbaijan–Iran"},
            tz=BAKU,
            clock=lambda: datetime.now(UTC),
            policy=Policy(recheck=0.05),
        )
        before = len(telegram_api.sent_messages(CHAT))
        fresh = [
            MatchedItem(
                Item(
                    source_id="report-az",
                    key="az-new",
                    url="https://report.test/az/new",
                    title="Yeni körpünün tikintisi başlayır",
                    summary="İran tərəfi də iştirak edir.",
                    published=NOW + timedelta(minutes=5),
                    language="az",
                ),
                (TOPIC,),
            ),
            MatchedItem(
                Item(
                    source_id="report-az",
                    key="az-other",
                    url="https://report.test/az/other",
                    title="Neft qiymətləri",
                    summary="Bazar sabitdir.",
                    published=NOW + timedelta(minutes=6),
                    language="az",
                )
            ),
        ]
        await h.store.save_fetch(
            "report-az",
            items=fresh,
            validators=Validators(),
            now=NOW + timedelta(minutes=10),
            next_poll=NOW + timedelta(minutes=20),
            announce=True,
        )
        worker.start()
        try:
            await telegram_api.wait_for_messages_async(CHAT, before + 1)
            theirs = await telegram_api.wait_for_messages_async(OTHER, 2)
            async with asyncio.timeout(5):
                while await Outbox(h.engine).pending_count():  # noqa: ASYNC110  (the database has no event)
                    await asyncio.sleep(0.02)
        finally:
            await worker.stop()
    pushed = telegram_api.sent_messages(CHAT)[before:]
    assert len(pushed) == 1
    assert "Yeni körpünün tikintisi" in pushed[0].plain_text
    assert "Alert: körpü" in pushed[0].plain_text
    assert "Azerbaijan–Iran" in pushed[0].plain_text
    assert "Alert: tikinti" in theirs[-1].plain_text
    assert not any("Neft" in m.plain_text for m in telegram_api.sent_messages())
