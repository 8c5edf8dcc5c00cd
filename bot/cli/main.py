"""Command line: `python -m bot run | fetch --once | match [--explain|--score] FILE | latest
| check-config | config … | labels … | probe URL | stories FILE | digest | extract FILE_OR_URL
| summarize FILE`.

`main` parses the arguments (`bot.cli.parser`), sets up logging (the only place that does),
loads the config once and hands it to the subcommand's handler. Exit codes: `bot.cli.exits`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bot.cli import labels, review, running, summary
from bot.cli.exits import EXIT_CONFIG
from bot.cli.parser import build_parser
from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.operator import cli as config_cli
from bot.operator import probe_cli
from bot.telegram.app import TokenRedactor

log = logging.getLogger(__name__)

Handler = Callable[[Config, argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot` and the `media-review-bot` script."""
    args = build_parser().parse_args(argv)
    if args.command == "extract":  # reads a page, not the config files
        _setup_logging("WARNING", None)
        return summary.run_extract(args)
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


_COMMANDS: dict[str, Handler] = {
    "run": running.cmd_run,
    "fetch": running.cmd_fetch,
    "match": running.cmd_match,
    "latest": review.cmd_latest,
    "check-config": running.cmd_check_config,
    "config": config_cli.run,
    "labels": labels.cmd_labels,
    "probe": probe_cli.run,
    "stories": review.cmd_stories,
    "digest": review.cmd_digest,
    "summarize": summary.run_summarize,
}
