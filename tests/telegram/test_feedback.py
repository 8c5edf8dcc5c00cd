"""Relevance buttons end to end: the delivery worker and the real PTB Application against the Bot
API emulator, on a real database. Buttons where feedback is on and nowhere else; a press answered
and stored once; a change of verdict; presses that must be ignored; the "Also: …" edit keeps the
buttons; `/feedback on|off` for operators only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
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
from bot.storage.labels import LabelStore
from bot.storage.outbox import Outbox
from bot.storage.stories import StoryStore
from bot.telegram.app import BotApp, build_application, start, stop
from bot.telegram.delivery import DeliveryWorker
from bot.telegram.feedback import Buttons, FeedbackPolicy, parse_data
from bot.telegram.feedback_handlers import OFF, REFUSED, SAVED, TOO_OLD, make_feedback_handlers
from bot.telegram.messenger import TelegramSender
from bot.telegram.pacing import Limits, Pacer
from bot.telegram.replying import Replier
from tests.emulator.server import SentMessage, TelegramEmulator
from tests.storage.test_stories import CALL, SOURCES, report
from tests.telegram.test_delivery import BAKU, FAST, SCALE, TOPICS

ADMIN, READER, GROUP, STRANGER = 7001, 7003, -100500, 7002
WINDOW = timedelta(hours=48)
PLAIN = ["👍 Relevant", "👎 Not relevant"]


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Desk:
    emu: TelegramEmulator
    engine: AsyncEngine
    outbox: Outbox
    labels: LabelStore
    store: Store
    worker: DeliveryWorker
    app: BotApp

    async def flag(self, source: str, key: str, minutes: int = 0) -> None:
        await self.store.save_fetch(
            source,
            items=[report(source, key, CALL[source], minutes)],
            validators=Validators(),
            now=now(),
            next_poll=now() + timedelta(minutes=5),
            announce=True,
        )
        self.worker.wake()

    async def settled(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            # Polls the database, which has no event to wait on; bounded by the timeout.
            while await self.outbox.pending_count() or self.worker.active_lanes:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    async def message(self, chat_id: int) -> SentMessage:
        [sent] = await self.emu.wait_for_messages_async(chat_id, 1)
        return sent

    async def press(self, chat_id: int, message_id: int, index: int, user_id: int) -> str:
        """Press a button; the text of the bot's answer."""
        query = self.emu.press(chat_id, message_id, index, user_id=user_id)
        answer = await self.emu.wait_for_answer_async(query)
        return str(answer.get("text"))

    async def ask(self, chat_id: int, text: str, user_id: int) -> str:
        before = len(self.emu.sent_messages(chat_id))
        self.emu.send_command(chat_id, text, user_id=user_id)
        sent = await self.emu.wait_for_messages_async(chat_id, before + 1)
        return sent[before].plain_text


@pytest.fixture
async def desk(db_engine: AsyncEngine, telegram_api: TelegramEmulator) -> AsyncIterator[Desk]:
    telegram_api.configure(time_scale=SCALE)
    db = DbAccess(db_engine)
    chats, outbox, labels = ChatStore(db), Outbox(db), LabelStore(db)
    stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
    store = Store(db, on_matched=[stories.assign], on_flagged=[outbox.enqueue])
    await store.sync_sources(SOURCES)
    for chat_id, kind in ((ADMIN, "private"), (READER, "private"), (GROUP, "supergroup")):
        await chats.subscribe(
            chat_id, kind=kind, title=None, topics=["azerbaijan-iran"], thread_id=None, now=now()
        )
    policy = FeedbackPolicy.of([ADMIN])  # BOT_FEEDBACK_DEFAULT off
    pacer = Pacer(Limits(scale=SCALE))  # one per process, shared by deliveries and replies
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as bot:
        worker = DeliveryWorker(
            DeliveryStores.on(db),
            TelegramSender(bot),
            topic_names=TOPICS,
            tz=BAKU,
            clock=now,
            pacer=pacer,
            policy=replace(FAST, edit_gap=0.0),
            buttons=Buttons(policy, labels.marks),
        )
        handlers = make_feedback_handlers(
            labels=labels,
            policy=policy,
            admin_ids=[ADMIN],
            clock=now,
            max_age=timedelta(days=1),
            replier=Replier(bot, pacer),  # as `run` wires it: paced with the deliveries
        )
        app = build_application(
            telegram_api.token, base_url=telegram_api.api_url, handlers=handlers
        )
        await start(app, webhook_url=None, port=None)
        worker.start()
        try:
            yield Desk(telegram_api, db_engine, outbox, labels, store, worker, app)
        finally:
            await worker.stop()
            await stop(app)


