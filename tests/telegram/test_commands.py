"""Subscribers' commands: the real PTB Application, polling the Telegram emulator, on a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Item, MatchedItem, Source, StoredItem, Topic, TopicMatch, Validators
from bot.storage.chats import ChatStore
from bot.storage.engine import make_engine
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.telegram.app import BotApp, build_application, start, stop
from bot.telegram.commands import (
    COMMANDS,
    LATEST_MAX,
    Ask,
    SubscriberCommands,
    latest_text,
    make_handlers,
)
from bot.text.markup import TELEGRAM_TEXT_LIMIT, utf16_len, visible_text
from tests.emulator.records import DEFAULT_USER_ID
from tests.emulator.server import SentMessage, TelegramEmulator

BAKU = ZoneInfo("Asia/Baku")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TOPICS = (
    Topic(id="azerbaijan-iran", name="Azerbaijan–Iran relations", groups=(), require=()),
    Topic(id="caspian", name="Caspian energy", groups=(), require=(), default=False),
)
SOURCES = (
    Source(id="apa", name="APA", url="https://apa.az/rss", interval=300),
    Source(id="irna", name="IRNA", url="https://irna.ir/rss", interval=300),
    Source(id="trend", name="Trend", url="https://trend.az/rss", interval=300),
)
PRIVATE = 5001
GROUP = -4001
SUPERGROUP = -1001234


@dataclass
class Harness:
    emu: TelegramEmulator
    chats: ChatStore
    store: Store
    app: BotApp

    async def ask(self, chat_id: int, text: str, **kwargs: Any) -> SentMessage:
        """Send a command as a user and return the bot's reply in that chat."""
        before = len(self.emu.sent_messages(chat_id))
        self.emu.send_command(chat_id, text, **kwargs)
        sent = await self.emu.wait_for_messages_async(chat_id, before + 1)
        return sent[before]


@asynccontextmanager
async def running_bot(
    emu: TelegramEmulator, engine: AsyncEngine, **overrides: Any
) -> AsyncIterator[Harness]:
    """The bot polling `emu`, with SubscriberCommands' arguments overridden by `overrides`."""
    # Replies to one chat come faster than Telegram's per-chat limit here; pacing is not tested.
    emu.configure(rate_limits=None)
    chats, outbox = ChatStore(engine), Outbox(engine)
    store = Store(engine, on_flagged=[outbox.enqueue])
    await store.sync_sources(SOURCES, now=T0)
    options: dict[str, Any] = {
        "chat_store": chats,
        "outbox": outbox,
        "store": store,
        "topics": lambda: TOPICS,
        "sources": lambda: SOURCES,
        "tz": BAKU,
        "clock": lambda: datetime.now(UTC),
        **overrides,
    }
    app = build_application(
        emu.token, base_url=emu.api_url, handlers=make_handlers(SubscriberCommands(**options))
    )
    await start(app, webhook_url=None, port=None)
    try:
        yield Harness(emu, chats, store, app)
    finally:
        await stop(app)


@pytest.fixture
async def bot(telegram_api: TelegramEmulator, db_engine: AsyncEngine) -> AsyncIterator[Harness]:
    async with running_bot(telegram_api, db_engine) as harness:
        yield harness


def _item(n: int, *, source: str = "apa", title: str | None = None) -> Item:
    return Item(
        source_id=source,
        key=f"{source}-{n}",
        url=f"https://{source}.example/news/{n}",
        title=title or f"Item {n} about Baku and Tehran",
        summary="",
        published=T0 + timedelta(hours=n),
    )


async def _save(store: Store, items: list[Item], topic: str = "azerbaijan-iran") -> None:
    matched = [MatchedItem(i, (TopicMatch(topic, ()),)) for i in items]
    await store.save_fetch(
        items[0].source_id,
        items=matched,
        validators=Validators(),
        now=T0,
        next_poll=T0 + timedelta(minutes=5),
        announce=False,
    )


def _links(message: SentMessage) -> list[str]:
    return [e["url"] for e in message.entities if e["type"] == "text_link"]


