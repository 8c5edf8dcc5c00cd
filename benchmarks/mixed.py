"""The mixed farm: RSS feeds, Telegram channel previews and listing pages through the pipeline.

Run: .venv/bin/python benchmarks/pipeline.py --mixed [--feeds N] [--items M] [--repeat R]

The farm (benchmarks/feedfarm.py --mixed) serves N sources, a third of each kind: RSS feeds of M
items (~1 KB of HTML each), channel previews of the last 20 messages (~600 characters of text,
an outbound link, the preview's markup) and listing pages of M entries (headline, date, lead),
pages wrapped in menus and a script as real ones are. This process runs the real parts
(`Fetcher`, `Pipeline`, `Store` on a temp SQLite file, the shipped topics). Per kind:

  (a) first sight: every source of the kind fetched, parsed, matched and stored;
  (c) R times: 10% of the kind's sources gain `--new` items; only those are polled.

The figure is CPU time (time.process_time, all threads) per new item stored, and its ratio to the
feed path's (target: at most 1.5 for channel previews and listing pages).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.feeds.fetch import Fetcher, make_client
from bot.models import Selectors, Source, SourceKind
from bot.polling.pipeline import Pipeline
from bot.storage.engine import make_engine, migrate
from bot.storage.items import Store
from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics

REPO = Path(__file__).resolve().parents[1]
KINDS: tuple[SourceKind, ...] = ("feed", "telegram", "html")
PATHS = {"feed": ("/f/", ".xml"), "telegram": ("/t/", ".html"), "html": ("/h/", ".html")}
SELECTORS = Selectors(
    item="div.news-list article.news-item",
    title="h3.news-title",
    link="h3.news-title a",
    date="span.news-date",
    summary="p.news-lead",
)
TARGET_RATIO = 1.5


@dataclass
class Run:
    """One timed run over some sources of one kind."""

    kind: str
    sources: int
    cpu: float
    wall: float
    new_items: int

    @property
    def per_item_ms(self) -> float:
        """CPU milliseconds per new item stored."""
        return 1000 * self.cpu / self.new_items if self.new_items else float("inf")


class Counting:
    """A Messenger that only counts."""

    def __init__(self) -> None:
        self.announced = 0

    async def announce(self, items: Sequence[Any]) -> None:
        """Count the items."""
        self.announced += len(items)


def sources_of(port: int, feeds: int) -> dict[str, list[Source]]:
    """The farm's sources by kind (source i is KINDS[i % 3])."""
    out: dict[str, list[Source]] = {k: [] for k in KINDS}
    for i in range(feeds):
        kind = KINDS[i % 3]
        prefix, suffix = PATHS[kind]
        out[kind].append(
            Source(
                id=f"{kind}-{i:05d}",
                name=f"Outlet {i}",
                url=f"http://127.0.0.1:{port}{prefix}{i}{suffix}",
                interval=300,
                language="en",
                kind=kind,
                selectors=SELECTORS if kind == "html" else None,
                fetch_article="never",
            )
        )
    return out


async def timed(kind: str, pipeline: Pipeline, sources: Sequence[Source]) -> Run:
    """Run the sources once; time it; refuse failures (a benchmark of errors measures nothing)."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    reports = await pipeline.run_all(sources)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    failed = [r for r in reports if r.outcome == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} {kind} sources failed, e.g. {failed[0].error}")
    return Run(kind, len(sources), cpu, wall, sum(r.new_items for r in reports))


def show(label: str, run: Run) -> None:
    """One line per run."""
    print(
        f"  {label:<22} {run.sources:5d} sources  wall {run.wall:6.2f} s  cpu {run.cpu:6.2f} s  "
        f"new items {run.new_items:6d}  {run.per_item_ms:7.3f} ms CPU / new item",
        flush=True,
    )


async def mixed_bench(args: argparse.Namespace, farm_factory: Callable[..., Any]) -> int:
    """Run the passes per kind and print CPU per new item, with each kind's ratio to feeds."""
    print(
        f"mixed farm: {args.feeds} sources (a third each: RSS feeds of {args.items} items, channel "
        f"previews of 20 messages, listing pages of {args.items} entries), {args.conns} "
        f"connections, 10% changed with {args.new} new items, repeat {args.repeat}",
        flush=True,
    )
    farm = farm_factory(args.feeds, args.items, mixed=True)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            try:
                await migrate(engine)
                return await _passes(args, farm, Store(engine))
            finally:
                await engine.dispose()
    finally:
        farm.close()


async def _passes(args: argparse.Namespace, farm: Any, store: Store) -> int:
    by_kind = sources_of(farm.port, args.feeds)
    await store.sync_sources([s for kind in KINDS for s in by_kind[kind]])
    matcher = compile_topics(load_topics(REPO / "config" / "topics.toml"))
    async with make_client(max_connections=args.conns) as client:
        pipeline = Pipeline(
            fetcher=Fetcher(client, max_connections=args.conns, per_host=args.conns),
            store=store,
            matcher=matcher,
            messenger=Counting(),
            clock=lambda: datetime.now(UTC),
        )
        print("(a) first sight, per kind:")
        for kind in KINDS:
            show(f"{kind}", await timed(kind, pipeline, by_kind[kind]))
        print("(c) 10% of a kind's sources gained items; only those polled:")
        changed: dict[str, list[Run]] = {k: [] for k in KINDS}
        for rep in range(args.repeat):
            for kind in KINDS:
                group = by_kind[kind]
                count = max(1, round(len(group) * args.changed))
                chosen = [group[(rep * count + k) % len(group)] for k in range(count)]
                for source in chosen:
                    farm.change(int(source.id.rsplit("-", 1)[1]), 1, args.new)
                run = await timed(kind, pipeline, chosen)
                changed[kind].append(run)
                show(f"{kind} (rep {rep + 1})", run)
    print("summary (median of the (c) runs):")
    feed_ms = statistics.median(r.per_item_ms for r in changed["feed"])
    for kind in KINDS:
        ms = statistics.median(r.per_item_ms for r in changed[kind])
        spread = [round(r.per_item_ms, 3) for r in changed[kind]]
        ratio = ms / feed_ms
        verdict = "" if kind == "feed" else (" met" if ratio <= TARGET_RATIO else " MISSED")
        print(
            f"  {kind:<9} {ms:7.3f} ms CPU / new item (runs {spread})  ratio to feeds "
            f"{ratio:4.2f}{verdict}"
        )
    return 0
