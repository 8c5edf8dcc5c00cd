"""bot.storage.outage: the log lines of a database outage, one part at a time.

A fake monotonic clock (the reporter's injected clock) moves time; the real logging machinery
(caplog) records what was said.
"""

from __future__ import annotations

import logging

import pytest

from bot.errors import StoreError
from bot.storage.outage import OutageReporter, outage_length

LOG = logging.getLogger("tests.outage")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def said(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records]


def test_one_warning_then_a_reminder_a_minute_then_one_info_with_the_length(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG, logger="tests.outage")
    clock = Clock()
    outage = OutageReporter("delivery", LOG, monotonic=clock)
    outage.succeeded()  # no outage: nothing to say
    down = StoreError("cannot reach the database at postgresql://bot:***@db/bot")
    for _ in range(30):  # every 2 s for the first minute
        outage.failed(down)
        clock.now += 2
    outage.failed(down)  # 60 s in: the reminder
    clock.now += 15
    outage.succeeded()
    lines = said(caplog)
    warnings = [m for level, m in lines if level == "WARNING"]
    assert warnings == [
        "delivery: the database is unreachable, retrying (a reminder each 1 min 0 s while it "
        "lasts): cannot reach the database at postgresql://bot:***@db/bot",
        "delivery: the database is still unreachable after 1 min 0 s (31 failed attempts): "
        "cannot reach the database at postgresql://bot:***@db/bot",
    ]
    assert [m for level, m in lines if level == "INFO"] == [
        "delivery: the database is back after 1 min 15 s (31 failed attempts)"
    ]
    assert sum(1 for level, _ in lines if level == "DEBUG") == 29
    assert not outage.down


def test_a_second_outage_is_told_afresh(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="tests.outage")
    clock = Clock()
    outage = OutageReporter("poll runs", LOG, monotonic=clock)
    outage.failed(StoreError("x"))
    clock.now += 3
    outage.succeeded()
    outage.succeeded()
    outage.failed(StoreError("y"))
    assert [level for level, _ in said(caplog)] == ["WARNING", "INFO", "WARNING"]
    assert outage.down


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (42.4, "42 s"), (60, "1 min 0 s"), (185, "3 min 5 s"), (3720, "1 h 2 min")],
)
def test_outage_length_reads_as_people_say_it(seconds: float, text: str):
    assert outage_length(seconds) == text
