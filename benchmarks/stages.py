"""Where a first-sight feed's CPU goes, stage by stage, against bare feedparser on the same bodies.

Run: python -m benchmarks.stages [--feeds N] [--items M] [--rounds R]

The pipeline's stages for one new feed, run one after another in a single thread on the feed
farm's bodies (`benchmarks.feedfarm`: ~1 KB of HTML per item, one item in ten on the topic), each
timed with `time.process_time`:

- bare feedparser: `feedparser.parse` with default options (the ratio's denominator);
- read_feed: our parse and keying (`bot.feeds.parse.read_feed`: feedparser without its sanitizer);
- normalize: `KeyedFeed.items` (summary to plain text, date, language);
- match: the shipped topics (`config/topics.toml`);
- review summaries: `bot.polling.summaries.Summaries` for the flagged items (no article fetch);
- store: `Store.save_fetch` on a temporary SQLite file without hooks (SQLite's work runs in
  aiosqlite's thread, which `process_time` counts);
- stories: the same save with the story hook (`StoryStore.assign`) on a second file, minus store;
- search index: the same save with the search index hook (`SearchIndex`, as `run` has it) on a
  third file, minus store.

No HTTP, no event-loop scheduling between sources and no thread hand-offs: those are what the
fresh-process benchmark (`python -m benchmarks.pipeline --fresh`) adds on top. Rounds alternate
the bare parse and our stages, and the medians per stage are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from benchmarks.feedfarm import Farm
from bot.feeds.parse import read_feed
from bot.models import MatchedItem, Source, Validators
from bot.polling.summaries import Summaries
from bot.review.searchwords import folder
from bot.review.stories import Grouper, Rules
from bot.storage.engine import make_engine, migrate
from bot.storage.items import Store
from bot.storage.search_index import SearchIndex
from bot.storage.stories import StoryStore
from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics

REPO = Path(__file__).resolve().parents[1]
CONTENT_TYPE = "application/rss+xml; charset=utf-8"
STAGES = (
    "read_feed", "normalize", "match", "review summaries", "store", "stories", "search index",
)  # fmt: skip


class Timer:
    """Sums process CPU per stage name."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.process_time()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.process_time() - started


def bare(bodies: list[bytes]) -> float:
    started = time.process_time()
    for body in bodies:
        feedparser.parse(io.BytesIO(body), response_headers={"content-type": CONTENT_TYPE})
    return time.process_time() - started


async def ours(bodies: list[bytes], directory: Path) -> dict[str, float]:
    """CPU per stage over every body, on three fresh SQLite files (plain, stories, index)."""
    matcher = compile_topics(load_topics(REPO / "config" / "topics.toml"))
    now = datetime.now(UTC)
    window = timedelta(hours=48)
    plain_engine = make_engine(f"sqlite+aiosqlite:///{directory}/plain.db")
    story_engine = make_engine(f"sqlite+aiosqlite:///{directory}/stories.db")
    index_engine = make_engine(f"sqlite+aiosqlite:///{directory}/index.db")
    timer = Timer()
    try:
        for engine in (plain_engine, story_engine, index_engine):
            await migrate(engine)
        plain = Store(plain_engine)
        grouped = Store(
            story_engine,
            on_matched=[
                StoryStore(story_engine, Grouper(Rules(window=window)), window=window).assign
            ],
        )
        indexed = Store(index_engine, on_saved=[SearchIndex("sqlite", folder())])
        summaries = Summaries(articles=None)
        sources = [
            Source(f"s{n}", f"S{n}", f"http://farm.test/f/{n}.xml", 300.0)
            for n in range(len(bodies))
        ]
        for store in (plain, grouped, indexed):
            await store.sync_sources(sources)
        for source, body in zip(sources, bodies, strict=True):
            with timer.stage("read_feed"):
                feed = read_feed(
                    body, source_id=source.id, url=source.url, content_type=CONTENT_TYPE
                )
            with timer.stage("normalize"):
                items = feed.items(now=now)
            with timer.stage("match"):
                matched = [
                    MatchedItem(i, matcher.match(i.title, i.summary, i.language)) for i in items
                ]
            with timer.stage("review summaries"):
                offered = await summaries.add(source, matched, first_sight=True, matcher=matcher)
            save = _saver(source.id, offered, now)
            with timer.stage("store"):
                await save(plain)
            with timer.stage("stories"):
                await save(grouped)
            with timer.stage("search index"):
                await save(indexed)
    finally:
        for engine in (plain_engine, story_engine, index_engine):
            await engine.dispose()
    spent = timer.spent
    spent["stories"] -= spent["store"]
    spent["search index"] -= spent["store"]
    return spent


def _saver(
    source_id: str, items: list[MatchedItem], now: datetime
) -> Callable[[Store], Awaitable[None]]:
    async def save(store: Store) -> None:
        await store.save_fetch(
            source_id,
            items=items,
            validators=Validators('"v1"', None, "hash"),
            now=now,
            next_poll=now + timedelta(minutes=5),
            announce=False,
        )

    return save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bodies = [feed.body for feed in Farm(args.feeds, args.items).feeds]
    per_feed: dict[str, list[float]] = {name: [] for name in ("bare feedparser", *STAGES)}
    ratios = []
    for _ in range(args.rounds):
        bare_cpu = bare(bodies)
        with tempfile.TemporaryDirectory() as directory:
            spent = asyncio.run(ours(bodies, Path(directory)))
        per_feed["bare feedparser"].append(1000 * bare_cpu / len(bodies))
        for name in STAGES:
            per_feed[name].append(1000 * spent[name] / len(bodies))
        ratios.append(sum(spent.values()) / bare_cpu)
    print(
        f"first-sight stages: {args.feeds} feeds x {args.items} items, {args.rounds} rounds (median)"
    )
    base = statistics.median(per_feed["bare feedparser"])
    for name, values in per_feed.items():
        median = statistics.median(values)
        print(f"  {name:18s} {median:7.2f} ms/feed  {median / base:5.2f}x bare")
    total = sum(statistics.median(per_feed[name]) for name in STAGES)
    print(f"  {'our stages':18s} {total:7.2f} ms/feed  {total / base:5.2f}x bare")
    print(f"  ratio per round: {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
