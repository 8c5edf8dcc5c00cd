"""How well `python -m bot stories` groups labelled reports: pairwise P/R and B-cubed.

Run: python -m benchmarks.story_quality [FILE ...] [--wrong] [--no-gazetteer]

Each FILE is JSON Lines as `stories` reads them plus an `event` label (default: the labelled
dev and held-out sets under tests/fixtures/stories/). Printed per file, and for all together:
same-language and cross-language pairwise precision and recall, and B-cubed. `--wrong` lists
the wrong joins and the missed same-event pairs. The event lexicon knows the gazetteer of
config/topics.toml (BOT_CONFIG_DIR), as `python -m bot stories` does, unless `--no-gazetteer`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from pathlib import Path

from bot.review.jsonl import story_lines
from bot.review.lexicon import Lexicon
from bot.review.quality import quality
from bot.topics.config import load_topics

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "stories"
CONFIG = Path(os.environ.get("BOT_CONFIG_DIR", Path(__file__).resolve().parents[1] / "config"))
DEFAULT = [
    FIXTURES / name
    for name in (
        "labelled-dev.jsonl",
        "labelled-held-out.jsonl",
        "labelled-held-out-2.jsonl",
        "labelled-held-out-3.jsonl",
        "labelled-held-out-4.jsonl",
        "labelled-held-out-5.jsonl",
        "events.jsonl",
    )
]


def _report(name: str, lines: list[str], lexicon: Lexicon, wrong: bool) -> None:
    rows = [json.loads(line) for line in lines]
    stories = {o["id"]: o["story"] for o in story_lines(lines, lexicon=lexicon)}
    events = {r["id"]: r["event"] for r in rows}
    langs = {r["id"]: r["lang"] for r in rows}
    print(f"{name}: {len(rows)} reports, {len(set(events.values()))} events")
    for line in quality(events, stories, langs).lines():
        print("  " + line)
    if not wrong:
        return
    for a, b in itertools.combinations(sorted(events), 2):
        if (stories[a] == stories[b]) != (events[a] == events[b]):
            kind = "WRONG JOIN" if stories[a] == stories[b] else "missed"
            print(f"    {kind}: {a} ~ {b}")


def main() -> None:
    """Print the figures for each file and for all files together."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--wrong", action="store_true", help="list wrong joins and misses")
    parser.add_argument("--no-gazetteer", action="store_true", help="the lexicon alone")
    args = parser.parse_args()
    topics = () if args.no_gazetteer else load_topics(CONFIG / "topics.toml")
    lexicon = Lexicon.for_topics(topics)
    every: list[str] = []
    for path in args.files:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        every += lines
        _report(path.name, lines, lexicon, args.wrong)
    if len(args.files) > 1:
        _report("all", every, lexicon, wrong=False)


if __name__ == "__main__":
    main()
