"""HTTP wing benchmark: how long each path takes with many sources and items in the database.

A fresh SQLite database gets `--sources` sources with polling state (a tenth failing) and
`--items` flagged items, then the real server (bot.web) answers `--rounds` requests per path
over loopback through httpx. Prints the median and range per path, in milliseconds.

    .venv/bin/python -m benchmarks.web [--sources 3000] [--items 5000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.polling.pipeline import Pipeline
from bot.polling.scheduler import SourceScheduler
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.engine import make_engine, migrate
from bot.storage.items import Store
from bot.storage.stories import StoryStore
from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics
from bot.web.service import open_web

REPO = Path(__file__).resolve().parents[1]
MATCH = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran*", "title", "Iran"),))
PATHS = ("/healthz", "/metrics", "/topics/azerbaijan-iran.atom", "/")


async def fill(store: Store, sources: list[Source], items: int, now: datetime) -> None:
    await store.sync_sources(sources)
    per_source = max(1, items // len(sources))
    left = items
    for n, source in enumerate(sources):
        if n % 10 == 9:
            await store.states.save_failure(source.id, error="HTTP 503", now=now, next_poll=now)
            continue
        count = min(per_source, left)
        left -= count
        batch = [
            MatchedItem(
                Item(source.id, f"k{n}-{k}", f"https://o{n}.example/{k}",
                     f"Baku and Tehran, story {n}-{k}", "Summary text.",
                     now - timedelta(minutes=n + k)),
                (MATCH,),
            )
            for k in range(count)
        ]  # fmt: skip
        await store.save_fetch(
            source.id, items=batch, validators=Validators(), now=now,
            next_poll=now + timedelta(minutes=10), announce=False,
        )  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        await migrate(engine)
        db = DbAccess(engine)
        store = Store(db)
        now = datetime.now(UTC)
        sources = [
            Source(f"s{n:05d}", f"Outlet {n}", f"https://o{n}.example/feed", 600.0)
            for n in range(args.sources)
        ]
        began = time.perf_counter()
        await fill(store, sources, args.items, now)
        print(
            f"filled {args.sources} sources, {args.items} items in {time.perf_counter() - began:.1f} s"
        )
        topics = load_topics(REPO / "config" / "topics.toml")
        async with httpx.AsyncClient(timeout=60) as fetch_client:
            from bot.feeds.fetch import Fetcher

            pipeline = Pipeline(
                fetcher=Fetcher(fetch_client), store=store, matcher=compile_topics(topics),
                messenger=_Quiet(), clock=lambda: datetime.now(UTC),
            )  # fmt: skip
            scheduler = SourceScheduler(pipeline, clock=lambda: datetime.now(UTC))
            # Filled without the story hook: each item is a story of its own, as before stories.
            window = timedelta(hours=48)
            stories = StoryStore(db, Grouper(Rules(window=window)), window=window)
            web = await open_web(
                db=db, stories=stories, scheduler=scheduler, topics=lambda: topics,
                sources=lambda: sources, binds=[("127.0.0.1", 0)], public_url=None,
                tz=ZoneInfo("Asia/Baku"), clock=lambda: datetime.now(UTC),
            )  # fmt: skip
            try:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{web.ports[0]}", timeout=60
                ) as http:
                    for path in PATHS:
                        times, size = [], 0
                        for _ in range(args.rounds):
                            start = time.perf_counter()
                            answer = await http.get(path)
                            times.append((time.perf_counter() - start) * 1000)
                            size = len(answer.content)
                        print(
                            f"{path:32s} median {statistics.median(times):7.1f} ms"
                            f"  range {min(times):7.1f}–{max(times):7.1f} ms  body {size / 1024:7.1f} KiB"
                            f"  (HTTP {answer.status_code})"
                        )
            finally:
                await web.close()
        await engine.dispose()


class _Quiet:
    async def announce(self, items: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=3000)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
