"""Page dates in the formats and languages outlets print them (bot.feeds.dates)."""

# ruff: noqa: DTZ001  (read_date returns naive times for text that names no zone: the expected values)

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.feeds.dates import jalali_to_gregorian, read_date

BAKU = timezone(timedelta(hours=4))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-07T10:30:00+04:00", datetime(2026, 12, 7, 10, 30, tzinfo=BAKU)),
        ("2026-12-07T06:30:00Z", datetime(2026, 12, 7, 6, 30, tzinfo=UTC)),
        ("2026-12-07 10:30", datetime(2026, 12, 7, 10, 30)),
        ("07.12.2026 10:30", datetime(2026, 12, 7, 10, 30)),
        ("7/12/2026", datetime(2026, 12, 7)),
        ("7 December 2026, 14:05", datetime(2026, 12, 7, 14, 5)),
        ("Dec 7, 2026 3:45", datetime(2026, 12, 7, 3, 45)),
        ("7 декабря 2026 г. 09:15", datetime(2026, 12, 7, 9, 15)),
        ("5 мая 2026", datetime(2026, 5, 5)),
        ("7 dekabr 2026 12:00", datetime(2026, 12, 7, 12, 0)),
        ("2 mart 2026", datetime(2026, 3, 2)),
        ("۱۶ آذر ۱۴۰۵ - ۱۰:۳۰", datetime(2026, 12, 7, 10, 30)),  # Solar Hijri, Persian digits
        ("۷ دسامبر ۲۰۲۶", datetime(2026, 12, 7)),
        ("31.02.2026", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_read_date(text: str, expected: datetime | None):
    assert read_date(text) == expected


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [
        ((1403, 1, 1), (2024, 3, 20)),
        ((1405, 9, 16), (2026, 12, 7)),
        ((1402, 12, 29), (2024, 3, 19)),
    ],
)
def test_solar_hijri_dates_convert(jalali, gregorian):
    assert jalali_to_gregorian(*jalali).timetuple()[:3] == gregorian