async def test_buttons_are_under_items_in_feedback_chats_and_nowhere_else(desk: Desk) -> None:
    await desk.flag("apa", "a1")
    await desk.settled()
    mine = await desk.message(ADMIN)  # an operator's private chat: on by default
    assert desk.emu.buttons(ADMIN, mine.message_id) == PLAIN
    reader, group = await desk.message(READER), await desk.message(GROUP)
    assert desk.emu.buttons(READER, reader.message_id) == []
    assert desk.emu.buttons(GROUP, group.message_id) == []
    [row] = mine.reply_markup["inline_keyboard"]  # type: ignore[index]
    datas = [b["callback_data"] for b in row]
    [stored] = await desk.store.latest(1)
    assert [parse_data(d) for d in datas] == [(stored.id, True), (stored.id, False)]
    assert all(len(d.encode()) <= 64 and desk.emu.token not in d for d in datas)


async def test_a_press_is_answered_and_stored_once_and_marked_on_the_message(
    desk: Desk,
) -> None:
    await desk.flag("apa", "a1")
    await desk.settled()
    sent = await desk.message(ADMIN)
    text = sent.plain_text
    assert await desk.press(ADMIN, sent.message_id, 0, ADMIN) == SAVED[True]
    await desk.emu.wait_until_async(lambda: desk.emu.buttons(ADMIN, sent.message_id) != PLAIN)
    assert desk.emu.buttons(ADMIN, sent.message_id) == ["✅ Relevant", "👎 Not relevant"]
    assert await desk.press(ADMIN, sent.message_id, 0, ADMIN) == SAVED[True]  # again
    [labelled] = await desk.labels.labelled()
    assert [(v.who, v.relevant, v.chat_id) for v in labelled.votes] == [
        (f"telegram:{ADMIN}", True, ADMIN)
    ]
    # A repeat changes nothing on the message: one keyboard edit in all.
    assert len(desk.emu.requests("editMessageReplyMarkup")) == 1
    assert sent.plain_text == text  # the text is never touched by a press


async def test_pressing_the_other_button_changes_the_verdict(desk: Desk) -> None:
    await desk.flag("apa", "a1")
    await desk.settled()
    sent = await desk.message(ADMIN)
    await desk.press(ADMIN, sent.message_id, 0, ADMIN)
    assert await desk.press(ADMIN, sent.message_id, 1, ADMIN) == SAVED[False]
    await desk.emu.wait_until_async(
        lambda: desk.emu.buttons(ADMIN, sent.message_id) == ["👍 Relevant", "❌ Not relevant"]
    )
    [labelled] = await desk.labels.labelled()
    assert [v.relevant for v in labelled.votes] == [False]
    assert not labelled.relevant


async def test_a_press_in_a_chat_where_feedback_is_off_is_answered_and_ignored(
    desk: Desk,
) -> None:
    assert await desk.labels.set_flag(GROUP, True, now=now())
    await desk.flag("apa", "a1")
    await desk.settled()
    sent = await desk.message(GROUP)
    assert desk.emu.buttons(GROUP, sent.message_id) == PLAIN
    assert await desk.labels.set_flag(GROUP, False, now=now())
    assert await desk.press(GROUP, sent.message_id, 1, STRANGER) == OFF
    # A forged press in a chat that never had buttons is ignored the same way.
    reader = await desk.message(READER)
    [stored] = await desk.store.latest(1)
    query = desk.emu.send_callback_query(READER, f"fb:{stored.id}:0", message_id=reader.message_id)
    assert (await desk.emu.wait_for_answer_async(query))["text"] == OFF
    assert await desk.labels.labelled() == []
    assert desk.emu.requests("editMessageReplyMarkup") == []


