"""/addchannel, /removechannel and /undo of them: the real Bot against the emulator, a real
LiveConfig and chat store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.operator.edits import PauseSource
from bot.operator.live import LiveConfig
from bot.storage.chats import ChatStore
from bot.storage.overlay import OverlayStore
from bot.telegram.channels import add_channel, remove_channel, undo_last_change
from tests.emulator.server import TelegramEmulator

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
OPERATOR = 7001
CHANNEL = -100500
SOURCES_TOML = """
[[sources]]
id = "apa"
name = "APA"
url = "https://apa.example/rss"
interval = "10m"
"""
TOPICS_TOML = """
[[topics]]
id = "az-ir"
name = "Azerbaijan–Iran"
require = ["az", "ir"]

[topics.groups]
az = ["Baku"]
ir = ["Tehran"]

[[topics]]
id = "caspian"
name = "Caspian"
default = false
require = ["sea"]

[topics.groups]
sea = ["Caspian"]
"""


@dataclass
class Desk:
    bot: Bot
    live: LiveConfig
    overlay: OverlayStore
    chats: ChatStore
    now: datetime = T0

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    async def add(self, *topics: str) -> str:
        return await add_channel(
            self.bot, "@desk", topics, chat_store=self.chats, live=self.live,
            user_id=OPERATOR, now=self.tick(),
        )  # fmt: skip

    async def remove(self, *topics: str) -> str:
        return await remove_channel(
            self.bot, str(CHANNEL), list(topics) or None, chat_store=self.chats,
            live=self.live, user_id=OPERATOR, now=self.tick(),
        )  # fmt: skip

    async def undo(self) -> str:
        return await undo_last_change(
            live=self.live, overlay=self.overlay, chat_store=self.chats,
            actor=f"telegram:{OPERATOR}", now=self.tick(),
        )  # fmt: skip

    async def topics(self) -> tuple[str, ...] | None:
        chat = await self.chats.chat(CHANNEL)
        return chat.topics if chat is not None and chat.active else None


@pytest.fixture
async def desk(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Desk]:
    telegram_api.configure(rate_limits=None)
    telegram_api.add_chat(CHANNEL, "channel", title="Desk", username="desk")
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "sources.toml").write_text(SOURCES_TOML)
    (config_dir / "topics.toml").write_text(TOPICS_TOML)
    overlay = OverlayStore(db_engine)
    live = LiveConfig(config_dir=config_dir, overlay=overlay, clock=lambda: T0)
    await live.load()
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as bot:
        yield Desk(bot, live, overlay, ChatStore(db_engine))


async def test_undo_of_addchannel_stops_deliveries_to_a_new_target(desk: Desk) -> None:
    await desk.add("az-ir")
    assert await desk.topics() == ("az-ir",)
    answer = await desk.undo()
    assert answer.startswith("Undone: undo #1 (add channel -100500 (Desk))")
    assert await desk.topics() is None
    [undo, added] = await desk.live.audit(2)
    assert (undo.action, undo.before, undo.after) == ("undo", ["az-ir"], None)
    assert added.undone


async def test_undo_of_addchannel_to_an_existing_target_restores_its_topics(desk: Desk) -> None:
    await desk.add("az-ir")
    await desk.add("caspian")
    assert await desk.topics() == ("az-ir", "caspian")
    await desk.undo()
    assert await desk.topics() == ("az-ir",)


@pytest.mark.parametrize("removed", [(), ("caspian",)])
async def test_undo_of_removechannel_subscribes_the_target_again(
    desk: Desk, removed: tuple[str, ...]
) -> None:
    await desk.add("az-ir", "caspian")
    await desk.remove(*removed)
    assert await desk.topics() == (None if not removed else ("az-ir",))
    assert "remove channel" in await desk.undo()
    assert await desk.topics() == ("az-ir", "caspian")


async def test_undo_goes_back_through_channel_changes_and_config_edits_newest_first(
    desk: Desk,
) -> None:
    await desk.add("az-ir")
    await desk.live.apply(PauseSource("apa"), actor="telegram:1")
    await desk.remove()
    # Newest first: the removal, then the config edit, then the addition.
    assert "remove channel" in await desk.undo()
    assert await desk.topics() == ("az-ir",)
    assert "pause" in (await desk.undo()).lower()
    assert desk.live.current.sources[0].enabled
    assert await desk.topics() == ("az-ir",)
    assert "add channel" in await desk.undo()
    assert await desk.topics() is None
    assert (await desk.undo()).startswith("Nothing was undone:")


async def test_undo_with_nothing_in_force_says_so(desk: Desk) -> None:
    assert (await desk.undo()).startswith("Nothing was undone:")
