"""The HTTP wing as `app.run_bot` wires it from the environment: BOT_HTTP_PORT, BOT_HTTP_HOST,
BOT_PUBLIC_URL (WebSub through the hub emulator), and webhook mode, where Telegram's posts and our
paths share PORT. The bot runs in the test's loop against the feed server and the Bot API emulator.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import httpx

from bot.app import main as app
from bot.config import Config, load_config
from tests.emulator.server import TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.web.hub import HubEmulator
from tests.web.rig import with_hub
from tests.web.test_websub import free_port

REPO = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)
FLAGGED = "Azerbaijan and Iran sign a new transit deal"


def write_config(tmp_path: Path, server: FeedServer) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.toml", config / "topics.toml")
    (config / "sources.toml").write_text(
        f'[[sources]]\nid = "news"\nname = "News Outlet"\nurl = "{server.url("/app/feed.xml")}"\n'
        'interval = "1h"\n',
        encoding="utf-8",
    )
    return config


@asynccontextmanager
async def running(config: Config, stdout: io.StringIO) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(app.run_bot(config, stop=stop, stdout=stdout))
    try:
        yield
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task


async def until(check, timeout: float = 20.0):  # noqa: ASYNC109
    # The bot starts in the background; its port answers once it is up (bounded by the timeout).
    async with asyncio.timeout(timeout):
        while True:
            try:
                result = await check()
            except httpx.TransportError:
                result = None
            if result:
                return result
            await asyncio.sleep(0.05)


async def test_run_serves_http_on_bot_http_port_and_a_websub_push_is_announced_at_once(
    tmp_path: Path, feed_server: FeedServer, database_url: str
):
    hub = HubEmulator()
    await hub.start()
    topic = feed_server.url("/app/feed.xml")
    feed_server.put("/app/feed.xml", with_hub(rss([item(1, pub_date=NOW)]), hub.url, topic))
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "BOT_CONFIG_DIR": str(write_config(tmp_path, feed_server)),
        "BOT_HTTP_PORT": str(port),
        "BOT_HTTP_HOST": "127.0.0.1",
        "BOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    stdout = io.StringIO()
    try:
        async with (
            running(load_config(env), stdout),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as http,
        ):
            await hub.wait_for(lambda: any(v.echoed for v in hub.verifications), timeout=20)
            health = await until(lambda: http.get("/healthz"))
            assert health.status_code == 200
            assert health.json()["scheduler"] == "running"
            assert (await http.get("/")).status_code == 200
            assert (await http.get("/topics/azerbaijan-iran.atom")).status_code == 200
            assert "bot_fetches_total" in (await http.get("/metrics")).text

            body = with_hub(rss([item(2, title=FLAGGED, pub_date=NOW), item(1, pub_date=NOW)]),
                            hub.url, topic)  # fmt: skip
            feed_server.put("/app/feed.xml", body)
            assert await hub.publish(topic, body) == [202]
            await feed_server.wait_for_requests_async("/app/feed.xml", 2, timeout=10)
            await until(lambda: _contains(stdout, FLAGGED), timeout=10)
            # Announced after it was stored with its story: the topic's feed, read through the
            # story reader app hands the web wing, carries it.
            feed = feedparser.parse((await http.get("/topics/azerbaijan-iran.atom")).content)
            assert [(e.title, e.author) for e in feed.entries] == [(FLAGGED, "News Outlet")]
            assert FLAGGED in (await http.get("/")).text  # and so do the page's newest stories
    finally:
        await hub.stop()


async def _contains(stdout: io.StringIO, text: str) -> bool:
    return text in stdout.getvalue()


async def test_webhook_mode_serves_our_paths_and_telegrams_posts_on_port(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
):
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/app/feed.xml", rss([item(1, pub_date=NOW)]))
    port = free_port()
    env = {
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_BASE_URL": emu.api_url,
        "DATABASE_URL": database_url,
        "BOT_CONFIG_DIR": str(write_config(tmp_path, feed_server)),
        "BOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "PORT": str(port),
    }
    async with (
        running(load_config(env), io.StringIO()),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as http,
    ):
        await emu.wait_until_async(lambda: emu.webhook.get("url"), timeout=20)
        assert emu.webhook["url"].startswith(f"http://127.0.0.1:{port}/hook/")
        assert emu.token not in emu.webhook["url"]
        emu.send_command(501, "/start", chat_type="private")
        await emu.wait_for_messages_async(501, 1, timeout=10)
        assert not emu.requests("getUpdates")
        assert (await http.get("/healthz")).json()["database"] == "ok"
        page = (await http.get("/")).text
        assert "News Outlet" in page
        assert emu.token not in page
        # Without Telegram's secret header the webhook path refuses the post.
        path = emu.webhook["url"].removeprefix(f"http://127.0.0.1:{port}")
        forged = await http.post(path, json={"update_id": 999})
        assert forged.status_code == 403
