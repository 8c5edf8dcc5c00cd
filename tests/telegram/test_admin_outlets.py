"""Operators adding outlets without a feed over Telegram (the real PTB application polling the
Bot API emulator): /addsource detects a channel preview and says how often to poll it, refuses a
plain page saying how to give selectors, and /sources judges each channel's polling."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds.fetch import Fetcher, make_client
from bot.operator.live import LiveConfig
from bot.polling.pipeline import Pipeline
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.ops import OpsStore
from bot.storage.outbox import Outbox
from bot.storage.overlay import OverlayStore
from bot.storage.pace import PostingPace
from bot.telegram.admin import make_admin_handlers
from bot.telegram.app import build_application, start, stop
from bot.topics.matcher import compile_topics
from tests.emulator.server import TelegramEmulator
from tests.feeds.outlets import channel, listing, post, story
from tests.polling.test_pipeline import RecordingMessenger
from tests.servers import FeedServer
from tests.telegram.test_admin import ADMIN, BAKU, SOURCES_TOML, T0, TOPICS_TOML, Harness


@pytest.fixture
async def bot(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine, feed_server: FeedServer, tmp_path: Path
) -> AsyncIterator[Harness]:
    telegram_api.configure(rate_limits=None)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "sources.toml").write_text(SOURCES_TOML.format(base=feed_server.base_url))
    (config_dir / "topics.toml").write_text(TOPICS_TOML)
    clock = lambda: T0  # noqa: E731
    live = LiveConfig(config_dir=config_dir, overlay=OverlayStore(db_engine), clock=clock)
    await live.load()
    chats, outbox = ChatStore(db_engine), Outbox(db_engine)
    store = Store(db_engine, on_flagged=[outbox.enqueue])
    async with make_client(timeout=5.0) as client:
        admin = make_admin_handlers(
            admin_ids=[ADMIN],
            live=live,
            store=store,
            chat_store=chats,
            ops=OpsStore(db_engine, on_flagged=[outbox.enqueue]),
            fetcher=Fetcher(client),
            tz=BAKU,
            clock=clock,
            pace=PostingPace(db_engine),
        )
        app = build_application(telegram_api.token, base_url=telegram_api.api_url, handlers=admin)
        await start(app, webhook_url=None, port=None)
        try:
            yield Harness(telegram_api, live, store, chats, db_engine, app, config_dir)
        finally:
            await stop(app)


async def test_addsource_detects_a_channel_preview_and_says_how_often_to_poll_it(
    bot: Harness, feed_server: FeedServer
) -> None:
    posts = [
        post(n, f"Statement number {n}", at=T0 - timedelta(minutes=10 * (21 - n)))
        for n in range(1, 21)
    ]
    feed_server.put("/s/mfa", channel(posts, name="mfa", title="MFA"), content_type="text/html")
    reply = await bot.ask(f"/addsource mfa {feed_server.url('/s/mfa')}")
    assert "Added mfa: feed “MFA”, 20 item(s)" in reply
    assert (
        "Telegram channel: the preview shows the last ~20 messages: "
        "poll at least every 1h40m to keep up." in reply
    )
    [added] = [s for s in bot.live.current.sources if s.id == "mfa"]
    assert (added.kind, added.url) == ("telegram", feed_server.url("/s/mfa"))


async def test_addsource_refuses_a_plain_page_saying_how_to_give_selectors(
    bot: Harness, feed_server: FeedServer
) -> None:
    feed_server.put("/latest", listing([story(1)]), content_type="text/html")
    reply = await bot.ask(f"/addsource page {feed_server.url('/latest')}")
    assert reply.startswith("Not added")
    assert "needs CSS selectors" in reply
    assert "config addsource ID URL --item CSS --title CSS --link CSS" in reply
    assert bot.source_ids() == ["apa"]


async def test_sources_says_whether_each_channel_is_polled_often_enough(
    bot: Harness, feed_server: FeedServer, matcher
) -> None:
    feed_server.put(
        "/s/fast",
        channel(
            [post(n, f"Fast {n}", at=T0 - timedelta(minutes=10 * (21 - n))) for n in range(1, 21)],
            name="fast",
        ),
        content_type="text/html",
    )
    feed_server.put(
        "/s/quiet", channel([post(1, "Only one")], name="quiet"), content_type="text/html"
    )
    await bot.ask(f"/addsource fast {feed_server.url('/s/fast')}")
    await bot.ask(f"/addsource quiet {feed_server.url('/s/quiet')}")
    sources = [s for s in bot.live.current.sources if s.kind == "telegram"]
    await bot.store.sync_sources(bot.live.current.sources, now=T0)
    async with make_client(timeout=5.0) as client:
        pipeline = Pipeline(
            fetcher=Fetcher(client),
            store=bot.store,
            matcher=compile_topics(bot.live.current.topics),
            messenger=RecordingMessenger(),
            clock=lambda: T0,
            rng=random.Random(1),
        )
        await pipeline.run_all(sources)
    reply = await bot.ask("/sources")
    assert "Telegram channels: the preview shows the last ~20 messages" in reply
    assert "• fast: every 10m, needs at least every 1h40m: keeps up" in reply
    assert "• quiet: every 10m; too few messages stored yet to judge" in reply
    # Polled every 3 hours, the fast channel would lose messages.
    await bot.ask("/interval fast 3h")
    assert "• fast: every 3h, needs at least every 1h40m: ⚠️ too rare" in await bot.ask("/sources")
