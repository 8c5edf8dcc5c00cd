"""Several `python -m bot run` processes on one PostgreSQL database, as real processes.

Each test starts real processes against the loopback feed server and the Bot API emulator, with a
short leader lease and claim expiry (BOT_LEADER_LEASE, BOT_CLAIM_TTL) so that take-overs are quick,
and checks what the outside world sees: how often each feed was requested, how many messages each
chat got, how many answers a command got, and that no getUpdates ever ended another's long poll
with 409 Conflict (the emulator answers a second concurrent one as Telegram does), neither while
one leader polls nor when a successor takes over from a leader killed with `kill -9`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage.engine import make_engine
from bot.storage.leases import LeaseStore
from bot.telegram.leader import LEADER_LEASE
from tests.emulator.server import TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.telegram.test_e2e import ADMIN, FLAGGED, REPO, environment, subscribe, write_config

pytestmark = pytest.mark.postgres
POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
INTERVAL = 10.0  # the sources' interval in write_config
JITTER = 0.1


class Bots:
    """Running `python -m bot run` processes, their logs in files (a pipe could fill and stall)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log_path = self.logs / f"bot-{len(self.procs)}.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=self.env,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        self.procs.append(proc)
        return proc

    def log(self, n: int) -> str:
        return (self.logs / f"bot-{n}.log").read_text(encoding="utf-8", errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def bots(env: dict[str, str], logs: Path, n: int) -> Iterator[Bots]:
    running = Bots(env, logs)
    try:
        for _ in range(n):
            running.start()
        yield running
    finally:
        running.stop_all()


class Arrivals:
    """When each path was requested, sampled from the feed server every 50 ms."""

    def __init__(self, server: FeedServer, paths: list[str]) -> None:
        self._server = server
        self.times: dict[str, list[float]] = {p: [] for p in paths}

    async def watch(self) -> None:
        seen = dict.fromkeys(self.times, 0)
        while True:
            now = time.monotonic()
            for path, times in self.times.items():
                count = self._server.request_count(path)
                times.extend([now] * (count - seen[path]))
                seen[path] = count
            await asyncio.sleep(0.05)


@asynccontextmanager
async def watching(server: FeedServer, paths: list[str]) -> AsyncIterator[Arrivals]:
    arrivals = Arrivals(server, paths)
    task = asyncio.create_task(arrivals.watch())
    try:
        yield arrivals
    finally:
        task.cancel()


def _leadership_log(running: Bots) -> list[str]:
    """Each process's leadership and polling lines: what to read when a conflict appears."""
    words = ("leader", "polling", "Conflict")
    return [
        line
        for n in range(len(running.procs))
        for line in running.log(n).splitlines()
        if any(w in line for w in words)
    ]


async def leader_pid(database_url: str) -> int:
    """The pid in the name of the process holding the leader lease (host:pid:tag)."""
    engine = make_engine(database_url)
    try:
        leases = LeaseStore(engine)
        deadline = time.monotonic() + 30
        while (holder := await leases.holder(LEADER_LEASE, now=datetime.now(UTC))) is None:
            assert time.monotonic() < deadline, "nobody took the lead"
            await asyncio.sleep(0.1)
        return int(holder.split(":")[1])
    finally:
        await engine.dispose()


def scaling_env(
    tmp_path: Path, server: FeedServer, emu: TelegramEmulator, url: str, paths: dict[str, str]
) -> dict[str, str]:
    return {
        **os.environ,
        **environment(write_config(tmp_path, server, paths), url, emu),
        "PTB_TIMEDELTA": "1",
        "BOT_LEADER_LEASE": "2s",  # take-over within ~3 s instead of ~40 s
        "BOT_CLAIM_TTL": "5s",
    }


@POSTGRES
async def test_three_processes_fetch_each_source_once_per_interval_and_send_each_message_once(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    sources = {f"s{n}": f"/s{n}.xml" for n in range(8)}
    for path in sources.values():
        feed_server.put(path, rss([item(1)]))
    # One more source fails twice (at about 0 s and 10 s, backing off), then works (about 30 s):
    # whichever processes run it, the operator hears "failing" once and "recovered" once.
    feed_server.put("/bad.xml", rss([item(1)]))
    feed_server.fail("/bad.xml", 500, times=2)
    env = scaling_env(tmp_path, feed_server, emu, database_url, {**sources, "bad": "/bad.xml"})
    env["BOT_ALERT_FAILURES"] = "1"
    readers = [8001, 8002, 8003]
    await subscribe(database_url, readers)
    paths = list(sources.values())
    async with watching(feed_server, paths) as arrivals:
        with bots(env, tmp_path, 3) as running:
            for path in paths:  # first sight: the backlog is stored, not sent
                await feed_server.wait_for_requests_async(path, 1, timeout=40)
            feed_server.put("/s0.xml", rss([item(2, title=FLAGGED), item(1)]))
            for chat in (9101, 9102, 9103):
                emu.send_command(chat, "/help", chat_type="private")
            for path in paths:  # two more intervals
                await feed_server.wait_for_requests_async(path, 3, timeout=3 * INTERVAL)
            for chat in readers:
                await emu.wait_for_messages_async(chat, 1, timeout=10)
            await feed_server.wait_for_requests_async("/bad.xml", 3, timeout=4 * INTERVAL)
            await emu.wait_for_messages_async(ADMIN, 2, timeout=INTERVAL)
            assert all(p.poll() is None for p in running.procs), "a bot process died"
            # One getUpdates at a time all along: no process ever ended another's long poll.
            assert emu.conflicts == [], _leadership_log(running)
    for path, times in arrivals.times.items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Never two fetches of one source within an interval (less the jitter and the sampling).
        assert min(gaps) >= INTERVAL * (1 - JITTER) - 0.5, (path, gaps)
    for chat in readers:
        assert sum(FLAGGED in m.plain_text for m in emu.sent_messages(chat)) == 1
    for chat in (9101, 9102, 9103):  # only the leader polls Telegram: one answer each
        assert len(emu.sent_messages(chat)) == 1, emu.sent_messages(chat)
    failing, recovered = (m.plain_text for m in emu.sent_messages(ADMIN))  # and nothing more
    assert "Outlet bad" in failing
    assert "has failed 1 times in a row" in failing
    assert "works again (after 2 failed runs)" in recovered


@POSTGRES
async def test_when_the_leader_is_killed_another_takes_over_and_nothing_is_lost(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/k.xml", rss([item(1)]))
    env = scaling_env(tmp_path, feed_server, emu, database_url, {"k": "/k.xml"})
    readers = list(range(8201, 8241))
    await subscribe(database_url, readers)
    with bots(env, tmp_path, 3) as running:
        await feed_server.wait_for_requests_async("/k.xml", 1, timeout=40)
        emu.send_command(8301, "/help", chat_type="private")
        await emu.wait_for_messages_async(8301, 1, timeout=15)
        pid = await leader_pid(database_url)
        leader = next(p for p in running.procs if p.pid == pid)
        # A flagged item: the kill lands while the leader sends it to 40 chats, or before.
        feed_server.put("/k.xml", rss([item(2, title=FLAGGED), item(1)]))
        await emu.wait_until_async(lambda: len(emu.sent_messages()) >= 5, timeout=2 * INTERVAL)
        # An update ends the leader's long poll and it opens a new one at once: killed just then,
        # it leaves a poll that would be pending for most of its 10 s when a successor polls.
        polls = len(emu.requests("getUpdates"))
        emu.send_command(8303, "/help", chat_type="private")
        await emu.wait_until_async(
            lambda: len(emu.requests("getUpdates")) > polls and emu.live_polls == 1, timeout=10
        )
        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=10)
        killed = time.monotonic()
        polls = len(emu.requests("getUpdates"))
        # The successor's first poll: no update has arrived since the kill, so the dead poll
        # would still be waiting, had the emulator not seen its connection close.
        await emu.wait_until_async(lambda: len(emu.requests("getUpdates")) > polls, timeout=20)
        took_over = time.monotonic() - killed
        emu.send_command(8302, "/help", chat_type="private")
        await emu.wait_for_messages_async(8302, 1, timeout=20)
        await emu.wait_until_async(
            lambda: (
                {m.chat_id for m in emu.sent_messages() if FLAGGED in m.plain_text} >= set(readers)
            ),
            timeout=20,
        )
        assert await leader_pid(database_url) != pid
        # The killed leader's pending getUpdates ended with its connection (the kernel closes a
        # dead process's sockets; the emulator notices at once), seconds before the lease let a
        # successor poll: the take-over is no conflict, and neither was anything before it.
        assert emu.conflicts == [], _leadership_log(running)
    assert took_over < 15, took_over  # lease 2 s here; 30 s by default, under 60 s
    per_chat = Counter(m.chat_id for m in emu.sent_messages() if FLAGGED in m.plain_text)
    assert set(per_chat) == set(readers)
    assert sum(n - 1 for n in per_chat.values()) <= 8  # at most the sends in flight repeat
    assert len(emu.sent_messages(8302)) == 1


@POSTGRES
async def test_an_operator_edit_through_one_process_reaches_every_process_within_seconds(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/e.xml", rss([item(1)]))
    env = scaling_env(tmp_path, feed_server, emu, database_url, {"e": "/e.xml"})
    with bots(env, tmp_path, 2) as running:
        await feed_server.wait_for_requests_async("/e.xml", 1, timeout=40)
        await leader_pid(database_url)
        emu.send_command(ADMIN, "/pause e", chat_type="private", user_id=ADMIN)
        await emu.wait_for_messages_async(ADMIN, 1, timeout=15)
        edited = time.monotonic()
        # Each process drops the source from its own schedule: the one that took the edit at
        # once, the other when it reads the shared edit log (every 2 s).
        deadline = edited + 10
        while not all("source=e no longer polled" in running.log(n) for n in range(2)):
            assert time.monotonic() < deadline, [running.log(n)[-2000:] for n in range(2)]
            await asyncio.sleep(0.1)
        assert time.monotonic() - edited < 5
        assert emu.conflicts == [], _leadership_log(running)
