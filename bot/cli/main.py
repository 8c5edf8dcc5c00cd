"""Command line: `python -m bot run | fetch --once | match [--explain|--score] FILE | latest
| check-config | config … | labels … | probe URL | stories FILE | digest | extract FILE_OR_URL
| summarize FILE | search QUERY… | alerts list`.

`main` parses the arguments (`bot.cli.parser`), sets up logging (the only place that does),
loads the config once and hands it to the subcommand's handler. Exit codes: `bot.cli.exits`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from bot.cli import labels, review, running, search, summary
from bot.cli.exits import EXIT_CONFIG
from bot.cli.guard import guarded
from bot.cli.parser import parse
from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.operator import cli as config_cli
from bot.operator import probe_cli
from bot.telegram.app import TokenRedactor

log = logging.getLogger(__name__)

Handler = Callable[[Config, argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot` and the `media-review-bot` script."""
    args = parse(argv)
    if args.command == "extract":  # reads a page, not the config files
        _setup_logging("WARNING", None)
        return guarded(lambda: summary.run_extract(args), debug=args.debug)
    try:
        config = load_config()
    except ConfigError as exc:
        _setup_logging("INFO", None)
        print("configuration error:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_CONFIG
    token = config.settings.telegram_bot_token
    _setup_logging(
        config.settings.log_level,
        token.get_secret_value() if token else None,
        tz=config.settings.timezone,
    )
    handler = _COMMANDS[args.command]
    return guarded(lambda: handler(config, args), debug=args.debug)


class _ZonedFormatter(logging.Formatter):
    """Log times in BOT_TIMEZONE with their UTC offset ("2026-12-07 13:05:09,123 +04"), the
    zone the bot's answers and console use, so a log line and a message can be compared."""

    def __init__(self, fmt: str, tz: tzinfo | None) -> None:
        super().__init__(fmt)
        self._tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self._tz).astimezone(self._tz)
        offset = moment.strftime("%z")
        offset = offset[:3] if offset.endswith("00") else f"{offset[:3]}:{offset[3:]}"
        return f"{moment:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d} {offset}"


def _setup_logging(level: str, secret: str | None, *, tz: tzinfo | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ZonedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", tz))
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
    **search.COMMANDS,
}
