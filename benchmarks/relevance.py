"""Precision and recall of the shipped topic on our labelled items, per kind and split.

Run: python -m benchmarks.relevance [--config DIR] [--data FILE ...] [--wrong]

Reads tests/topics/data/salience.jsonl (issue 18's kinds, each item with a `split`: "dev" for
the items the rules were tuned on, "held-out" for those they were not) and, with `--data`, other
labelled JSON Lines (`label` true/false; "borderline" is skipped). Prints one line per kind and
split, then the totals; `--wrong` lists the items decided wrong.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics

REPO = Path(__file__).resolve().parents[1]
TOPIC = "azerbaijan-iran"


def score(rows: list[tuple[bool, bool]]) -> tuple[float, float, int, int, int]:
    """(precision, recall, tp, fp, fn) of (flagged, label) pairs; 1.0 where nothing to count."""
    tp = sum(f and lab for f, lab in rows)
    fp = sum(f and not lab for f, lab in rows)
    fn = sum(lab and not f for f, lab in rows)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(REPO / "config"))
    parser.add_argument("--data", nargs="*", default=[])
    parser.add_argument("--wrong", action="store_true")
    args = parser.parse_args()
    matcher = compile_topics(load_topics(Path(args.config) / "topics.toml"))
    paths = [REPO / "tests" / "topics" / "data" / "salience.jsonl", *map(Path, args.data)]
    table: dict[tuple[str, str], list[tuple[bool, bool]]] = defaultdict(list)
    wrong: list[str] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            if item["label"] == "borderline":
                continue
            found = matcher.match(item["title"], item["summary"], item.get("lang"))
            flagged = any(m.topic_id == TOPIC for m in found)
            kind = str(item.get("kind", path.stem))
            split = str(item.get("split", "dev"))
            for key in ((kind, split), ("all", split), (kind, "both"), ("all", "both")):
                table[key].append((flagged, bool(item["label"])))
            if flagged is not bool(item["label"]):
                wrong.append(f"{item['id']} ({split}): {item['title']}")
    print(f"{'kind':<16}{'split':<10}{'items':>6}{'precision':>11}{'recall':>8}  tp/fp/fn")
    for (kind, split), rows in sorted(table.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        p, r, tp, fp, fn = score(rows)
        print(f"{kind:<16}{split:<10}{len(rows):>6}{p:>11.3f}{r:>8.3f}  {tp}/{fp}/{fn}")
    if args.wrong:
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
