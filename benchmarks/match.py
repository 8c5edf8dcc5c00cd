"""Matching throughput with few and with many terms: items/s should barely depend on term count.

Run: python benchmarks/match.py [--items N] [--small N] [--large N] [--seed N]
     python benchmarks/match.py --shipped [--config DIR] [--items N] [--rounds N]

`--shipped` times the shipped topic (`config/topics.toml`, or DIR's) instead, per item, on the
synthetic items plus every labelled item the repository has (the dev set when shared/ is beside
the repo, tests/topics/data/*.jsonl): the figure issue 18 holds within 1.3x of the code before it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import time
from pathlib import Path

from bot.models import Entity, TermGroup, Topic
from bot.topics.config import load_topics
from bot.topics.matcher import Matcher, compile_topics

REPO = Path(__file__).resolve().parents[1]

_TEXT = (
    "the minister said on Monday that talks would continue next week in the capital "
    "officials signed a memorandum on trade energy transport customs border railway gas "
    "президент встретился с делегацией обсудили вопросы сотрудничества в сфере энергетики "
    "prezident nazirlər görüşündə əməkdaşlıq məsələlərini müzakirə edib "
    "وزیر امور خارجه در سفر به پایتخت با همتای خود گفت‌وگو کرد"
)
_NAMES = ["Azerbaijan", "Iran", "Baku", "Tehran", "İranla", "Азербайджана", "ایران", "Russia"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 10)))


def make_topic(n_terms: int, rng: random.Random) -> Topic:
    """One topic with the real core terms plus random filler terms, a third of them stems; a third
    of the filler are gazetteer entity forms (half of them counting only with another signal)."""
    filler = [_word(rng) + ("*" if i % 3 == 0 else "") for i in range(max(0, n_terms - 8))]
    forms, terms = filler[: len(filler) // 3], filler[len(filler) // 3 :]
    half = len(terms) // 2
    return Topic(
        id="bench",
        name="bench",
        groups=(
            TermGroup("azerbaijan", ("Azerbaijan*", "Baku", "Азербайдж*", *terms[:half])),
            TermGroup("iran", ("Iran*", "Tehran*", "Иран*", "ایران*", *terms[half:])),
        ),
        require=("azerbaijan", "iran"),
        masks=("East Azerbaijan*", "West Azerbaijan*"),
        list_terms=("Iran*", "Azerbaijan*", "Russia*", "Turk*"),
        entities=(
            Entity("bench-alone", "institution", ("iran",), tuple(forms[::2]) or ("IRGC",)),
            Entity(
                "bench-shared",
                "project",
                ("azerbaijan", "iran"),
                tuple(forms[1::2]) or ("Aghband bridge",),
                alone=False,
            ),
        ),
    )


def make_items(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """Synthetic headlines (~10 words) and summaries (~40 words) mixing four languages."""
    vocab = _TEXT.split()
    items = []
    for _ in range(n):
        title = rng.choices(vocab, k=8) + rng.choices(_NAMES, k=2)
        summary = rng.choices(vocab, k=36) + rng.choices(_NAMES, k=2) + [_word(rng)]
        rng.shuffle(title)
        rng.shuffle(summary)
        items.append((" ".join(title), " ".join(summary) + ", Iran, Russia and Turkey."))
    return items


def run(matcher: Matcher, items: list[tuple[str, str]]) -> tuple[float, int]:
    """Items per second and number of matched items."""
    start = time.perf_counter()
    matched = sum(1 for title, summary in items if matcher.match(title, summary))
    return len(items) / (time.perf_counter() - start), matched


def labelled_items() -> list[tuple[str, str]]:
    """Every labelled item beside the repository: the shared dev set and tests/topics/data."""
    paths = sorted((REPO / "tests" / "topics" / "data").glob("*.jsonl"))
    for shared in (REPO.parent / "shared", REPO.parent.parent / "shared"):
        if (shared / "data" / "relevance-dev.jsonl").is_file():
            paths.append(shared / "data" / "relevance-dev.jsonl")
            break
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                out.append((str(item["title"]), str(item["summary"])))
    return out


def shipped(args: argparse.Namespace, items: list[tuple[str, str]]) -> None:
    """Print the shipped topic's CPU microseconds per item (process time, so other processes on
    a busy machine count less): the best and the median of the rounds, synthetic items, then the
    labelled ones."""
    matcher = compile_topics(load_topics(Path(args.config) / "topics.toml"))
    labelled = labelled_items()
    for name, batch in (("synthetic", items), ("labelled", labelled * 5)):
        rounds = []
        matched = 0
        for _ in range(args.rounds):
            start = time.process_time()
            matched = sum(1 for title, summary in batch if matcher.match(title, summary))
            rounds.append((time.process_time() - start) / len(batch) * 1e6)
        print(
            f"shipped topic, {name} ({len(batch)} items, {matched} matched): "
            f"best {min(rounds):.1f} us/item, median {statistics.median(rounds):.1f} "
            f"(range {min(rounds):.1f}-{max(rounds):.1f})"
        )


def main() -> None:
    """Print items/s for a small and a large term list, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--large", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="best of N, alternating")
    parser.add_argument("--shipped", action="store_true", help="time the shipped topic")
    parser.add_argument("--config", default=str(REPO / "config"), help="with --shipped")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    items = make_items(args.items, rng)
    if args.shipped:
        shipped(args, items)
        return
    matchers = {n: compile_topics([make_topic(n, rng)]) for n in (args.small, args.large)}
    best = dict.fromkeys(matchers, 0.0)
    hits = dict.fromkeys(matchers, 0)
    # Alternate and keep the best round, so a busy machine does not favour one side.
    for _ in range(args.rounds):
        for n, matcher in matchers.items():
            rate, hits[n] = run(matcher, items)
            best[n] = max(best[n], rate)
    small, small_hits, large, large_hits = (
        best[args.small],
        hits[args.small],
        best[args.large],
        hits[args.large],
    )
    print(f"{args.small:>6} terms: {small:>9,.0f} items/s ({small_hits} matched)")
    print(f"{args.large:>6} terms: {large:>9,.0f} items/s ({large_hits} matched)")
    print(f"ratio large/small: {large / small:.2f}")


if __name__ == "__main__":
    main()
