"""The review's subcommands: `stories FILE`, `digest [--topic T] [--hours H] [--format F]`, `latest`.

Kept out of `bot.cli` so that module only wires them: `register` adds the parsers, `COMMANDS`
maps each name to its handler. Exit codes as in `bot.cli`: 0 done, 1 some input lines were bad,
2 configuration or usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any, TextIO

from bot.config import Config
from bot.review.jsonl import story_lines
from bot.review.stories import Rules

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE = 0, 1, 2


def rules(config: Config) -> Rules:
    """The grouping rules the running bot uses, from the settings."""
    return Rules(window=timedelta(seconds=config.settings.story_window))


def register(sub: Any) -> None:
    """Add the `stories` and `digest` parsers to `python -m bot`'s subparsers."""
    stories = sub.add_parser(
        "stories", help="group JSON Lines items (id, title, summary, published, url) into stories"
    )
    stories.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for standard input")


def cmd_stories(config: Config, args: argparse.Namespace) -> int:
    """`python -m bot stories FILE`: one `{"id", "story"}` line per input line."""
    if args.file == "-":
        return _stories(config, sys.stdin, sys.stdout)
    try:
        with open(args.file, encoding="utf-8") as fh:
            return _stories(config, fh, sys.stdout)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE


def _stories(config: Config, src: TextIO, dst: TextIO) -> int:
    bad = 0
    for out in story_lines(src, rules(config)):
        bad += "error" in out
        dst.write(json.dumps(out, ensure_ascii=False) + "\n")
    return EXIT_BAD_INPUT if bad else EXIT_OK


COMMANDS = {"stories": cmd_stories}
