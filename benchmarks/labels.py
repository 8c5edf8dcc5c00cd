"""What checking an operator edit against the desk's labels costs, as the labels grow.

Every edit of the topics replies with its effect on the labelled items: the most recently
labelled items (at most `CHECKED`, 2,000) are read (`LabelStore.texts`, SQLite in a temporary
directory) and run through the topics before and after the edit (`bot.topics.scoring.impact`;
the topics after the edit are compiled, those before it are kept compiled by the commands). Labelled
items are the shipped dev set's texts, each varied by a number so that none repeats.

Run: python -m benchmarks.labels [--labels N ...] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.models import TermGroup, Topic
from bot.operator.labels import CHECKED, judged
from bot.storage.engine import make_engine, migrate
from bot.storage.labels import LabelStore, NewLabel, Vote
from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics
from bot.topics.scoring import impact

REPO = Path(__file__).resolve().parents[1]
# shared/ beside the repo, or beside the directory of worktrees.
DEV = next(
    (
        p / "data" / "relevance-dev.jsonl"
        for p in (REPO.parent / "shared", REPO.parent.parent / "shared")
        if (p / "data" / "relevance-dev.jsonl").is_file()
    ),
    REPO.parent / "shared" / "data" / "relevance-dev.jsonl",
)


def dev_lines() -> list[dict[str, object]]:
    """The dev set's lines with a true/false label (or a small stand-in without the dev set)."""
    if DEV.is_file():
        lines = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
        return [x for x in lines if isinstance(x.get("label"), bool)]
    return [
        {"id": "a", "title": "Baku hosts Iranian minister", "summary": "", "label": True},
        {"id": "b", "title": "Paris weather", "summary": "", "label": False},
    ]


def labels(n: int) -> list[NewLabel]:
    """`n` labelled items from the dev set's texts, each made distinct by a number."""
    base = dev_lines()
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        line = base[i % len(base)]
        vote = Vote("import:1", bool(line["label"]), now)
        out.append(
            NewLabel(
                f"bench/{i}",
                f"{line['title']} ({i})",
                str(line.get("summary", "")),
                str(line.get("lang")) if line.get("lang") else None,
                str(line.get("source", "")),
                None,
                None,
                (),
                (vote,),
            )
        )
    return out


def without_term(topics: tuple[Topic, ...], term: str) -> tuple[Topic, ...]:
    """The topics with `term` removed from every group (the edit being checked)."""
    return tuple(
        replace(
            t,
            groups=tuple(
                TermGroup(g.name, tuple(x for x in g.terms if x != term)) for g in t.groups
            ),
        )
        for t in topics
    )


EDITS = ("Baku", "Azerbaijan*")  # a narrow and a broad term removed


async def one(n: int, runs: int) -> list[tuple[str, float, float, float, int]]:
    """Per edit: (term, median read s, median compile s, median check s, verdicts changed)."""
    topics = tuple(load_topics(REPO / "config" / "topics.toml"))
    before = compile_topics(topics)  # the operator commands keep the current topics compiled
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        try:
            await migrate(engine)
            store = LabelStore(engine)
            await store.add(labels(n), now=datetime.now(UTC))
            for term in EDITS:
                reads, compiles, checks, changed = [], [], [], 0
                for _ in range(runs):
                    started = time.perf_counter()
                    found, _ = await store.texts(CHECKED)
                    reads.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    after = compile_topics(without_term(topics, term))
                    compiles.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    changed = impact(before, after, [judged(i) for i in found]).changed
                    checks.append(time.perf_counter() - started)
                out.append((term, *map(statistics.median, (reads, compiles, checks)), changed))
        finally:
            await engine.dispose()
    return out


def main() -> None:
    """Print the read, compile and check times for each label count and edit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("labels  removed term   read     compile  check    verdicts changed  (medians)")
    for n in args.labels:
        for term, read, compiled, check, changed in asyncio.run(one(n, args.runs)):
            print(
                f"{n:>6}  {term:<12} {read * 1000:>5.0f} ms {compiled * 1000:>5.0f} ms "
                f"{check * 1000:>5.0f} ms {changed:>6}"
            )


if __name__ == "__main__":
    main()
