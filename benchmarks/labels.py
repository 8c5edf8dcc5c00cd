"""What checking an operator edit against the desk's labels costs, as the labels grow.

Every edit of the topics replies with its effect on the labelled items: the labels are read
(`LabelStore.labelled`, SQLite in a temporary directory) and run through the topics before and
after the edit (`bot.topics.scoring.impact`, two compilations of the shipped topics). Labelled
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
from bot.operator.labels import judged
from bot.storage.engine import make_engine, migrate
from bot.storage.labels import LabelStore, NewLabel, Vote
from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics
from bot.topics.scoring import impact

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "relevance-dev.jsonl"


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


async def one(n: int, runs: int) -> tuple[float, float, int]:
    """(median read seconds, median check seconds, verdicts changed) with `n` labels."""
    topics = tuple(load_topics(REPO / "config" / "topics.toml"))
    edited = without_term(topics, "Azerbaijan*")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        try:
            await migrate(engine)
            store = LabelStore(engine)
            await store.add(labels(n), now=datetime.now(UTC))
            reads, checks, changed = [], [], 0
            for _ in range(runs):
                started = time.perf_counter()
                found = await store.labelled()
                reads.append(time.perf_counter() - started)
                started = time.perf_counter()
                result = impact(
                    compile_topics(topics), compile_topics(edited), [judged(i) for i in found]
                )
                checks.append(time.perf_counter() - started)
                changed = result.changed
        finally:
            await engine.dispose()
    return statistics.median(reads), statistics.median(checks), changed


def main() -> None:
    """Print the read and check times for each label count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("labels  read (median)  check (median)  verdicts changed")
    for n in args.labels:
        read, check, changed = asyncio.run(one(n, args.runs))
        print(f"{n:>6}  {read * 1000:>10.0f} ms  {check * 1000:>11.0f} ms  {changed:>8}")


if __name__ == "__main__":
    main()