async def test_start_subscribes_to_the_default_topics_and_lists_the_commands(bot: Harness) -> None:
    reply = await bot.ask(PRIVATE, "/start")
    chat = await bot.chats.chat(PRIVATE)
    assert chat is not None
    assert chat.active
    assert chat.topics == ("azerbaijan-iran",)
    assert chat.kind == "private"
    assert chat.thread_id is None
    assert chat.added_by == PRIVATE
    assert "I watch news outlets" in reply.plain_text
    assert (
        "new items about Azerbaijan–Iran relations will be posted in this chat" in reply.plain_text
    )
    for command in ("/latest", "/topics", "/subscribe", "/sources", "/status", "/stop", "/help"):
        assert command in reply.plain_text
    assert reply.parse_mode == "HTML"


async def test_start_without_default_topics_asks_to_pick_one(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine
) -> None:
    async with running_bot(telegram_api, db_engine, default_topics=lambda: ()) as bot:
        reply = await bot.ask(PRIVATE, "/start")
        assert "Pick a topic with /subscribe <topic>" in reply.plain_text
        assert "caspian" in reply.plain_text
        assert await bot.chats.chat(PRIVATE) is None
        await bot.ask(PRIVATE, "/subscribe caspian")
        chat = await bot.chats.chat(PRIVATE)
        assert chat is not None
        assert chat.topics == ("caspian",)


async def test_default_topics_come_from_the_callable_at_each_command(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine
) -> None:
    defaults = ["caspian"]
    async with running_bot(telegram_api, db_engine, default_topics=lambda: defaults) as bot:
        await bot.ask(PRIVATE, "/start")
        defaults[:] = ["azerbaijan-iran"]  # a live config change
        await bot.ask(PRIVATE + 1, "/start")
        first, second = await bot.chats.chat(PRIVATE), await bot.chats.chat(PRIVATE + 1)
        assert first is not None
        assert first.topics == ("caspian",)
        assert second is not None
        assert second.topics == ("azerbaijan-iran",)


async def test_stop_unsubscribes_and_confirms(bot: Harness) -> None:
    await bot.ask(PRIVATE, "/start")
    reply = await bot.ask(PRIVATE, "/stop")
    assert "Unsubscribed" in reply.plain_text
    chat = await bot.chats.chat(PRIVATE)
    assert chat is not None
    assert not chat.active
    assert chat.topics == ()
    again = await bot.ask(PRIVATE, "/stop")
    assert "was not subscribed" in again.plain_text


async def test_latest_answers_newest_first_and_respects_n(bot: Harness) -> None:
    await _save(bot.store, [_item(n) for n in range(1, 8)])
    await bot.ask(PRIVATE, "/start")  # subscribed a moment ago: the store's items still show
    three = await bot.ask(PRIVATE, "/latest 3")
    assert _links(three) == [f"https://apa.example/news/{n}" for n in (7, 6, 5)]
    assert "APA · 1 Mar 2026, 19:00 +04" in three.plain_text  # 15:00 UTC in Baku
    assert three.link_preview_options == {"is_disabled": True}
    default = await bot.ask(PRIVATE, "/latest")
    assert _links(default) == [f"https://apa.example/news/{n}" for n in (7, 6, 5, 4, 3)]


async def test_latest_caps_n_at_the_maximum_and_says_so(bot: Harness) -> None:
    await _save(bot.store, [_item(n) for n in range(1, LATEST_MAX + 6)])
    reply = await bot.ask(PRIVATE, "/latest 500")
    assert len(_links(reply)) == LATEST_MAX
    assert _links(reply)[0] == f"https://apa.example/news/{LATEST_MAX + 5}"
    assert f"at most {LATEST_MAX}" in reply.plain_text


async def test_latest_keeps_to_the_chats_topics(bot: Harness) -> None:
    await _save(bot.store, [_item(1)], topic="azerbaijan-iran")
    await _save(bot.store, [_item(2, source="trend")], topic="caspian")
    await bot.ask(PRIVATE, "/subscribe caspian")
    await bot.ask(PRIVATE, "/unsubscribe azerbaijan-iran")
    reply = await bot.ask(PRIVATE, "/latest")
    assert _links(reply) == ["https://trend.example/news/2"]


async def test_latest_without_subscription_uses_default_topics_and_says_how_to_subscribe(
    bot: Harness,
) -> None:
    await _save(bot.store, [_item(1)])
    reply = await bot.ask(PRIVATE, "/latest")
    assert _links(reply) == ["https://apa.example/news/1"]
    assert "/start" in reply.plain_text
    assert "not subscribed" in reply.plain_text
    assert await bot.chats.chat(PRIVATE) is None  # asking does not subscribe


