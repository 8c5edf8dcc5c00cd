"""Grouping cost per new item with 1k, 10k and 100k items in the story window: must stay flat.

Run: python -m benchmarks.stories [--sizes 1000,10000,100000] [--probe N] [--rounds N] [--seed N]
     [--cpu]

For each size, a `Grouper` (the bot's default rules) is filled with that many synthetic reports
spread over the 48 h window: every one carries the beat's words (Azerbaijan, Iran, minister …),
a few names from a pool of 5,000, a few content words from 20,000, two people, an act and a place
the event lexicon knows (so signature keys are as crowded as in real reports) and sometimes a
number, and a third of them are rewrites of an earlier report, so stories form. Then `--probe` new reports
(half rewrites of reports already in the window) are added and timed one by one. Reported: the
median and the 10th–90th percentile range of µs per added report, best median of `--rounds`.
The filled window is frozen out of the garbage collector before timing (see `measure`).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import string
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.review.stories import Grouper

_BEAT = [
    "Azerbaijan",
    "Iran",
    "minister",
    "said",
    "talks",
    "Baku",
    "Tehran",
    "foreign",
    "ministry",
    "officials",
    "cooperation",
    "Азербайджан",
    "Иран",
    "министр",
    "переговоры",
    "Azərbaycan",
    "İran",
    "nazir",
    "ایران",
    "آذربایجان",
]
# Words the event lexicon knows, so that signatures (people, acts, places) and their index keys
# are as full as in real reports: a few ids shared by very many reports.
_PEOPLE = [
    "Aliyev",
    "Pezeshkian",
    "Bayramov",
    "Araghchi",
    "Mustafayev",
    "Paknejad",
    "Shahbazov",
    "Sadegh",
    "Jabbarov",
    "Nabiyev",
    "Overchuk",
    "Velayati",
    "Baghaei",
    "Gafarova",
]
_ACTS = ["signed", "met", "opened", "phoned", "visited", "summoned", "inaugurated", "discussed"]
_PLACES = ["Astara", "Aghband", "Nakhchivan", "Julfa", "Tabriz", "Ardabil", "Anzali", "Bilasuvar"]
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 9)))


class Reports:
    """A stream of synthetic reports; `rewrite` returns a reworded copy of an earlier one."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = [_word(rng).capitalize() for _ in range(5000)]
        self.words = [_word(rng) for _ in range(20000)]
        self.made: list[tuple[str, str]] = []

    def fresh(self) -> tuple[str, str]:
        rng = self.rng
        names = rng.sample(self.names, 3)
        words = rng.sample(self.words, 8)
        beat = rng.sample(_BEAT, 5)
        number = [str(rng.randint(2, 999))] if rng.random() < 0.4 else []
        signed = [*rng.sample(_PEOPLE, 2), rng.choice(_ACTS), rng.choice(_PLACES)]
        title = " ".join([beat[0], names[0], *words[:3], names[1], *signed, *number])
        summary = " ".join(["The", *beat[1:], *words[3:], "with", *names, "said."])
        self.made.append((title, summary))
        return title, summary

    def rewrite(self) -> tuple[str, str]:
        title, summary = self.rng.choice(self.made[-5000:])
        parts = title.split()
        self.rng.shuffle(parts)
        return " ".join(parts), summary + " " + self.rng.choice(self.words)

    def next(self, rewrite_share: float) -> tuple[str, str]:
        if self.made and self.rng.random() < rewrite_share:
            return self.rewrite()
        return self.fresh()


def measure(
    size: int, probe: int, seed: int, clock: Callable[[], float] = time.perf_counter
) -> tuple[list[float], int]:
    """µs per added report after `size` reports fill the window, and the stories formed."""
    rng = random.Random(seed)
    reports = Reports(rng)
    grouper = Grouper()
    step = timedelta(hours=47) / size  # the whole fill stays inside one 48 h window
    for n in range(size):
        title, summary = reports.next(1 / 3)
        # Indexed without deciding (as a restart reloads stored stories): the index has the same
        # shape, and filling 100k reports takes seconds instead of minutes.
        grouper.add(n, title=title, summary=summary, published=T0 + n * step, story=n)
    now = T0 + size * step
    # The fill's objects leave the collector's generations: otherwise a full collection over
    # 100k reports' objects lands inside the timed adds and is measured as grouping cost.
    gc.collect()
    gc.freeze()
    timings = []
    joined = 0
    for n in range(probe):
        title, summary = reports.next(0.5)
        start = clock()
        story = grouper.add(size + n, title=title, summary=summary, published=now)
        timings.append((clock() - start) * 1e6)
        joined += story != size + n
    gc.unfreeze()
    return timings, joined


def main() -> None:
    """Print the cost per report for each window size and the ratio largest/smallest."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--probe", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time each add by the process's CPU clock, not the wall clock (a shared, loaded "
        "machine: time spent waiting for a core is not the grouping's cost)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    medians = {}
    for size in sizes:
        best: tuple[float, float, float, int] | None = None
        for r in range(args.rounds):
            clock = time.process_time if args.cpu else time.perf_counter
            timings, joined = measure(size, args.probe, args.seed + r, clock)
            deciles = statistics.quantiles(timings, n=10)
            median = statistics.median(timings)
            if best is None or median < best[0]:
                best = (median, deciles[0], deciles[-1], joined)
        assert best is not None
        medians[size] = best[0]
        print(
            f"{size:>7} in window: median {best[0]:7.1f} µs/report "
            f"(p10 {best[1]:.1f}, p90 {best[2]:.1f}); {best[3]}/{args.probe} joined a story"
        )
    ratio = medians[sizes[-1]] / medians[sizes[0]]
    print(f"ratio {sizes[-1]:,}/{sizes[0]:,}: {ratio:.2f} (must stay within 2)")


if __name__ == "__main__":
    main()
