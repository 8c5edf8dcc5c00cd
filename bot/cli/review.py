"""The review's subcommands: `stories FILE`, `digest [--topic T] [--hours H] [--format F]`, `latest`.

Their arguments are declared in `bot.cli.parser`; exit codes come from `bot.cli.exits`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta

from bot.app import queries
from bot.app.main import utc_now
from bot.cli.exits import EXIT_OK, EXIT_USAGE
from bot.cli.files import run_file
from bot.config import Config
from bot.review.digest import review_messages
from bot.review.jsonl import story_lines
from bot.review.lexicon import Lexicon
from bot.review.listing import latest_console, latest_record
from bot.review.stories import Rules


def rules(config: Config) -> Rules:
    """The grouping rules the running bot uses, from the settings."""
    return Rules(window=timedelta(seconds=config.settings.story_window))


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
    stories = asyncio.run(queries.latest(config, n=args.n, topic=args.topic))
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
    until = utc_now()
    since = until - timedelta(hours=args.hours)
    day = until.astimezone(config.settings.timezone).date()
    printed = False
    for topic in topics:
        stories = asyncio.run(
            queries.review_stories(config, topic=topic.id, since=since, until=until)
        )
        messages = review_messages(stories, topic_name=topic.name, day=day, fmt=args.format)
        for message in messages:
            print(("\n" if printed else "") + message)
            printed = True
    if not printed:
        print(f"no stories in the last {args.hours} h", file=sys.stderr)
    return EXIT_OK