async def test_latest_with_nothing_flagged_says_so(bot: Harness) -> None:
    reply = await bot.ask(PRIVATE, "/latest")
    assert "Nothing has been flagged yet" in reply.plain_text


@pytest.mark.parametrize("text", ["/latest abc", "/latest 1 2 3", "/latest 0", "/latest -4"])
async def test_malformed_latest_gets_a_usage_answer(
    bot: Harness, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await bot.ask(PRIVATE, text)
    assert reply.plain_text.startswith("Usage: /latest [N]")
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_latest_reads_persian_digits(bot: Harness) -> None:
    await _save(bot.store, [_item(n) for n in range(1, 5)])
    reply = await bot.ask(PRIVATE, "/latest ۲")
    assert len(_links(reply)) == 2


async def test_latest_escapes_hostile_titles(bot: Harness) -> None:
    hostile = "<script>alert(1)</script> & <b>unbalanced"
    await _save(bot.store, [_item(1, title=hostile)])
    reply = await bot.ask(PRIVATE, "/latest")
    assert hostile in reply.plain_text  # the emulator parsed it as text, not tags


async def test_subscribe_to_an_unknown_topic_explains_and_lists_topics(bot: Harness) -> None:
    reply = await bot.ask(PRIVATE, "/subscribe <weather>")
    assert "There is no topic “<weather>”" in reply.plain_text
    assert "azerbaijan-iran" in reply.plain_text
    assert "caspian" in reply.plain_text
    assert await bot.chats.chat(PRIVATE) is None
    usage = await bot.ask(PRIVATE, "/subscribe")
    assert usage.plain_text.startswith("Usage: /subscribe <topic>")
    many = await bot.ask(PRIVATE, "/subscribe caspian weather")
    assert "One topic at a time" in many.plain_text


async def test_subscribe_accepts_topic_name_and_hashtag(bot: Harness) -> None:
    await bot.ask(PRIVATE, "/subscribe Caspian energy")
    await bot.ask(PRIVATE, "/subscribe #azerbaijan_iran")
    chat = await bot.chats.chat(PRIVATE)
    assert chat is not None
    assert chat.topics == ("azerbaijan-iran", "caspian")


async def test_topics_and_status_reflect_the_subscription(bot: Harness) -> None:
    before = await bot.ask(PRIVATE, "/status")
    assert "not subscribed" in before.plain_text
    await bot.ask(PRIVATE, "/start")
    await bot.ask(PRIVATE, "/subscribe caspian")
    topics = await bot.ask(PRIVATE, "/topics")
    assert "✅ Azerbaijan–Iran relations" in topics.plain_text
    assert "✅ Caspian energy" in topics.plain_text
    await bot.ask(PRIVATE, "/unsubscribe caspian")
    topics = await bot.ask(PRIVATE, "/topics")
    assert "▫️ Caspian energy" in topics.plain_text
    # An item flagged now is pending for this chat until the delivery worker sends it.
    await _save(bot.store, [_item(1)])
    await bot.store.save_fetch(
        "irna",
        items=[MatchedItem(_item(2, source="irna"), (TopicMatch("azerbaijan-iran", ()),))],
        validators=Validators(),
        now=T0,
        next_poll=T0,
        announce=True,
    )
    status = await bot.ask(PRIVATE, "/status")
    assert "Following: Azerbaijan–Iran relations" in status.plain_text
    assert "Waiting to be sent: 1" in status.plain_text
    assert "main chat" in status.plain_text


async def test_unsubscribing_the_last_topic_stops_the_chat(bot: Harness) -> None:
    await bot.ask(PRIVATE, "/start")
    not_followed = await bot.ask(PRIVATE, "/unsubscribe caspian")
    assert "does not follow" in not_followed.plain_text
    reply = await bot.ask(PRIVATE, "/unsubscribe azerbaijan-iran")
    assert "last topic" in reply.plain_text
    chat = await bot.chats.chat(PRIVATE)
    assert chat is not None
    assert not chat.active


async def test_sources_shows_each_outlets_health(bot: Harness) -> None:
    await _save(bot.store, [_item(1)])
    await bot.store.states.save_failure("irna", error="HTTP 503", now=T0, next_poll=T0)
    await bot.store.states.save_failure("irna", error="HTTP 503", now=T0, next_poll=T0)
    reply = await bot.ask(PRIVATE, "/sources")
    text = reply.plain_text
    assert "3, 1 failing" in text
    assert "✅ APA — last success 1 Mar 2026, 12:00 +04" in text
    assert "⚠️ IRNA — failing (2 in a row); no success yet" in text
    assert "⏳ Trend — not checked yet" in text
    assert "503" not in text  # the public view leaves error details out


async def test_group_command_addressed_to_the_bot_works(bot: Harness) -> None:
    await _save(bot.store, [_item(n) for n in range(1, 4)])
    # Addressed to another bot: ignored; the next command's reply is the first in the chat.
    bot.emu.send_command(GROUP, "/latest@some_other_bot 2", chat_type="group", user_id=7)
    reply = await bot.ask(GROUP, f"/latest@{bot.emu.bot_username} 2", chat_type="group", user_id=7)
    assert len(bot.emu.sent_messages(GROUP)) == 1
    assert _links(reply) == ["https://apa.example/news/3", "https://apa.example/news/2"]
    refused = await bot.ask(GROUP, f"/start@{bot.emu.bot_username}", chat_type="group", user_id=7)
    assert "administrators" in refused.plain_text
    assert await bot.chats.chat(GROUP) is None
    bot.emu.set_member_status(GROUP, 8, "administrator")  # 7's answer stays cached for a minute
    start = await bot.ask(GROUP, f"/start@{bot.emu.bot_username}", chat_type="group", user_id=8)
    assert "Subscribed" in start.plain_text
    chat = await bot.chats.chat(GROUP)
    assert chat is not None
    assert chat.kind == "group"
    assert chat.title == f"Chat {GROUP}"
    assert chat.added_by == 8


async def test_start_in_a_forum_topic_remembers_the_thread_and_replies_in_it(
    bot: Harness,
) -> None:
    bot.emu.set_member_status(SUPERGROUP, DEFAULT_USER_ID, "creator")
    reply = await bot.ask(SUPERGROUP, "/start", chat_type="supergroup", message_thread_id=42)
    assert reply.message_thread_id == 42
    assert "posted in this topic" in reply.plain_text
    chat = await bot.chats.chat(SUPERGROUP)
    assert chat is not None
    assert chat.thread_id == 42
    assert chat.kind == "supergroup"
    status = await bot.ask(SUPERGROUP, "/status", chat_type="supergroup", message_thread_id=42)
    assert status.message_thread_id == 42
    assert "forum topic 42" in status.plain_text


async def test_a_reply_chain_in_a_plain_group_is_not_taken_for_a_forum_topic(
    bot: Harness,
) -> None:
    # Telegram sets message_thread_id on replies in plain supergroups too, without
    # is_topic_message; such a "thread" is no forum topic and cannot be posted to.
    bot.emu.add_chat(SUPERGROUP, "supergroup")
    bot.emu.set_member_status(SUPERGROUP, 7, "administrator")
    bot.emu.send_update(
        {
            "message": {
                "message_id": 10,
                "date": 0,
                "chat": {"id": SUPERGROUP, "type": "supergroup", "title": "Plain"},
                "from": {"id": 7, "is_bot": False, "first_name": "U"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                "message_thread_id": 3,
            }
        }
    )
    sent = await bot.emu.wait_for_messages_async(SUPERGROUP, 1)
    assert sent[0].message_thread_id is None
    chat = await bot.chats.chat(SUPERGROUP)
    assert chat is not None
    assert chat.thread_id is None


async def test_group_migration_moves_the_subscription(bot: Harness) -> None:
    bot.emu.set_member_status(GROUP, DEFAULT_USER_ID, "administrator")
    await bot.ask(GROUP, "/start", chat_type="group")
    new_id = -1009876
    bot.emu.migrate_chat(GROUP, new_id)
    # Updates are handled in order, so the migration is done once this command is answered.
    status = await bot.ask(new_id, "/status", chat_type="supergroup")
    assert "Following: Azerbaijan–Iran relations" in status.plain_text
    assert await bot.chats.chat(GROUP) is None
    moved = await bot.chats.chat(new_id)
    assert moved is not None
    assert moved.active
    assert moved.kind == "supergroup"


async def test_edited_commands_and_channel_posts_are_ignored(bot: Harness) -> None:
    channel = -1005555
    bot.emu.send_update(
        {
            "edited_message": {
                "message_id": 99,
                "date": 0,
                "edit_date": 1,
                "chat": {"id": PRIVATE, "type": "private", "first_name": "U"},
                "from": {"id": PRIVATE, "is_bot": False, "first_name": "U"},
                "text": "/stop",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }
        }
    )
    bot.emu.send_command(channel, "/start", chat_type="channel")
    reply = await bot.ask(PRIVATE, "/help")
    assert "Commands" in reply.plain_text
    assert len(bot.emu.sent_messages(PRIVATE)) == 1
    assert bot.emu.sent_messages(channel) == []
    assert await bot.chats.chat(channel) is None


async def test_a_database_failure_gets_an_apology_not_an_unhandled_error(
    telegram_api: TelegramEmulator,
    db_engine: AsyncEngine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: every query fails
    try:
        broken = ChatStore(unmigrated)
        async with running_bot(telegram_api, db_engine, chat_store=broken) as bot:
            reply = await bot.ask(PRIVATE, "/status")
    finally:
        await unmigrated.dispose()
    assert "cannot reach my database" in reply.plain_text
    assert any(
        r.levelname == "WARNING" and "/status failed" in r.getMessage() for r in caplog.records
    )
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def _stored(n: int, title: str) -> StoredItem:
    return StoredItem(
        id=n,
        item=_item(n, title=title),
        source_name="APA",
        first_seen=T0,
        matches=(TopicMatch("azerbaijan-iran", ()),),
    )


def test_latest_text_stays_within_telegrams_limit_and_says_what_it_left_out() -> None:
    # Emoji count two UTF-16 units each: 20 long titles overflow one message.
    items = [_stored(n, "🇦🇿🇮🇷 " * 200) for n in range(LATEST_MAX)]
    text = latest_text(items, topic_names={}, topics=["azerbaijan-iran"], tz=BAKU)
    shown = visible_text(text)
    assert utf16_len(shown) <= TELEGRAM_TEXT_LIMIT
    assert "more" in shown.splitlines()[-1]


def test_latest_text_leaves_unsafe_links_unlinked() -> None:
    item = _stored(1, "Click")
    bad = StoredItem(
        id=1,
        item=Item(**{**_fields(item.item), "url": "javascript:alert(1)"}),
        source_name="APA",
        first_seen=T0,
    )
    text = latest_text([bad], topic_names={}, topics=["azerbaijan-iran"], tz=BAKU)
    assert "<a " not in text
    assert "Click" in text


def _fields(item: Item) -> dict[str, Any]:
    return {name: getattr(item, name) for name in Item.__dataclass_fields__}


# ------------------------------------------------- one command on its own, without PTB


def _commands(engine: AsyncEngine) -> SubscriberCommands:
    outbox = Outbox(engine)
    return SubscriberCommands(
        chat_store=ChatStore(engine),
        outbox=outbox,
        store=Store(engine, on_flagged=[outbox.enqueue]),
        topics=lambda: TOPICS,
        sources=lambda: SOURCES,
        tz=BAKU,
        clock=lambda: T0,
    )


def _asked(*args: str, chat_id: int = PRIVATE) -> Ask:
    return Ask(chat_id=chat_id, kind="private", title=None, thread_id=None, user_id=7, args=args)


async def test_one_command_method_answers_without_telegram(db_engine: AsyncEngine) -> None:
    commands = _commands(db_engine)
    await commands.store.sync_sources(SOURCES, now=T0)
    assert "Usage: /latest" in await commands.latest(_asked("zero"))
    assert "not subscribed" in await commands.status(_asked())
    reply = await commands.subscribe(_asked("caspian"))
    assert "Subscribed to <b>Caspian energy</b>" in reply
    chat = await commands.chat_store.chat(PRIVATE)
    assert chat is not None
    assert chat.topics == ("caspian",)
    assert "does not follow" in await commands.unsubscribe(_asked("azerbaijan-iran"))


def test_every_subscriber_command_in_the_menu_has_a_method(db_engine: AsyncEngine) -> None:
    assert set(_commands(db_engine).commands()) == {name for name, _ in COMMANDS}
