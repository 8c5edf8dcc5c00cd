"""The whole bot end to end: loopback feed server → pipeline → outbox → real PTB → Bot API emulator.

`app.run_bot` runs in the test's loop (or as a real process for the crash test) with
TELEGRAM_API_BASE_URL pointing at the emulator; subscribers and operators talk to it only through
Telegram updates, as people would.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.app import main as app
from bot.config import Config, load_config
from bot.storage.chats import ChatStore
from bot.storage.engine import make_engine, migrate
from tests.emulator.records import DEFAULT_USER_ID
from tests.emulator.server import TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer

REPO = Path(__file__).resolve().parents[2]
ADMIN = 4242
FLAGGED = "Azerbaijan and Iran sign a new transit deal"
POLL = 60.0  # generous bound for one 10 s poll interval plus jitter


def write_config(tmp_path: Path, server: FeedServer, paths: dict[str, str]) -> Path:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    shutil.copy(REPO / "config" / "topics.toml", config / "topics.toml")
    (config / "sources.toml").write_text(
        "".join(
            f'[[sources]]\nid = "{sid}"\nname = "Outlet {sid}"\nurl = "{server.url(path)}"\n'
            'interval = "10s"\n\n'
            for sid, path in paths.items()
        ),
        encoding="utf-8",
    )
    return config


def environment(config_dir: Path, database_url: str, emu: TelegramEmulator) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_BASE_URL": emu.api_url,
        "DATABASE_URL": database_url,
        "BOT_CONFIG_DIR": str(config_dir),
        "BOT_ADMIN_IDS": str(ADMIN),
    }


async def subscribe(database_url: str, chats: list[int]) -> None:
    """Subscribers straight into the store, to keep a test short (/start is tested below)."""
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        store = ChatStore(engine)
        for chat in chats:
            await store.subscribe(
                chat,
                kind="private",
                title=None,
                topics=["azerbaijan-iran"],
                thread_id=None,
                now=datetime.now(UTC),
            )
    finally:
        await engine.dispose()


@asynccontextmanager
async def running(config: Config) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(app.run_bot(config, stop=stop))
    try:
        yield
    finally:
        stop.set()
        async with asyncio.timeout(10):  # the clean-stop promise
            await task


async def started(emu: TelegramEmulator) -> None:
    """The bot is up once it registered its commands and is long-polling."""
    await emu.wait_until_async(lambda: emu.commands and emu.requests("getUpdates"), timeout=20)


def texts(emu: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.plain_text for m in emu.sent_messages(chat_id)]


async def test_a_new_item_reaches_every_subscriber_once_and_stop_stops_it(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    backlog = item(1, title="Baku–Tehran talks (backlog)")
    feed_server.put("/feed.xml", rss([backlog]))
    config = load_config(
        environment(write_config(tmp_path, feed_server, {"news": "/feed.xml"}), database_url, emu)
    )
    private, group, leaver = 501, -100777, 502
    async with running(config):
        await started(emu)
        await feed_server.wait_for_requests_async("/feed.xml", 1, timeout=20)  # first sight
        emu.send_command(private, "/start", chat_type="private")
        emu.set_member_status(group, DEFAULT_USER_ID, "administrator")
        emu.send_command(group, "/start@" + emu.bot_username, chat_type="supergroup")
        emu.send_command(leaver, "/start", chat_type="private")
        for chat in (private, group, leaver):
            await emu.wait_for_messages_async(chat, 1, timeout=10)
        emu.send_command(leaver, "/stop", chat_type="private")
        await emu.wait_for_messages_async(leaver, 2, timeout=10)

        feed_server.put(
            "/feed.xml", rss([item(2, title=FLAGGED), item(3, title="Paris weather"), backlog])
        )
        await emu.wait_for_messages_async(private, 2, timeout=POLL)
        await emu.wait_for_messages_async(group, 2, timeout=10)

        emu.send_command(private, "/latest 3", chat_type="private")
        await emu.wait_for_messages_async(private, 3, timeout=10)
        # One more poll passes with nothing new: nobody gets the item twice.
        await feed_server.wait_for_requests_async("/feed.xml", 3, timeout=POLL)

    for chat in (private, group):
        delivered = [t for t in texts(emu, chat) if t.startswith(FLAGGED) and "Topic:" in t]
        assert len(delivered) == 1, texts(emu, chat)
    item_message = next(
        m for m in emu.sent_messages(private) if m.parse_mode == "HTML" and FLAGGED in m.text
    )
    assert 'href="https://example.com/news/2"' in item_message.text
    assert not any(FLAGGED in t for t in texts(emu, leaver))
    assert not any("backlog" in t for t in texts(emu, private)[:2])
    latest = texts(emu, private)[-1]
    assert FLAGGED in latest
    assert "Baku–Tehran talks (backlog)" in latest  # /latest shows stored items, backlog included
    assert "Paris weather" not in latest


async def test_a_hostile_title_is_delivered_as_valid_html(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/h.xml", rss([item(1)]))
    config = load_config(
        environment(write_config(tmp_path, feed_server, {"h": "/h.xml"}), database_url, emu)
    )
    hostile = (
        'Baku & Tehran <script>alert(1)</script> <b>unbalanced "quotes" Iran < Azerbaijan? 5 > 3'
    )
    async with running(config):
        await started(emu)
        await feed_server.wait_for_requests_async("/h.xml", 1, timeout=20)
        emu.send_command(601, "/start", chat_type="private")
        await emu.wait_for_messages_async(601, 1, timeout=10)
        feed_server.put(
            "/h.xml", rss([item(2, title=hostile, link='https://x.az/a?b=1&c="2"'), item(1)])
        )
        messages = await emu.wait_for_messages_async(601, 2, timeout=POLL)
    delivered = messages[-1]
    assert delivered.parse_mode == "HTML"
    # Tags in a feed title are markup, stripped to text before matching; what is left of the
    # hostile text (&, quotes, bare < and >) reaches Telegram escaped and shows verbatim.
    assert delivered.plain_text.startswith(
        'Baku & Tehran unbalanced "quotes" Iran < Azerbaijan? 5 > 3\n'
    )
    assert "<script>" not in delivered.text
    assert "&amp;" in delivered.text
    assert "&lt;" in delivered.text


async def test_operator_adds_a_source_and_its_next_item_is_delivered_and_survives_restart(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/base.xml", rss([item(1)]))
    feed_server.put(
        "/added.xml", rss([item(10, title="Old news from the added outlet")], title="Added Outlet")
    )
    env = environment(write_config(tmp_path, feed_server, {"base": "/base.xml"}), database_url, emu)
    reader = 701
    async with running(load_config(env)):
        await started(emu)
        emu.send_command(reader, "/start", chat_type="private")
        await emu.wait_for_messages_async(reader, 1, timeout=10)
        emu.send_command(
            999,
            f"/addsource intruder {feed_server.url('/added.xml')}",
            chat_type="private",
            user_id=999,
        )
        refusal = await emu.wait_for_messages_async(999, 1, timeout=10)
        emu.send_command(
            ADMIN,
            f"/addsource added {feed_server.url('/added.xml')}",
            chat_type="private",
            user_id=ADMIN,
        )
        answer = await emu.wait_for_messages_async(ADMIN, 1, timeout=20)
        assert "Added Outlet" in answer[-1].plain_text
        await feed_server.wait_for_requests_async("/added.xml", 2, timeout=20)  # probe, first poll
        feed_server.put(
            "/added.xml",
            rss([item(11, title=FLAGGED), item(10, title="Old news from the added outlet")]),
        )
        # New sources poll every 10 minutes by default; a shorter interval applies at once.
        emu.send_command(ADMIN, "/interval added 10s", chat_type="private", user_id=ADMIN)
        await emu.wait_for_messages_async(ADMIN, 2, timeout=10)
        await emu.wait_for_messages_async(reader, 2, timeout=POLL)
    assert (
        "intruder" not in "".join(texts(emu, 999)).lower()
        or "not" in refusal[-1].plain_text.lower()
    )
    assert any(FLAGGED in t for t in texts(emu, reader))
    assert not any("Old news" in t for t in texts(emu, reader))

    # After a restart the operator's source is still there (edits live in the database).
    before = len(feed_server.requests("/added.xml"))
    async with running(load_config(env)):
        await started(emu)
        await feed_server.wait_for_requests_async("/added.xml", before + 1, timeout=20)
    assert sum(FLAGGED in t for t in texts(emu, reader)) == 1, texts(emu, reader)


async def test_a_crash_in_the_middle_of_a_fan_out_loses_nothing(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/f.xml", rss([item(1)]))
    config_dir = write_config(tmp_path, feed_server, {"f": "/f.xml"})
    env = {**os.environ, **environment(config_dir, database_url, emu), "PTB_TIMEDELTA": "1"}
    chats = list(range(9001, 9061))
    await subscribe(database_url, chats)

    # The bot paces itself under 30 messages/s overall, so 60 chats take about two seconds:
    # the kill after the tenth delivery lands mid fan-out.
    def start_bot() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    proc = start_bot()
    try:
        await feed_server.wait_for_requests_async("/f.xml", 1, timeout=30)
        feed_server.put("/f.xml", rss([item(2, title=FLAGGED), item(1)]))
        await emu.wait_until_async(lambda: len(emu.sent_messages()) >= 10, timeout=POLL)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert len({m.chat_id for m in emu.sent_messages()}) < len(chats), "kill came too late"
        proc = start_bot()
        await emu.wait_until_async(
            lambda: {m.chat_id for m in emu.sent_messages()} >= set(chats), timeout=POLL
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    per_chat = Counter(m.chat_id for m in emu.sent_messages() if FLAGGED in m.plain_text)
    assert set(per_chat) == set(chats)
    repeats = sum(n - 1 for n in per_chat.values())
    assert repeats <= 8  # at most what was in flight at the kill


def test_the_token_never_reaches_the_logs_even_at_debug_level(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator
) -> None:
    emu = telegram_api
    feed_server.put("/t.xml", rss([item(1)]))
    config_dir = write_config(tmp_path, feed_server, {"t": "/t.xml"})
    env = {
        **os.environ,
        **environment(config_dir, f"sqlite:///{tmp_path}/bot.db", emu),
        "BOT_LOG_LEVEL": "DEBUG",
    }
    secret = emu.token.partition(":")[2]
    log_path = tmp_path / "bot.log"
    # A file, not a pipe: DEBUG output would fill a pipe's buffer and stall the bot.
    with (
        log_path.open("wb") as log_file,
        subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        ) as proc,
    ):
        try:
            emu.wait_until(lambda: emu.requests("getUpdates"), timeout=30)
            emu.send_command(77, "/start", chat_type="private")
            emu.wait_for_messages(77, 1, timeout=20)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    logs = log_path.read_text(encoding="utf-8", errors="replace")
    assert "getUpdates" in logs  # DEBUG really logged the API traffic
    assert secret not in logs
    assert emu.token not in logs


def test_run_explains_an_unreachable_api_or_a_refused_token_without_showing_it(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator
) -> None:
    feed_server.put("/u.xml", rss([item(1)]))
    config_dir = write_config(tmp_path, feed_server, {"u": "/u.xml"})
    base = {**os.environ, **environment(config_dir, f"sqlite:///{tmp_path}/bot.db", telegram_api)}
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = {**base, "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot"}
    refused = {**base, "TELEGRAM_BOT_TOKEN": "999:not-the-emulators-token"}
    for env, code, words, token in (
        (unreachable, 1, "cannot start", base["TELEGRAM_BOT_TOKEN"]),
        (refused, 2, "configuration error", "999:not-the-emulators-token"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == code, result.stderr
        assert words in result.stderr
        assert "Traceback" not in result.stderr
        assert token.partition(":")[2] not in result.stdout + result.stderr