async def test_a_press_on_a_message_older_than_retention_keeps_is_ignored(desk: Desk) -> None:
    await desk.flag("apa", "a1")
    await desk.settled()
    sent = await desk.message(ADMIN)
    desk.emu.age_message(ADMIN, sent.message_id, 2 * 86400)  # kept: 1 day
    assert await desk.press(ADMIN, sent.message_id, 1, ADMIN) == TOO_OLD
    assert await desk.labels.labelled() == []


async def test_the_also_edit_of_a_story_keeps_the_buttons_and_their_marks(desk: Desk) -> None:
    await desk.flag("apa", "a1", 0)
    await desk.settled()
    sent = await desk.message(ADMIN)
    await desk.press(ADMIN, sent.message_id, 1, ADMIN)
    await desk.emu.wait_until_async(lambda: desk.emu.requests("editMessageReplyMarkup"))
    await desk.flag("irna", "i1", 30)  # a second outlet: the story's message is edited
    await desk.emu.wait_until_async(lambda: sent.edits)
    await desk.settled()
    assert len(sent.edits) == 1
    assert sent.plain_text.endswith("Also: IRNA")
    assert desk.emu.buttons(ADMIN, sent.message_id) == ["👍 Relevant", "❌ Not relevant"]
    # The group (feedback off) got the same edit without any keyboard.
    group = await desk.message(GROUP)
    assert group.plain_text.endswith("Also: IRNA")
    assert desk.emu.buttons(GROUP, group.message_id) == []


async def test_feedback_on_and_off_is_for_operators_only(desk: Desk) -> None:
    assert await desk.ask(GROUP, "/feedback on", STRANGER) == REFUSED
    assert (await desk.labels.flag(GROUP)).flag is None
    assert (
        await desk.ask(GROUP, "/feedback on", ADMIN) == "Feedback buttons are now on in this chat."
    )
    assert (await desk.labels.flag(GROUP)).flag is True
    await desk.flag("apa", "a1")
    await desk.settled()
    [*_, item] = desk.emu.sent_messages(GROUP)
    assert desk.emu.buttons(GROUP, item.message_id) == PLAIN
    # From the operator's private chat, for another chat; and the state read back.
    reply = await desk.ask(ADMIN, f"/feedback {GROUP} off", ADMIN)
    assert reply == f"Feedback buttons are now off in chat {GROUP}."
    assert (await desk.labels.flag(GROUP)).flag is False
    assert (await desk.ask(READER, f"/feedback {GROUP} on", READER)) == REFUSED
    assert (await desk.labels.flag(GROUP)).flag is False
    assert (await desk.ask(ADMIN, "/feedback", ADMIN)).startswith(
        "Feedback buttons are on in this chat (the default)."
    )
    assert "do not deliver" in await desk.ask(ADMIN, "/feedback -42 on", ADMIN)


@pytest.mark.parametrize(
    ("chat_id", "flag", "default", "on"),
    [
        (ADMIN, None, False, True),  # an operator's private chat: on by default
        (READER, None, False, False),
        (GROUP, None, False, False),
        (GROUP, None, True, True),  # BOT_FEEDBACK_DEFAULT=on
        (ADMIN, False, False, False),  # a stored setting wins either way
        (GROUP, True, False, True),
        (READER, False, True, False),
    ],
)
def test_the_policy_follows_the_chats_setting_then_the_defaults(
    chat_id: int, flag: bool | None, default: bool, on: bool
) -> None:
    assert FeedbackPolicy.of([ADMIN], default).on(chat_id, flag) is on


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        ("fb:42:1", (42, True)),
        ("fb:42:0", (42, False)),
        ("fb:42:2", None),
        ("fb:-4:1", None),
        ("fb:42", None),
        ("mode:digest", None),
        (None, None),
    ],
)
def test_callback_data_is_read_strictly(data: str | None, parsed: tuple[int, bool] | None) -> None:
    assert parse_data(data) == parsed
