"""/mode and /digest: the real PTB Application polling the Telegram emulator, on a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Validators
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.review_claims import ReviewClaims
from bot.storage.stories import StoryStore
from bot.telegram.app import build_application, start, stop
from bot.telegram.commands import SubscriberCommands, make_handlers
from bot.telegram.messenger import TelegramSender
from bot.telegram.review_commands import make_review_handlers
from bot.telegram.review_job import ReviewJob
from tests.emulator.server import TelegramEmulator
from tests.storage.test_stories import CALL, GAS, SOURCES, report
from tests.telegram.test_commands import BAKU, PRIVATE, TOPICS, Harness

WINDOW = timedelta(hours=48)


@pytest.fixture
async def bot(telegram_api: TelegramEmulator, db_engine: AsyncEngine) -> AsyncIterator[Harness]:
    telegram_api.configure(rate_limits=None)
    db = DbAccess(db_engine)
    chats, outbox = ChatStore(db), Outbox(db)
    stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
    store = Store(db, on_matched=[stories.assign], on_flagged=[outbox.enqueue])
    await store.sync_sources(SOURCES)
    now = datetime.now(UTC)
    for source, key, text in (
        ("apa", "a1", CALL["apa"]),
        ("irna", "i1", CALL["irna"]),
        ("apa", "g", GAS),
    ):
        entry = report(source, key, text, 0)
        # Published two hours ago: inside the review's last 24 h whenever the test runs.
        item = replace(entry.item, published=now - timedelta(hours=2))
        await store.save_fetch(
            source,
            items=[replace(entry, item=item)],
            validators=Validators(),
            now=now,
            next_poll=now,
            announce=False,
        )
    handlers = make_handlers(
        SubscriberCommands(
            chat_store=chats,
            outbox=outbox,
            store=store,
            topics=lambda: TOPICS,
            sources=lambda: (),
            tz=BAKU,
            clock=lambda: datetime.now(UTC),
        )
    )
    app = build_application(telegram_api.token, base_url=telegram_api.api_url, handlers=handlers)
    review = ReviewJob(
        chats,
        stories,
        TelegramSender(app.bot),
        claims=ReviewClaims(db),
        topic_names=lambda: {t.id: t.name for t in TOPICS},
        tz=BAKU,
        clock=lambda: datetime.now(UTC),
    )
    app.add_handlers(
        make_review_handlers(
            chat_store=chats,
            review=review,
            default_topics=lambda: ["azerbaijan-iran"],
            clock=lambda: datetime.now(UTC),
            review_time="09:00",
        )
    )
    await start(app, webhook_url=None, port=None)
    try:
        yield Harness(telegram_api, chats, store, app)
    finally:
        await stop(app)


async def test_mode_needs_a_subscription_then_switches(bot: Harness) -> None:
    assert "not subscribed" in (await bot.ask(PRIVATE, "/mode digest")).plain_text
    await bot.ask(PRIVATE, "/start")
    assert "as soon as it is flagged" in (await bot.ask(PRIVATE, "/mode")).plain_text
    reply = await bot.ask(PRIVATE, "/mode digest")
    assert reply.plain_text.startswith("This chat gets only the daily media review.")
    assert "09:00" in reply.plain_text
    chat = await bot.chats.chat(PRIVATE)
    assert chat is not None
    assert chat.mode == "digest"
    assert (await bot.ask(PRIVATE, "/mode sometimes")).plain_text.startswith("Usage: /mode")
    await bot.ask(PRIVATE, "/mode both")
    chat = await bot.chats.chat(PRIVATE)
    assert chat is not None
    assert chat.mode == "both"


async def test_digest_sends_the_review_on_demand(bot: Harness) -> None:
    reply = await bot.ask(PRIVATE, "/digest")
    lines = reply.plain_text.split("\n")
    assert lines[0].startswith("Media review: Azerbaijan–Iran relations, ")
    assert lines[2] == "1. " + CALL["apa"][0]  # two outlets: first
    assert lines[-1] == "Outlet: APA"
    assert "Outlets: APA, IRNA" in lines
    links = [e.get("url") for e in reply.entities if e["type"] == "text_link"]
    assert "https://irna.example/i1" in links
