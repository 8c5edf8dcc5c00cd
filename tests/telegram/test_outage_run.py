"""The database goes away under a running bot, and comes back.

`python -m bot run` runs as a real process against a PostgreSQL server of the test's own
(`tests.own_postgres`), the loopback feed server and the Bot API emulator. The server is stopped
for about 12 s while the bot polls (every 10 s), watches its config (every 2 s), delivers and
renews its leader lease; meanwhile a flagged item is published. The log must then hold, per
part, one WARNING when the outage starts and one INFO with its length when it ends, no traceback
(a reminder would come only after a minute: `tests/storage/test_outage.py`); the item must reach
the subscriber exactly once after the return. A SIGTERM at the end is a planned stop: INFO.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.emulator.server import TelegramEmulator
from tests.feeds.build import item, rss
from tests.own_postgres import OwnPostgres, own_postgres
from tests.servers import FeedServer
from tests.telegram.test_e2e import FLAGGED, REPO, environment, subscribe, write_config

OUTAGE = 12.0  # seconds: longer than a poll interval, shorter than the lease's 2/3 (20 s)
PARTS = ("poll runs", "config watch", "delivery", "leadership")
SUBSCRIBER = 6101


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    server, why = own_postgres()
    if server is None:
        pytest.skip(why)
    try:
        yield server
    finally:
        server.remove()


async def test_an_outage_is_told_once_per_part_and_nothing_is_lost_or_sent_twice(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, postgres: OwnPostgres
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/o.xml", rss([item(1)]))
    config_dir = write_config(tmp_path, feed_server, {"o": "/o.xml"})
    await subscribe(postgres.url, [SUBSCRIBER])
    env = {**os.environ, **environment(config_dir, postgres.url, emu), "BOT_LOG_LEVEL": "INFO"}
    env = {k: v for k, v in env.items() if k != "BOT_HTTP_PORT"}
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        proc = _start_bot(env, log_file)
        try:
            await _wait_for_log(log_path, "(first sight: stored, not announced)", 30)
            await emu.wait_until_async(lambda: emu.requests("getUpdates"), timeout=30)
            await asyncio.to_thread(postgres.stop)
            feed_server.put("/o.xml", rss([item(2, title=FLAGGED), item(1)]))
            # At least one poll fails while the database is away (interval 10 s): on
            # PostgreSQL its claim, before any fetch.
            await _wait_for_log(log_path, "poll runs: the database is unreachable", 20)
            await asyncio.sleep(2.0)
            await asyncio.to_thread(postgres.start)
            await emu.wait_until_async(
                lambda: any(FLAGGED in m.plain_text for m in emu.sent_messages(SUBSCRIBER)),
                timeout=60,
            )
            for part in PARTS:
                await _wait_for_log(log_path, f"{part}: the database is back after", 30)
            # One more poll after the return: the item is not sent again.
            seen = len(feed_server.requests("/o.xml"))
            await feed_server.wait_for_requests_async("/o.xml", seen + 1, timeout=30)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[-4000:]
    for part in PARTS:
        starts = re.findall(rf"WARNING \S+: {part}: the database is unreachable", log)
        ends = re.findall(rf"INFO \S+: {part}: the database is back after \d+ s", log)
        assert len(starts) == 1, (part, log[-4000:])
        assert len(ends) == 1, (part, log[-4000:])
        assert f"{part}: the database is still unreachable" not in log  # under a minute
    delivered = [m for m in emu.sent_messages(SUBSCRIBER) if FLAGGED in m.plain_text]
    assert len(delivered) == 1
    assert "no longer the leader: stopping" in log
    assert not re.search(r"WARNING \S+: this process \S+ is no longer the leader: stopping", log)


def _start_bot(env: dict[str, str], log_file: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log_file,
    )  # fmt: skip


async def _wait_for_log(path: Path, needle: str, timeout: float) -> None:  # noqa: ASYNC109
    # A log file has no event to wait on; bounded by the timeout.
    async with asyncio.timeout(timeout):
        while needle not in await asyncio.to_thread(path.read_text, errors="replace"):  # noqa: ASYNC110
            await asyncio.sleep(0.2)
