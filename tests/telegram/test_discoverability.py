"""What a newcomer finds: operators see their commands, an unknown command gets one line, /status
and /mode say the mode and the review's time zone.

The real PTB Application polls the Telegram emulator, on a real store: the subscribers', the
review and the fallback handlers, wired as the bot wires them, with operator 5001.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.review_outbox import ReviewOutbox
from bot.storage.stories import StoryStore
from bot.telegram.app import build_application, start, stop
from bot.telegram.commands import COMMANDS, SubscriberCommands, make_handlers
from bot.telegram.operator_menu import operator_menu, set_operator_menus
from bot.telegram.replies import ADMIN_COMMANDS
from bot.telegram.review_commands import REVIEW_COMMANDS, make_review_handlers
from bot.telegram.review_job import ReviewJob
from bot.telegram.unknown_command import make_unknown_command_handler
from tests.emulator.faults import Fault
from tests.emulator.server import TelegramEmulator
from tests.storage.test_stories import SOURCES
from tests.telegram.test_commands import BAKU, GROUP, PRIVATE, TOPICS, Harness

OPERATOR = PRIVATE  # 5001: in a private chat the user is the chat
SUBSCRIBER = 5002
WINDOW = timedelta(hours=48)
OPERATOR_WORDS = ("/addsource", "/pause", "/undo", "/audit")


@pytest.fixture
async def bot(telegram_api: TelegramEmulator, db_engine: AsyncEngine) -> AsyncIterator[Harness]:
    telegram_api.configure(rate_limits=None)
    db = DbAccess(db_engine)
    chats, outbox = ChatStore(db), Outbox(db)
    stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
    store = Store(db, on_matched=[stories.assign], on_flagged=[outbox.enqueue])
    await store.sync_sources(SOURCES)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    handlers = make_handlers(
        SubscriberCommands(
            chat_store=chats, outbox=outbox, store=store, topics=lambda: TOPICS,
            sources=lambda: (), tz=BAKU, clock=clock, operators=[OPERATOR],
        )
    )  # fmt: skip
    app = build_application(telegram_api.token, base_url=telegram_api.api_url, handlers=handlers)
    review = ReviewJob(
        chats, stories, ReviewOutbox(db), topic_names=lambda: {}, tz=BAKU, clock=clock
    )
    app.add_handlers(
        make_review_handlers(
            chat_store=chats, review=review, default_topics=lambda: ["azerbaijan-iran"],
            clock=clock, review_time="09:00", tz=BAKU,
        )
    )  # fmt: skip
    known = [n for n, _ in (*COMMANDS, *REVIEW_COMMANDS, *ADMIN_COMMANDS)]
    app.add_handler(make_unknown_command_handler(known))
    await start(
        app,
        webhook_url=None,
        port=None,
        commands=(*COMMANDS, *REVIEW_COMMANDS),
        operator_ids=[OPERATOR],
    )
    try:
        yield Harness(telegram_api, chats, store, app)
    finally:
        await stop(app)


@pytest.mark.parametrize("command", ["/help", "/start"])
async def test_an_operators_help_and_start_list_the_operator_commands(bot: Harness, command: str):
    mine = (await bot.ask(OPERATOR, command)).plain_text
    for word in OPERATOR_WORDS:
        assert word in mine, word
    theirs = (await bot.ask(SUBSCRIBER, command)).plain_text
    assert "/latest" in theirs
    for word in OPERATOR_WORDS:
        assert word not in theirs, word


async def test_an_operator_in_a_group_sees_only_the_subscriber_commands(bot: Harness):
    text = (await bot.ask(GROUP, "/help", user_id=OPERATOR, chat_type="group")).plain_text
    assert "/latest" in text
    assert "/addsource" not in text


async def test_the_operators_chat_gets_a_menu_with_the_operator_commands(bot: Harness):
    everyone = [c["command"] for c in bot.emu.commands]
    assert "latest" in everyone
    assert "addsource" not in everyone
    mine = [c["command"] for c in bot.emu.commands_for({"type": "chat", "chat_id": OPERATOR})]
    assert mine[: len(everyone)] == everyone
    for name in ("addsource", "pause", "undo", "audit", "rematch"):
        assert name in mine
    assert len(mine) == len(set(mine))  # /sources once
    assert bot.emu.commands_for({"type": "chat", "chat_id": SUBSCRIBER}) == []


async def test_a_menu_telegram_refuses_is_skipped_with_one_warning(
    telegram_api: TelegramEmulator, caplog: pytest.LogCaptureFixture
):
    # The first operator never opened a chat with the bot: Telegram answers "chat not found".
    telegram_api.inject(
        None,  # type: ignore[arg-type]
        Fault(400, "Bad Request: chat not found"),
        methods=["setMyCommands"],
    )
    caplog.set_level(logging.WARNING, logger="bot.telegram.operator_menu")
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as tg:
        done = await set_operator_menus(tg, [7001, 7002], operator_menu(COMMANDS))
    assert done == 1
    assert telegram_api.commands_for({"type": "chat", "chat_id": 7001}) == []
    assert telegram_api.commands_for({"type": "chat", "chat_id": 7002})
    [warning] = caplog.records
    assert "operator 7001" in warning.getMessage()
    assert "chat not found" in warning.getMessage().lower()


async def test_an_unknown_command_in_a_private_chat_gets_one_line_pointing_to_help(bot: Harness):
    reply = await bot.ask(SUBSCRIBER, "/frobnicate now")
    assert reply.plain_text == (
        "I do not know the command /frobnicate. Send /help to see what I can do."
    )
    reply = await bot.ask(SUBSCRIBER, "/Frobnicate@media_review_test_bot")
    assert "/Frobnicate." in reply.plain_text


async def test_in_a_group_only_a_command_addressed_to_the_bot_is_answered(bot: Harness):
    emu = bot.emu
    emu.send_command(GROUP, "/frobnicate", chat_type="group")  # maybe another bot's
    emu.send_command(GROUP, "/frobnicate@other_bot", chat_type="group")  # another bot's
    reply = await bot.ask(GROUP, "/frobnicate@media_review_test_bot", chat_type="group")
    assert "/help" in reply.plain_text
    # The two before were read first (updates are handled in order) and got nothing.
    assert len(emu.sent_messages(GROUP)) == 1


async def test_a_known_command_is_not_called_unknown(bot: Harness):
    reply = await bot.ask(SUBSCRIBER, "/help")
    assert "do not know" not in reply.plain_text
    assert len(bot.emu.sent_messages(SUBSCRIBER)) == 1


async def test_mode_digest_names_the_time_zone_and_status_shows_the_mode(bot: Harness):
    await bot.ask(SUBSCRIBER, "/start")
    status = (await bot.ask(SUBSCRIBER, "/status")).plain_text
    assert "Mode: instant — each item as soon as it is flagged" in status
    reply = (await bot.ask(SUBSCRIBER, "/mode digest")).plain_text
    assert "every day at 09:00 (Asia/Baku time)" in reply
    status = (await bot.ask(SUBSCRIBER, "/status")).plain_text
    assert "Mode: digest — only the daily media review" in status
