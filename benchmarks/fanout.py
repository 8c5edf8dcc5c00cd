"""Fan-out benchmark: the delivery worker against the Telegram Bot API emulator's enforced limits.

Two runs, each on a fresh database with the real Store → Outbox.enqueue → DeliveryWorker →
TelegramSender → telegram.Bot path:

1. one flagged item to 5,000 subscribed chats (bound by the overall 30 msg/s);
2. a burst of 100 flagged items to one private chat (bound by ~1 msg/s per chat).

The emulator enforces Telegram's limits with its clock running `--scale` times faster, and the
worker's pacer runs at the same scale, so rates are reported in Telegram time (real rate divided
by the scale) against the allowed 30/s and 1/s. Latency is real time, from the call that stores
the flagged item to the first message the emulator accepts.

    .venv/bin/python -m benchmarks.fanout [--chats 5000] [--burst 100] [--scale 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "1")  # PTB's future RetryAfter type, as the bot uses

from telegram import Bot

from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.storage.chat_tables import chats, subscriptions
from bot.storage.delivery import DeliveryStores
from bot.storage.engine import make_engine, migrate
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.telegram.delivery import DeliveryWorker, Policy
from bot.telegram.messenger import TelegramMessenger, TelegramSender
from bot.telegram.pacing import Limits, Pacer
from tests.emulator.server import RateLimits, TelegramEmulator

POLL = 0.02  # seconds between looks at the emulator's counters (benchmark only)


def _serve_emulator(conn: Connection, scale: float) -> None:
    """Child process: the emulator, answering "stats" and "stop" on the pipe."""
    with TelegramEmulator(rate_limits=RateLimits(), time_scale=scale) as emulator:
        conn.send((emulator.token, emulator.api_url))
        while (command := conn.recv()) != "stop":
            assert command == "stats"
            sent = emulator.sent_messages()
            conn.send(
                {
                    "messages": len(sent),
                    "first": sent[0].received_at if sent else None,
                    "last": sent[-1].received_at if sent else None,
                    "too_many_requests": emulator.stats.too_many_requests,
                }
            )


class RemoteEmulator:
    """The emulator in a process of its own, so that it does not share our GIL (or CPU time)."""

    def __init__(self, scale: float) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve_emulator, args=(child, scale))
        self._process.start()
        self.token, self.api_url = self._conn.recv()

    def stats(self) -> dict[str, Any]:
        """Accepted messages so far, first and last acceptance (time.monotonic), 429s sent."""
        self._conn.send("stats")
        return self._conn.recv()  # type: ignore[no-any-return]

    async def wait_for(self, count: int) -> dict[str, Any]:
        """Poll until `count` messages were accepted."""
        # Another process: no event to wait on, so it polls (benchmark only).
        while (stats := self.stats())["messages"] < count:  # noqa: ASYNC110
            await asyncio.sleep(POLL)
        return stats

    def close(self) -> None:
        """Stop the emulator process."""
        self._conn.send("stop")
        self._process.join(10)


SOURCE = Source("bench", "Bench News", "https://bench.example/rss", 300.0)
TOPIC = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran*", "title", "Iran"),))


@dataclass(frozen=True, slots=True)
class Result:
    """One run's figures."""

    name: str
    messages: int
    allowed_rate: float  # messages per Telegram second
    achieved_rate: float
    too_many_requests: int
    latency: float  # real seconds, flagging to first delivery
    wall: float  # real seconds, flagging to last delivery

    def lines(self) -> list[str]:
        """Human-readable report lines."""
        fraction = self.achieved_rate / self.allowed_rate
        return [
            f"{self.name}: {self.messages} messages in {self.wall:.2f} s real",
            f"  rate      {self.achieved_rate:.2f}/s of {self.allowed_rate:.0f}/s allowed"
            f" = {fraction:.3f} (target >= 0.9)",
            f"  429s      {self.too_many_requests} (target 0)",
            f"  latency   {self.latency * 1000:.0f} ms flagging -> first delivery (target < 1 s)",
        ]


