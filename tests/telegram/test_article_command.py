"""/article through the real PTB Application polling the Telegram emulator, on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.operator.live import LiveConfig
from bot.storage.overlay import OverlayStore
from bot.telegram.app import build_application, start, stop
from bot.telegram.article_command import make_article_handlers
from tests.emulator.server import TelegramEmulator
from tests.telegram.test_admin import ADMIN, STRANGER, TOPICS_TOML

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SOURCES_TOML = """
[[sources]]
id = "apa"
name = "APA"
url = "https://apa.example/rss"
"""


class Desk:
    def __init__(self, emu: TelegramEmulator, live: LiveConfig) -> None:
        self.emu, self.live = emu, live

    async def ask(self, text: str, *, chat_id: int = ADMIN) -> str:
        before = len(self.emu.sent_messages(chat_id))
        self.emu.send_command(chat_id, text)
        sent = await self.emu.wait_for_messages_async(chat_id, before + 1)
        return sent[before].plain_text

    def mode(self) -> str:
        return self.live.current.sources[0].fetch_article


@pytest.fixture
async def desk(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Desk]:
    telegram_api.configure(rate_limits=None)
    (tmp_path / "sources.toml").write_text(SOURCES_TOML)
    (tmp_path / "topics.toml").write_text(TOPICS_TOML)
    live = LiveConfig(config_dir=tmp_path, overlay=OverlayStore(db_engine), clock=lambda: T0)
    await live.load()
    app = build_application(
        telegram_api.token,
        base_url=telegram_api.api_url,
        handlers=make_article_handlers(admin_ids=[ADMIN], live=live),
    )
    await start(app, webhook_url=None, port=None)
    try:
        yield Desk(telegram_api, live)
    finally:
        await stop(app)


async def test_article_sets_the_mode_live_audited_and_undoable(desk: Desk) -> None:
    assert desk.mode() == "short"
    reply = await desk.ask("/article apa ALWAYS")
    assert "set article fetching of source 'apa' to always" in reply
    assert desk.mode() == "always"
    [entry] = await desk.live.audit(5)
    assert entry.actor == f"telegram:{ADMIN}"
    assert entry.before.get("fetch_article", "short") == "short"
    assert entry.after["fetch_article"] == "always"
    await desk.live.undo(actor="test")
    assert desk.mode() == "short"


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("/article apa", "a source id and a mode are needed"),
        ("/article apa sometimes", "unknown mode 'sometimes'"),
        ("/article nosuch never", "no source 'nosuch'"),
        ("/article apa short", "already fetches articles: short"),
    ],
)
async def test_bad_article_commands_are_refused_with_the_reason(
    desk: Desk, command: str, reason: str
) -> None:
    reply = await desk.ask(command)
    assert reason in reply
    assert desk.mode() == "short"
    assert await desk.live.audit(5) == []


async def test_article_from_a_non_operator_changes_nothing(desk: Desk) -> None:
    reply = await desk.ask("/article apa never", chat_id=STRANGER)
    assert "for the bot's operators" in reply
    assert desk.mode() == "short"
