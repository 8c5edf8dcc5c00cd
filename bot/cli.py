"""Command line: `python -m bot run | fetch --once | match FILE | latest | check-config | config …
| extract FILE_OR_URL | summarize FILE`.

Exit codes: 0 done (a fetch pass that ran is 0 even when sources failed), 1 some input lines were bad
(`match`) or `run` could not start, 2 configuration or usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from bot import app, review_cli, summary_cli
from bot.config import Config, load_config
from bot.errors import BotError, ConfigError
from bot.jsonlines import run_file
from bot.operator import cli as config_cli
from bot.operator import labels_cli
from bot.pipeline import SourceReport
from bot.telegram.app import TokenRedactor
from bot.topics.jsonl import match_lines
from bot.topics.matcher import compile_topics

EXIT_OK, EXIT_BAD_INPUT, EXIT_CONFIG = 0, 1, 2
EXIT_FAILED = 1  # `run` could not start (Telegram or the database unreachable)
log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot` and the `media-review-bot` script."""
    args = _parser().parse_args(argv)
    if args.command == "extract":  # reads a page, not the config files
        _setup_logging("WARNING", None)
        return summary_cli.run_extract(args)
    try:
        config = load_config()
    except ConfigError as exc:
        _setup_logging("INFO", None)
        print("configuration error:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_CONFIG
    token = config.settings.telegram_bot_token
    _setup_logging(config.settings.log_level, token.get_secret_value() if token else None)
    handler = _COMMANDS[args.command]
    return handler(config, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Media-review monitoring bot."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="poll sources on their schedule and announce flagged items")
    fetch = sub.add_parser("fetch", help="one pass over the sources, then a table per source")
    fetch.add_argument("--once", action="store_true", required=True, help="run one pass and exit")
    fetch.add_argument("--source", metavar="ID", help="only this source (even if disabled)")
    match = sub.add_parser(
        "match", help="run the topic filter over JSON Lines (id, title, summary)"
    )
    match.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for standard input")
    match.add_argument(
        "--score", action="store_true", help="FILE is labelled: precision, recall, F1, mistakes"
    )
    match.add_argument("--json", action="store_true", help="with --score: one JSON object")
    latest = sub.add_parser("latest", help="the newest stories, each with its outlets")
    latest.add_argument(
        "-n", type=int, default=10, metavar="N", help="how many stories (default 10)"
    )
    latest.add_argument("--topic", metavar="T", help="only this topic")
    latest.add_argument("--json", action="store_true", help="one JSON object a line")
    sub.add_parser("check-config", help="validate the environment, sources.toml and topics.toml")
    config_cli.register(sub)
    labels_cli.register(sub)
    review_cli.register(sub)
    summary_cli.register(sub)
    return parser


def _setup_logging(level: str, secret: str | None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if secret:
        handler.addFilter(TokenRedactor(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Telegram URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _cmd_run(config: Config, args: argparse.Namespace) -> int:
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


def _cmd_fetch(config: Config, args: argparse.Namespace) -> int:
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


def _cmd_match(config: Config, args: argparse.Namespace) -> int:
    if args.score:
        return labels_cli.run_score(config, args.file, as_json=args.json)
    matcher = compile_topics(config.topics)
    return run_file(args.file, lambda lines: match_lines(matcher, lines))


def _cmd_latest(config: Config, args: argparse.Namespace) -> int:
    return review_cli.cmd_latest(config, args)


def _cmd_check_config(config: Config, args: argparse.Namespace) -> int:
    enabled = sum(1 for s in config.sources if s.enabled)
    terms = sum(len(g.terms) for t in config.topics for g in t.groups)
    print(
        f"config OK: {len(config.sources)} sources ({enabled} enabled), "
        f"{len(config.topics)} topics, {terms} terms; "
        f"messenger: {'telegram' if config.settings.telegram_bot_token else 'console'}"
    )
    return EXIT_OK


_COMMANDS = {
    "run": _cmd_run,
    "fetch": _cmd_fetch,
    "match": _cmd_match,
    "latest": _cmd_latest,
    "check-config": _cmd_check_config,
    "config": config_cli.run,
    "labels": labels_cli.run,
    **review_cli.COMMANDS,
    "summarize": summary_cli.run_summarize,
}
