"""Pure helpers that turn raw feed values into the clean values of an `Item`.

Values in, values out: no feedparser, no clock (the current time is an argument), no state.

- `plain_text`, `fix_mojibake`, `strip_boilerplate` (text cleaning) live in `bot.text.clean`, which
  the topic filter's `match` command shares; they are re-exported here.
- `canonical_url`: absolute, lowercase scheme and host, no fragment, no tracking parameters.
- `usable_identities`, `item_key`: an identity that survives repeated or missing GUIDs.
- `to_utc`, `parse_date_text`, `names_regional_zone`: a publication time in UTC, or `now` when
  missing or absurd.
- `language_code`: a primary language subtag such as `en`, `ru`, `az`, `fa`.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

from bot.text.clean import (
    BOILERPLATE_TAIL,
    MAX_HTML,
    clean_summary,
    clean_title,
    fix_mojibake,
    plain_text,
    strip_boilerplate,
)

__all__ = [
    "BOILERPLATE_TAIL",
    "EARLIEST",
    "KEY_LENGTH",
    "MAX_FUTURE_SKEW",
    "MAX_HTML",
    "canonical_url",
    "clean_summary",
    "clean_title",
    "fix_mojibake",
    "item_key",
    "language_code",
    "names_regional_zone",
    "parse_date_text",
    "plain_text",
    "strip_boilerplate",
    "to_utc",
    "usable_identities",
]

MAX_FUTURE_SKEW = timedelta(minutes=15)
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # no news feed predates this; earlier is a bogus date
KEY_LENGTH = 32  # hex digits of sha256: 128 bits

_TRACKING = frozenset(
    {
        "fbclid", "gclid", "yclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "_ga",
        "_gl", "ref", "ref_src", "ref_url", "_hsenc", "_hsmi", "mkt_tok", "cmpid", "ito",
        "ocid",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_WRAP = re.compile(r"[\r\n\t]")
_URL_UNSAFE = re.compile(r"[ <>\"{}|\\^`]")

_TZ_NAMES = {
    "AZT": "+0400", "AZST": "+0500", "IRST": "+0330", "IRDT": "+0430", "MSK": "+0300",
    "TRT": "+0300", "GET": "+0400", "AMT": "+0400", "UTC": "+0000", "Z": "+0000",
}  # fmt: skip
_TZ_WORD = re.compile(r"\b(" + "|".join(_TZ_NAMES) + r")\s*$")
_LANG = re.compile(r"([A-Za-z]{2,3})(?:[-_].*)?")


def canonical_url(url: str, base: str = "") -> str:
    """Absolute http(s) URL with lowercase scheme and host, no fragment or tracking parameters.

    Returns "" for anything that is not a web link (javascript:, mailto:, malformed).
    """
    # Line breaks inside a link are the feed's wrapping; a plain space is part of the address.
    url = "".join(part.strip() for part in _URL_WRAP.split(url.strip()))
    url = _URL_UNSAFE.sub(lambda m: quote(m.group()), url)
    if not url:
        return ""
    try:
        parts = urlsplit(urljoin(base, url) if base else url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return ""
    if scheme not in _DEFAULT_PORTS or not host:
        return ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    # Filter the raw pairs rather than decode and re-encode, which would rewrite the kept ones.
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _is_tracking(pair))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _is_tracking(pair: str) -> bool:
    name = unquote_plus(pair.partition("=")[0]).lower()
    return name.startswith(("utm_", "pk_", "mtm_")) or name in _TRACKING


def usable_identities(values: Sequence[str | None], *, reject: Collection[str]) -> list[str | None]:
    """Each value, or None where it cannot identify one item: empty, repeated in the feed, rejected.

    Feeds that give every item the same <guid>, or their home page as a guid or link, are common.
    """
    cleaned = [(v or "").strip() for v in values]
    counts = Counter(cleaned)
    return [v if v and counts[v] == 1 and v not in reject else None for v in cleaned]


def item_key(*, guid: str | None, url: str | None, title: str, summary: str) -> str:
    """Stable identity: hash of the GUID, else of the canonical link, else of title and text."""
    if guid:
        basis = "guid\0" + guid
    elif url:
        basis = "url\0" + url
    else:
        basis = "text\0" + title + "\0" + summary
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_LENGTH]


def to_utc(value: datetime | time.struct_time | None, *, now: datetime) -> datetime:
    """The time in UTC; `now` when missing, before 1995 or further ahead than a small clock skew.

    A struct_time is read as UTC (feedparser's convention); a naive datetime too.
    """
    if value is None:
        return now.astimezone(UTC)
    if isinstance(value, time.struct_time):
        try:
            moment = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
        except (OverflowError, ValueError, OSError):
            return now.astimezone(UTC)
    elif value.tzinfo is None:
        moment = value.replace(tzinfo=UTC)
    else:
        moment = value.astimezone(UTC)
    if moment < EARLIEST or moment > now + MAX_FUTURE_SKEW:
        return now.astimezone(UTC)
    return moment


def parse_date_text(text: str) -> datetime | None:
    """An RFC 822 date, also with zone names feedparser does not know (AZT, IRST, MSK…)."""
    text = text.strip()[:100]
    text = _TZ_WORD.sub(lambda m: _TZ_NAMES[m.group(1)], text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # noqa: UP017 - same object, reads as intent
    return moment


def names_regional_zone(text: str) -> bool:
    """True when a date ends with a zone name of this region that feedparser would read as UTC."""
    match = _TZ_WORD.search(text.strip()[:100])
    return match is not None and _TZ_NAMES[match.group(1)] != "+0000"


def language_code(value: str | None) -> str | None:
    """Primary subtag, lowercase (`en-US` → `en`, `az-Latn-AZ` → `az`); None for junk."""
    if not value:
        return None
    match = _LANG.fullmatch(value.strip())
    return match.group(1).lower() if match else None
