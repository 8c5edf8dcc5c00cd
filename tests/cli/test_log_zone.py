"""Log lines carry the time in BOT_TIMEZONE with its offset, as the bot's answers and console do,
so a log line and a message can be compared (`bot.cli.main._ZonedFormatter`, as `main` sets it
up)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.cli.main import _ZonedFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Baku", "2026-12-07 13:05:09,250 +04 INFO bot.x: hello"),
        ("UTC", "2026-12-07 09:05:09,250 +00 INFO bot.x: hello"),
        ("Asia/Tehran", "2026-12-07 12:35:09,250 +03:30 INFO bot.x: hello"),
    ],
)
def test_a_log_line_says_the_time_in_the_bots_zone_and_which_zone(zone: str, expected: str):
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "hello", None, None)
    record.created = datetime(2026, 12, 7, 9, 5, 9, 250000, tzinfo=UTC).timestamp()
    record.msecs = 250.0
    assert _ZonedFormatter(FORMAT, ZoneInfo(zone)).format(record) == expected
