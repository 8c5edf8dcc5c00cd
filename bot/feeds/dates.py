"""Publication times as web pages write them, read into datetimes. Pure: text in, value out.

`read_date` tries, in order:
1. ISO 8601 / RFC 3339 (`2026-12-07T10:30:00+04:00`, `2026-12-07 10:30`, `2026-12-07`), as in
   `<time datetime>`, JSON Feed and news sitemaps;
2. `dd.mm.yyyy HH:MM` (also `dd/mm/yyyy`, `dd-mm-yyyy`; the time optional), as Azerbaijani and
   Russian sites print it;
3. a day, a month name and a year in any order the four languages use ("7 December 2026",
   "December 7, 2026", "7 декабря 2026", "7 dekabr 2026", "۱۶ آذر ۱۴۰۵" in the Solar Hijri
   calendar, "۷ دسامبر ۲۰۲۶"), with an optional HH:MM anywhere;
4. else None: the caller uses the first-seen time.

Persian and Arabic-Indic digits count as digits. A time without a zone is returned naive (the
caller reads it as UTC); `to_utc` then turns absurd or future ones into the first-seen time.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
_DOTTED = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4})\b")
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_YEAR = re.compile(r"\b(1[3-4]\d\d|19\d\d|20\d\d)\b")
_DAY = re.compile(r"\b(\d{1,2})\b")
_WORD = re.compile(r"[^\W\d_]+")

# Stems that start a month name, by month, in English, Russian (any case), Azerbaijani and
# Persian (the Gregorian months as Persian writes them).
_GREGORIAN: dict[str, int] = {}
for _number, _stems in enumerate(
    (
        ("jan", "январ", "янв", "yanvar", "ژانویه"),
        ("feb", "феврал", "фев", "fevral", "فوریه"),
        ("mar", "март", "мар", "mart", "مارس"),
        ("apr", "апрел", "апр", "aprel", "آوریل"),
        ("may", "мая", "май", "mayıs", "مه", "می"),
        ("jun", "июн", "iyun", "ژوئن"),
        ("jul", "июл", "iyul", "ژوئیه", "جولای"),
        ("aug", "август", "авг", "avqust", "اوت", "آگوست"),
        ("sep", "сентябр", "сен", "sentyabr", "سپتامبر"),
        ("oct", "октябр", "окт", "oktyabr", "اکتبر"),
        ("nov", "ноябр", "ноя", "noyabr", "نوامبر"),
        ("dec", "декабр", "дек", "dekabr", "دسامبر"),
    ),
    start=1,
):
    for _stem in _stems:
        _GREGORIAN[_stem] = _number
# The Solar Hijri months, for dates Iranian sites print in their own calendar.
_JALALI = {
    name: number
    for number, name in enumerate(
        (
            "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
            "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
        ),
        start=1,
    )
}  # fmt: skip


def read_date(text: str) -> datetime | None:
    """The time a page's date text names (naive when it names no zone), or None."""
    text = " ".join(text.translate(_DIGITS).split())[:200]
    if not text:
        return None
    for reader in (_iso, _dotted, _named):
        try:
            moment = reader(text)
        except ValueError:  # 31.02.2026, 25:00: not a date after all
            moment = None
        if moment is not None:
            return moment
    return None


def _iso(text: str) -> datetime | None:
    match = _ISO.search(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    stamp = f"{year}-{month}-{day}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    if zone:
        zone = "+00:00" if zone == "Z" else zone
        stamp += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return datetime.fromisoformat(stamp)


def _dotted(text: str) -> datetime | None:
    match = _DOTTED.search(text)
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    return _with_clock(date(year, month, day), text)


def _named(text: str) -> datetime | None:
    folded = text.casefold()
    jalali = next((n for w in _WORD.findall(folded) if (n := _JALALI.get(w))), None)
    gregorian = None
    if jalali is None:
        gregorian = next((n for w in _WORD.findall(folded) if (n := _month(w))), None)
        if gregorian is None:
            return None
    year_match = _YEAR.search(folded)
    if year_match is None:
        return None
    year = int(year_match.group())
    rest = folded[: year_match.start()] + " " + folded[year_match.end() :]
    rest = _CLOCK.sub(" ", rest)
    day_match = _DAY.search(rest)
    if day_match is None:
        return None
    day = int(day_match.group())
    if jalali is not None:
        return _with_clock(jalali_to_gregorian(year, jalali, day), text)
    assert gregorian is not None  # noqa: S101 (one of the two was found above)
    return _with_clock(date(year, gregorian, day), text)


def _month(word: str) -> int | None:
    if len(word) < 3 and word not in ("مه", "می"):
        return None
    for stem, month in _GREGORIAN.items():
        if word.startswith(stem) if len(stem) >= 3 else word == stem:
            return month
    return None


def _with_clock(day: date, text: str) -> datetime:
    clock = _CLOCK.search(text)
    hour, minute = (int(clock.group(1)), int(clock.group(2))) if clock else (0, 0)
    return datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001 (zone unknown: the caller's rule)


def jalali_to_gregorian(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Solar Hijri (Jalali) one (the arithmetic of jdf.scr.ir)."""
    if not (1 <= month <= 12 and 1 <= day <= (31 if month <= 6 else 30)):
        raise ValueError("no such Solar Hijri date")
    year += 1595
    days = -355668 + 365 * year + (year // 33) * 8 + ((year % 33) + 3) // 4 + day
    days += (month - 1) * 31 if month < 7 else (month - 7) * 30 + 186
    gy = 400 * (days // 146097)
    days %= 146097
    if days > 36524:
        days -= 1
        gy += 100 * (days // 36524)
        days %= 36524
        if days >= 365:
            days += 1
    gy += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        gy += (days - 1) // 365
        days = (days - 1) % 365
    gd = days + 1
    leap = (gy % 4 == 0 and gy % 100 != 0) or gy % 400 == 0
    lengths = (0, 31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    gm = 0
    for gm in range(1, 13):
        if gd <= lengths[gm]:
            break
        gd -= lengths[gm]
    return date(gy, gm, gd)
