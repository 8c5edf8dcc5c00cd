"""The review's subcommands: `stories FILE`, `digest [--topic T] [--hours H] [--format F]`, `latest`.

Kept out of `bot.cli` so that module only wires them: `register` adds the parsers, `COMMANDS`
maps each name to its handler. Exit codes as in `bot.cli`: 0 done, 1 some input lines were bad,
2 configuration or usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta
from typing import Any

from bot import app
from bot.config import Config
from bot.jsonlines import run_file
from bot.review.digest import FORMATS, review_messages
from bot.review.jsonl import story_lines
from bot.review.lexicon import Lexicon
from bot.review.listing import latest_console, latest_record
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
    stories.add_argument(
        "--explain",
        action="store_true",
        help="also print, per line, the signature parts that agreed or conflicted with each "
        "earlier report compared",
    )
    digest = sub.add_parser("digest", help="the media review of the last hours, per topic")
    digest.add_argument("--topic", metavar="T", help="only this topic (default: every topic)")
    digest.add_argument(
        "--hours", type=int, default=24, metavar="H", help="how far back (default 24)"
    )
    digest.add_argument("--format", choices=FORMATS, default="text", help="default text")


def cmd_stories(config: Config, args: argparse.Namespace) -> int:
    """`python -m bot stories FILE [--explain]`: one `{"id", "story"}` line per input line."""
    lexicon = Lexicon.for_topics(config.topics)
    return run_file(
        args.file,
        lambda lines: story_lines(lines, rules(config), lexicon=lexicon, explain=args.explain),
    )


def cmd_latest(config: Config, args: argparse.Namespace) -> int:
    """`python -m bot latest [-n N] [--topic T] [--json]`: the newest stories, newest first."""
    if not 1 <= args.n <= 1000:
        print("-n must be between 1 and 1000", file=sys.stderr)
        return EXIT_USAGE
    if args.topic and args.topic not in {t.id for t in config.topics}:
        print(f"unknown topic {args.topic!r}; see config/topics.toml", file=sys.stderr)
        return EXIT_USAGE
    stories = asyncio.run(app.latest(config, n=args.n, topic=args.topic))
    tz = config.settings.timezone
    for story in stories:
        if args.json:
            print(json.dumps(latest_record(story), ensure_ascii=False))
        else:
            print(latest_console(story, tz))
    if not stories and not args.json:
        print("no flagged items yet")
    return EXIT_OK


def cmd_digest(config: Config, args: argparse.Namespace) -> int:
    """`python -m bot digest`: the review each chat would get, for the console or a newsletter."""
    topics = [t for t in config.topics if args.topic in (None, t.id)]
    if not topics:
        print(f"unknown topic {args.topic!r}; see config/topics.toml", file=sys.stderr)
        return EXIT_USAGE
    if not 1 <= args.hours <= 24 * 14:
        print("--hours must be between 1 and 336", file=sys.stderr)
        return EXIT_USAGE
    until = app.utc_now()
    since = until - timedelta(hours=args.hours)
    day = until.astimezone(config.settings.timezone).date()
    printed = False
    for topic in topics:
        stories = asyncio.run(app.review_stories(config, topic=topic.id, since=since, until=until))
        messages = review_messages(stories, topic_name=topic.name, day=day, fmt=args.format)
        for message in messages:
            print(("\n" if printed else "") + message)
            printed = True
    if not printed:
        print(f"no stories in the last {args.hours} h", file=sys.stderr)
    return EXIT_OK


COMMANDS = {"stories": cmd_stories, "digest": cmd_digest}
