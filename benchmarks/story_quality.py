"""How well `python -m bot stories` groups labelled reports: pairwise P/R and B-cubed.

Run: python -m benchmarks.story_quality [FILE ...] [--wrong]

Each FILE is JSON Lines as `stories` reads them plus an `event` label (default: the labelled
dev and held-out sets under tests/fixtures/stories/). Printed per file, and for all together:
same-language and cross-language pairwise precision and recall, and B-cubed. `--wrong` lists
the wrong joins and the missed same-event pairs.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from bot.review.jsonl import story_lines
from bot.review.quality import quality

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "stories"
DEFAULT = [FIXTURES / "labelled-dev.jsonl", FIXTURES / "labelled-held-out.jsonl"]


def _report(name: str, lines: list[str], wrong: bool) -> None:
    rows = [json.loads(line) for line in lines]
    stories = {o["id"]: o["story"] for o in story_lines(lines)}
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
    args = parser.parse_args()
    every: list[str] = []
    for path in args.files:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        every += lines
        _report(path.name, lines, args.wrong)
    if len(args.files) > 1:
        _report("all", every, wrong=False)


if __name__ == "__main__":
    main()
