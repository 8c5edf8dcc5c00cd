"""Pure helpers that turn raw feed values into the clean values of an `Item`.

Values in, values out: no feedparser, no clock (the current time is an argument), no state.

- `plain_text`: HTML or text → one line of plain text (tags stripped, entities decoded even when
  double-encoded, whitespace collapsed).
- `fix_mojibake`: undo UTF-8 that was decoded as Windows-1252/1251 somewhere upstream.
- `strip_boilerplate`: drop the teaser furniture feeds append ("The post … appeared first on …",
  "Continue reading…", "[…]").
- `canonical_url`: absolute, lowercase scheme and host, no fragment, no tracking parameters.
- `usable_identities`, `item_key`: an identity that survives repeated or missing GUIDs.
- `to_utc`, `parse_date_text`, `names_regional_zone`: a publication time in UTC, or `now` when
  missing or absurd.
- `language_code`: a primary language subtag such as `en`, `ru`, `az`, `fa`.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

MAX_FUTURE_SKEW = timedelta(minutes=15)
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # no news feed predates this; earlier is a bogus date
KEY_LENGTH = 32  # hex digits of sha256: 128 bits
MAX_HTML = 200_000  # characters cleaned per field: a bound on work, well past any real teaser

_HIDDEN_OPEN = re.compile(r"<(script|style|noscript|template)\b[^<>]*>?", re.I)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|section|article|header|"
    r"footer|figure|figcaption|pre|dd|dt|dl|img)\b[^<>]*>",
    re.I,
)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
_MARKUP_LEFT = re.compile(r"</?[A-Za-z!?][^<>]*>|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z]\w*);")
_INVISIBLE_CHARS = "\u00ad\u200b\u2060\ufeff"  # not ZWNJ (U+200C): Persian needs it
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")

# Each pattern with the lowercase words that must be in the text's tail before it is tried, so the
# regexes (slow on long text) only run where they can match, and its reach: how far from the end
# its words can start (None: anywhere in the tail). A pattern with a reach is searched only there,
# not from every position of the tail, and the match is then widened over the whitespace before
# it, which its leading `\s*` would have taken: the same match as a search of the whole tail.
_BOILERPLATE = (
    (
        ("appeared first on",),
        None,
        re.compile(r"\s*The post\s.{0,500}?\sappeared first on\s.{0,200}$", re.I | re.S),
    ),
    (
        ("появились сначала на",),
        None,
        re.compile(r"\s*Сообщение\s.{0,500}?\sпоявились сначала на\s.{0,200}$", re.I | re.S),
    ),
    (
        ("continue reading", "read more", "read the full", "читать далее", "подробнее", "davamını",
         "ətraflı"),
        # The longest words (21), up to 20 non-word characters, a space, 100 more and a newline.
        150,
        re.compile(
            r"\s*(?:Continue reading|Read more|Read the full (?:story|article)|Читать далее|"
            r"Подробнее|Davamını oxu|Ətraflı)\W{0,20}(?:\s.{0,100})?$",
            re.I | re.S,
        ),
    ),
    (("…", "..."), None, re.compile(r"\s*[\[(]\s*(?:…|\.\.\.)\s*[\])]\s*$")),
)  # fmt: skip
BOILERPLATE_TAIL = 800  # characters at the end of a text where furniture is looked for

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

# Markers of UTF-8 text that was decoded with a single-byte codepage, by that codepage.
# A UTF-8 lead byte seen as a letter, then a continuation byte seen as a symbol or letter.
_CP1252_PAIR = "[\u00c2-\u00ef][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]"
_CP1251_PAIR = "[РС][\u0402-\u040f\u0450-\u045f\u0490\u0491\u2018-\u203a\u20ac\u2116\u00a0-\u00bb]"
_MOJIBAKE = (
    (("cp1252", "latin-1"), re.compile(_CP1252_PAIR)),
    (("cp1251",), re.compile(_CP1251_PAIR)),
)

_TZ_NAMES = {
    "AZT": "+0400", "AZST": "+0500", "IRST": "+0330", "IRDT": "+0430", "MSK": "+0300",
    "TRT": "+0300", "GET": "+0400", "AMT": "+0400", "UTC": "+0000", "Z": "+0000",
}  # fmt: skip
_TZ_WORD = re.compile(r"\b(" + "|".join(_TZ_NAMES) + r")\s*$")
_LANG = re.compile(r"([A-Za-z]{2,3})(?:[-_].*)?")


def plain_text(markup: str) -> str:
    """HTML or text → plain text: tags stripped, entities decoded (twice if need be), one line."""
    text = markup[:MAX_HTML]
    for _ in range(3):  # a third round only for markup that was escaped twice
        text = _drop_hidden(_COMMENT.sub(" ", text))
        text = _TAG.sub("", _BLOCK_TAG.sub(" ", text))
        text = html.unescape(text)
        if not _MARKUP_LEFT.search(text):
            break
    if any(char in text for char in _INVISIBLE_CHARS):
        text = _INVISIBLE.sub("", text)
    return " ".join(text.split())


def _drop_hidden(text: str) -> str:
    """Remove script/style/noscript/template elements with their content, in one forward pass."""
    if "<" not in text or not _HIDDEN_OPEN.search(text):
        return text
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters (İ) grow when lowered; positions must agree
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    out: list[str] = []
    unclosed: set[str] = set()  # names with no closing tag further on: never search again
    pos = 0
    while match := _HIDDEN_OPEN.search(text, pos):
        out.append(text[pos : match.start()])
        name = match.group(1).lower()
        close = -1 if name in unclosed else lowered.find("</" + name, match.end())
        if close < 0:  # unclosed: drop only the opening tag
            unclosed.add(name)
            pos = match.end()
            continue
        end = text.find(">", close)
        pos = len(text) if end < 0 else end + 1
        out.append(" ")
    out.append(text[pos:])
    return "".join(out)


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 that was read as Windows-1252 or 1251, when the text shows the telltale pairs."""
    if text.isascii():
        return text
    for codecs, marker in _MOJIBAKE:
        if not marker.search(text):
            continue
        for codec in codecs:
            try:
                repaired = text.encode(codec).decode("utf-8")
            except UnicodeError:
                continue  # mixed with genuine text: leave it rather than guess
            if len(repaired) < len(text):
                return repaired
    return text


def strip_boilerplate(text: str) -> str:
    """Remove trailing feed furniture such as "The post … appeared first on …" and "[…]"."""
    for _ in range(3):  # an excerpt may end "[…] Continue reading → The post … appeared …"
        start = max(0, len(text) - BOILERPLATE_TAIL)
        tail = text[start:].lower()
        before = len(text)
        for needles, reach, pattern in _BOILERPLATE:
            if not any(needle in tail for needle in needles):
                continue
            if reach is None:
                match = pattern.search(text, start)
                if match:
                    text = text[: match.start()]
                continue
            match = pattern.search(text, max(start, len(text) - reach))
            if match:
                cut = match.start()
                while cut > start and text[cut - 1].isspace():
                    cut -= 1
                text = text[:cut]
        if len(text) == before:
            break
    return text.strip()


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