def _entry(key: str, minute: int) -> MatchedItem:
    item = Item(
        source_id=SOURCE.id,
        key=key,
        url=f"https://bench.example/{key}",
        title=f"Azerbaijan and Iran: item {key}",
        summary="Officials met in Baku to discuss the corridor. Talks continue next week.",
        published=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=minute),
        language="en",
    )
    return MatchedItem(item, (TOPIC,))


async def _subscribe_many(engine, chat_ids: list[int], now: datetime) -> None:  # type: ignore[no-untyped-def]
    # Set-up only: one bulk insert instead of 5,000 /start commands.
    async with engine.begin() as conn:
        await conn.execute(
            chats.insert(),
            [
                {
                    "chat_id": c,
                    "kind": "private",
                    "active": True,
                    "failures": 0,
                    "created": now,
                    "updated": now,
                }
                for c in chat_ids
            ],
        )
        await conn.execute(
            subscriptions.insert(),
            [{"chat_id": c, "topic_id": TOPIC.topic_id, "created": now} for c in chat_ids],
        )


async def run(
    name: str, *, chat_ids: list[int], items: int, scale: float, url: str, in_flight: int
) -> Result:
    """Flag `items` items for `chat_ids` and wait until the emulator has every message."""
    engine = make_engine(url)
    await migrate(engine)
    store = Store(engine, on_flagged=[Outbox(engine).enqueue])
    await store.sync_sources([SOURCE])
    await _subscribe_many(engine, chat_ids, datetime.now(UTC))
    expected = len(chat_ids) * items
    emulator = RemoteEmulator(scale)
    try:
        async with Bot(emulator.token, base_url=emulator.api_url) as bot:
            worker = DeliveryWorker(
                DeliveryStores.on(engine),
                TelegramSender(bot),
                topic_names={TOPIC.topic_id: "Azerbaijan–Iran"},
                tz=UTC,
                clock=lambda: datetime.now(UTC),
                pacer=Pacer(Limits(scale=scale)),
                policy=Policy(max_in_flight=in_flight),
            )
            messenger = TelegramMessenger(bot, worker)
            worker.start()
            await asyncio.sleep(0.1)  # the worker's first, empty, look at the outbox
            flagged_at = time.monotonic()
            now = datetime.now(UTC)
            result = await store.save_fetch(
                SOURCE.id,
                items=[_entry(f"{name}-{i:04d}", i) for i in range(items)],
                validators=Validators(),
                now=now,
                next_poll=now + timedelta(minutes=5),
                announce=True,
            )
            await messenger.announce(result.flagged)
            stats = await emulator.wait_for(expected)
            await worker.stop()
    finally:
        emulator.close()
    await engine.dispose()
    first, last = stats["first"], stats["last"]
    # n messages span n-1 intervals; rates in Telegram time.
    achieved = (expected - 1) / (last - first) / scale if expected > 1 else 0.0
    per_chat = RateLimits().private_per_second
    allowed = float(RateLimits().global_per_second) if len(chat_ids) > 1 else per_chat
    return Result(
        name=name,
        messages=stats["messages"],
        allowed_rate=allowed,
        achieved_rate=achieved,
        too_many_requests=stats["too_many_requests"],
        latency=first - flagged_at,
        wall=last - flagged_at,
    )


async def main_async(args: argparse.Namespace) -> None:
    """Both runs, each on its own database, printed as they finish."""
    with tempfile.TemporaryDirectory() as tmp:
        base = args.database_url

        def url(name: str) -> str:
            return base or f"sqlite:///{Path(tmp) / name}.db"

        print(f"time scale {args.scale:g} (the emulator's and the pacer's clocks run that fast)")
        fan = await run(
            "fan-out",
            chat_ids=list(range(1, args.chats + 1)),
            items=1,
            scale=args.scale,
            url=url("fanout"),
            in_flight=args.in_flight,
        )
        print("\n".join(fan.lines()), flush=True)
        if base:
            print("(a DATABASE_URL was given: the second run needs it empty again; skipped)")
            return
        burst = await run(
            "burst",
            chat_ids=[424242],
            items=args.burst,
            scale=args.scale,
            url=url("burst"),
            in_flight=args.in_flight,
        )
        print("\n".join(burst.lines()), flush=True)


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=5000)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--scale", type=float, default=5.0)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
