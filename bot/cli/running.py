"""The bot's own subcommands: `run`, `fetch --once`, `check-config`, and `match FILE`.

`run` polls until SIGINT or SIGTERM; `fetch --once` makes one pass and prints a table per source;
`check-config` validates the environment and the config files; `match` runs the topic filter
over JSON Lines. Exit codes from `bot.cli.exits`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from bot.app import main as app
from bot.cli import labels
from bot.cli.exits import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from bot.cli.files import run_file
from bot.config import Config
from bot.errors import BotError, ConfigError
from bot.polling.decide import SourceReport
from bot.topics.jsonl import match_lines
from bot.topics.matcher import compile_topics


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """`run`: poll every enabled source on its schedule until SIGINT or SIGTERM."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.run_bot(config, stop=stop)

    try:
        asyncio.run(runner())
    except ConfigError as exc:  # e.g. Telegram refused the token
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except BotError as exc:  # e.g. the Bot API or the database cannot be reached at start-up
        print(f"cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_fetch(config: Config, args: argparse.Namespace) -> int:
    """`fetch --once [--source ID]`: one pass, then the table of `format_reports`."""
    try:
        reports = asyncio.run(app.fetch_once(config, source_id=args.source))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    except BotError as exc:  # e.g. a `run` holds the SQLite file
        print(f"cannot fetch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(format_reports(reports))
    return EXIT_OK


def format_reports(reports: Sequence[SourceReport]) -> str:
    """The per-source table printed by `fetch --once`."""
    rows = [("SOURCE", "STATUS", "HTTP/ERROR", "NEW", "FLAGGED", "TIME")]
    for r in reports:
        detail = r.error or (str(r.http_status) if r.http_status else "-")
        status = "first-sight" if r.first_sight else r.outcome
        rows.append(
            (r.source_id, status, detail, str(r.new_items), str(r.flagged), f"{r.elapsed:.2f}s")
        )
    widths = [min(60, max(len(row[i]) for row in rows)) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell[:60].ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    failed = sum(1 for r in reports if r.outcome == "failed")
    lines.append(f"{len(reports)} sources, {failed} failed")
    return "\n".join(lines)


def cmd_match(config: Config, args: argparse.Namespace) -> int:
    """`match [--explain] FILE`: the topic filter over JSON Lines; 1 when some lines were bad.
    With `--score` the file is labelled and today's configuration is scored on it
    (`bot.cli.labels`)."""
    if args.score:
        return labels.cmd_score(config, args.file, as_json=args.json)
    matcher = compile_topics(config.topics)
    return run_file(args.file, lambda lines: match_lines(matcher, lines, explain=args.explain))


def cmd_check_config(config: Config, args: argparse.Namespace) -> int:
    """`check-config`: one line saying what the config holds (errors were reported by `main`)."""
    enabled = sum(1 for s in config.sources if s.enabled)
    terms = sum(len(g.terms) for t in config.topics for g in t.groups)
    print(
        f"config OK: {len(config.sources)} sources ({enabled} enabled), "
        f"{len(config.topics)} topics, {terms} terms; "
        f"messenger: {'telegram' if config.settings.telegram_bot_token else 'console'}"
    )
    return EXIT_OK
