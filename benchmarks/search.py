"""Archive search at scale: query latency over N generated items in four languages, index size.

Run: .venv/bin/python benchmarks/search.py [--items N] [--database-url URL] [--queries Q]
     [--sqlite-file PATH] [--reuse]
     (default 1,000,000 items on a temp SQLite file; a PostgreSQL URL should name a schema of its
     own with `?options=-csearch_path=NAME`, which is dropped and created again; `--reuse` runs
     only the queries on a database an earlier run filled)

1. Fill: N items from 40 sources (ten per language: English, Russian, Azerbaijani, Persian),
   published over 180 days, each a title of 8–12 words and a summary of 30–45 words drawn from a
   Zipf-distributed vocabulary per language (6,000 words: inflected forms of 1,500 stems, and the
   place names the desk searches for). They are stored by the real `Store.save_fetch` in fetches of
   1,000, without the index, then indexed by the migration's own `backfill` (timed: that is what
   migration 0010 costs an existing database).
2. Size: the database (SQLite: its pages, by dbstat; PostgreSQL: items + search_docs with their indexes)
   before and after indexing; the growth factor.
3. Queries, each kind Q times with different words, newest first, a page of 10 (what /search
   shows), through the real `SearchStore` and `parse_query`: two words, three words, a quoted
   phrase (two words that stand together in some title), and two words with an exclusion.
   Words are drawn from the vocabulary's frequent-to-middling band, so most queries find
   hundreds to thousands of items. Printed: p50, p95 and max per kind (wall time), the median
   CPU time of this process (SQLite works in its thread; PostgreSQL's work is in the server and
   not counted), and whether p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere, without installing

from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators  # noqa: E402
from bot.review.query import parse_query  # noqa: E402
from bot.review.searchwords import folder  # noqa: E402
from bot.storage.engine import async_url, make_engine, migrate  # noqa: E402
from bot.storage.items import Store  # noqa: E402
from bot.storage.search import SearchStore  # noqa: E402
from bot.storage.search_index import backfill  # noqa: E402
from bot.storage.search_words import fill_from_index  # noqa: E402

TARGET_P95_MS = 50.0
NOW = datetime(2026, 12, 1, tzinfo=UTC)
BATCH = 1000
TOPIC = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran", "title", "Iran"),))

_SYLLABLES = {
    "en": ["ba", "ter", "lon", "mi", "sar", "ket", "dro", "ven", "pol", "ra", "stan", "cor"],
    "ru": ["ка", "про", "ни", "вод", "ста", "мер", "гра", "лес", "ток", "ви", "зан", "ры"],
    "az": ["qa", "lər", "bə", "dö", "şə", "kir", "yol", "tə", "mü", "xə", "sı", "ğa"],
    "fa": ["مر", "سا", "کو", "دا", "نی", "بر", "ره", "شا", "تو", "گا", "لی", "فر"],
}
_ENDINGS = {
    "en": ["", "s", "ed", "ing"],
    "ru": ["", "а", "у", "ом", "е", "ы", "ов"],
    "az": ["", "da", "dan", "ın", "lar", "ı"],
    "fa": ["", "ها", "ی", "های"],
}
_PLACES = {
    "en": ["Astara", "bridge", "border", "drone", "debris", "Baku", "Tehran", "corridor"],
    "ru": ["Астара", "мост", "граница", "беспилотник", "обломки", "Баку", "Тегеран"],
    "az": ["Astara", "körpü", "sərhəd", "dron", "Bakı", "Tehran", "dəhliz"],
    "fa": ["آستارا", "پل", "مرز", "پهپاد", "باکو", "تهران", "ایران"],
}


def vocabulary(lang: str, rng: random.Random, stems: int = 1500) -> list[str]:
    """Words of one language, commonest first (inflected forms of made-up stems, place names)."""
    syllables, endings = _SYLLABLES[lang], _ENDINGS[lang]
    seen: set[str] = set()
    roots: list[str] = []
    while len(roots) < stems:
        root = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if root not in seen:
            seen.add(root)
            roots.append(root)
    words = [root + end for root in roots for end in endings]
    rng.shuffle(words)
    for n, place in enumerate(_PLACES[lang]):
        words.insert(50 + 40 * n, place)
    return words


class Generator:
    """Items with Zipf-distributed words, reproducible from a seed."""

    def __init__(self, seed: int = 21) -> None:
        self.rng = random.Random(seed)
        self.langs = ["en", "ru", "az", "fa"]
        self.words = {lang: vocabulary(lang, self.rng) for lang in self.langs}
        self.weights = {
            lang: list(_cumulative([1 / (rank + 1) for rank in range(len(w))]))
            for lang, w in self.words.items()
        }

    def text(self, lang: str, n: int, rng: random.Random | None = None) -> str:
        """n words of `lang`, Zipf-distributed (drawn with `rng`, else the generator's own)."""
        words, weights = self.words[lang], self.weights[lang]
        return " ".join((rng or self.rng).choices(words, cum_weights=weights, k=n))

    def item(self, n: int, source: str, lang: str) -> MatchedItem:
        title = self.text(lang, self.rng.randint(8, 12))
        summary = self.text(lang, self.rng.randint(30, 45))
        published = NOW - timedelta(seconds=self.rng.randint(0, 180 * 86400))
        entry = Item(
            source_id=source,
            key=f"{source}-{n}",
            url=f"https://{source}.test/news/{n}",
            title=title[:1].upper() + title[1:],
            summary=summary,
            published=published,
            language=lang,
        )
        return MatchedItem(entry, (TOPIC,) if n % 10 == 0 else ())


def _cumulative(values: list[float]) -> list[float]:
    total, out = 0.0, []
    for v in values:
        total += v
        out.append(total)
    return out


async def fill(engine: AsyncEngine, gen: Generator, count: int) -> float:
    """Store `count` items (no index yet); seconds taken."""
    sources = [
        Source(id=f"{lang}-{k}", name=f"Outlet {lang} {k}", url=f"https://{lang}{k}.test/rss",
               interval=600, language=lang)
        for k in range(10) for lang in gen.langs  # languages take turns, whatever N is
    ]  # fmt: skip
    store = Store(engine)
    await store.sync_sources(sources, now=NOW)
    started = time.perf_counter()
    done = 0
    while done < count:
        source = sources[(done // BATCH) % len(sources)]
        lang = source.language or "en"
        size = min(BATCH, count - done)
        batch = [gen.item(done + i, source.id, lang) for i in range(size)]
        await store.save_fetch(
            source.id,
            items=batch,
            validators=Validators(),
            now=NOW,
            next_poll=NOW,
            announce=False,
        )
        done += size
        if done % 100_000 == 0:
            print(f"  stored {done:,} items ({time.perf_counter() - started:.0f} s)", flush=True)
    return time.perf_counter() - started


async def index(engine: AsyncEngine) -> tuple[int, float]:
    """Index every stored item with the migration's backfill; (items, seconds)."""
    started = time.perf_counter()
    async with engine.begin() as conn:
        done = await conn.run_sync(backfill, folder(), 5000)
        if engine.dialect.name == "sqlite":  # what migrations 0010 and 0013 do in turn
            await conn.run_sync(fill_from_index)
    return done, time.perf_counter() - started


async def size(engine: AsyncEngine) -> tuple[int, int]:
    """(bytes of the items, bytes of the search index)."""
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            items = await conn.scalar(text("SELECT pg_total_relation_size('items')"))
            docs = await conn.scalar(text("SELECT pg_total_relation_size('search_docs')"))
            return int(items or 0), int(docs or 0)
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        pages = await conn.execute(text("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        by_name = dict(pages.all())
    fts = sum(v for k, v in by_name.items() if k.startswith("search_fts"))
    return sum(by_name.values()) - fts, fts


def queries(gen: Generator, per_kind: int) -> dict[str, list[str]]:
    """Queries of each kind, words from the frequent-to-middling band of each language."""
    rng = random.Random(7)
    out: dict[str, list[str]] = {"two words": [], "three words": [], "phrase": [], "exclusion": []}
    for n in range(per_kind):
        lang = gen.langs[n % 4]
        band = gen.words[lang][5:400]
        a, b, c = rng.sample(band, 3)
        out["two words"].append(f"{a} {b}")
        out["three words"].append(f"{a} {b} {c}")
        # Two words that some title or summary will hold side by side; drawn with the queries'
        # own generator, so that a run on a database filled before (--reuse) asks the same.
        pair = gen.text(lang, 2, rng)
        out["phrase"].append(f'"{pair}"')
        out["exclusion"].append(f"{a} {b} -{c}")
    return out


async def measure(engine: AsyncEngine, kinds: dict[str, list[str]]) -> bool:
    """Run every query; print p50/p95/max per kind; True when every p95 is within target."""
    search = SearchStore(engine)
    ok = True
    for kind, texts in kinds.items():
        times, cpu, found = [], [], []
        for q in texts:
            parsed = parse_query(q, now=NOW)
            started, cpu_started = time.perf_counter(), time.process_time()
            hits = await search.search(parsed, limit=11)
            times.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.process_time() - cpu_started))
            found.append(len(hits))
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        ok &= p95 <= TARGET_P95_MS
        print(
            f"  {kind:<12} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  "
            f"max {times[-1]:6.1f} ms  (this process's CPU: p50 {statistics.median(cpu):5.1f} ms; "
            f"full pages: {sum(1 for f in found if f == 11)}/{len(found)})",
            flush=True,
        )
    return ok


async def reset(url: str) -> None:
    """Recreate the PostgreSQL schema named by the URL's search_path (never `public`)."""
    options = str(make_url(url).query.get("options", ""))
    schema = options.partition("search_path=")[2].split()[0] if "search_path=" in options else ""
    if not schema or schema == "public":
        raise SystemExit("give the PostgreSQL URL a schema of its own: ?options=-csearch_path=NAME")
    admin = create_async_engine(async_url(url.split("?")[0]), poolclass=NullPool)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()


async def run(args: argparse.Namespace) -> int:
    gen = Generator()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        if args.database_url:
            if not args.reuse:
                await reset(args.database_url)
            url = args.database_url
        else:
            url = f"sqlite:///{args.sqlite_file or f'{tmp}/search.db'}"
        engine = make_engine(url)
        try:
            await migrate(engine)
            print(f"search benchmark: {args.items:,} items on {engine.dialect.name}", flush=True)
            if args.reuse:
                ok = await measure(engine, queries(gen, args.queries))
                print(f"  target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if ok else 'MISSED'}")
                return 0
            fill_s = await fill(engine, gen, args.items)
            print(f"  fill (Store.save_fetch, no index): {fill_s:.0f} s", flush=True)
            before, _ = await size(engine)
            done, index_s = await index(engine)
            print(
                f"  index (migration backfill): {done:,} items in {index_s:.0f} s "
                f"({1e6 * index_s / max(done, 1):.0f} µs/item)",
                flush=True,
            )
            if engine.dialect.name == "postgresql":
                async with engine.begin() as conn:
                    await conn.execute(text("ANALYZE"))
            items_b, index_b = await size(engine)
            print(
                f"  size: items {before / 1e6:.0f} MB, search index {index_b / 1e6:.0f} MB: "
                f"the database grows {(items_b + index_b) / max(before, 1):.2f}x",
                flush=True,
            )
            ok = await measure(engine, queries(gen, args.queries))
            print(f"  target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if ok else 'MISSED'}")
        finally:
            await engine.dispose()
    return 0


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=40, help="queries of each kind")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temp SQLite file)")
    parser.add_argument("--sqlite-file", help="keep the SQLite database in this file")
    parser.add_argument(
        "--reuse", action="store_true", help="only the queries, on a database filled before"
    )
    args: Any = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
