"""Personal alerts at ingest: CPU per item with 10 and with 1,000 saved searches (target ≤ 1.3×).

Run: .venv/bin/python benchmarks/alerts.py [--items N] [--repeat R]

Items and alert queries come from benchmarks/search.py's generator (four languages, Zipf words).
Each alert is two to three words, or a quoted pair, of the frequent-to-middling band, as a desk
would write them. For each alert count the real matcher (`bot.review.alerts.compile_alerts`,
called as `AlertPush` calls it) judges every item; the median of R runs of CPU per item is
printed, with how many (item, alert) matches it found, and the ratio of 1,000 to 10.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere, without installing

from benchmarks.search import Generator  # noqa: E402
from bot.review.alerts import compile_alerts  # noqa: E402

TARGET_RATIO = 1.3


def alert_texts(gen: Generator, count: int, rng: random.Random) -> list[str]:
    """`count` queries: two or three words, or a phrase, in the four languages."""
    out = []
    for n in range(count):
        lang = gen.langs[n % 4]
        band = gen.words[lang][20:1500]
        words = rng.sample(band, 3)
        kind = n % 3
        if kind == 0:
            out.append(f"{words[0]} {words[1]}")
        elif kind == 1:
            out.append(" ".join(words))
        else:
            out.append(f'"{words[0]} {words[1]}"')
    return out


def per_item(gen: Generator, items: list, count: int, repeat: int) -> tuple[float, int]:
    """Median CPU µs per item with `count` alerts, and the matches found."""
    rng = random.Random(count)
    index = compile_alerts(
        [(n, 1000 + n % 50, text) for n, text in enumerate(alert_texts(gen, count, rng))]
    )
    runs, found = [], 0
    for _ in range(repeat):
        found = 0
        started = time.process_time()
        for m in items:
            found += len(index(m, m.item.language))
        runs.append(1e6 * (time.process_time() - started) / len(items))
    return statistics.median(runs), found


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    gen = Generator()
    items = [gen.item(n, f"{gen.langs[n % 4]}-0", gen.langs[n % 4]) for n in range(args.items)]
    print(f"alert matching: {args.items:,} items, median of {args.repeat} runs (CPU time)")
    results = {}
    for count in (0, 10, 1000):
        us, found = per_item(gen, items, count, args.repeat)
        results[count] = us
        print(f"  {count:>5} alerts: {us:7.1f} µs per item, {found:,} matches", flush=True)
    ratio = results[1000] / results[10]
    print(
        f"  1,000 vs 10 alerts: {ratio:.2f}x per item (target <= {TARGET_RATIO}x): "
        f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
