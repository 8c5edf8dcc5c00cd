"""The search query language, one parser for the CLI, Telegram, the web page and alerts.

Pure: text (and the clock's `now`, for `since:7d`) in, a `bot.models.SearchQuery` out, or a
`QueryError` whose message is one line fit to show the user. The language:

- words: every one must match (`astara bridge`); words are folded and stemmed
  (`bot.review.searchwords`), so case, Persian letter variants and inflection do not matter;
- `"quoted phrases"` (also «…» and “…”): the words in that order, next to each other;
- `-word`, `-"a phrase"`: items with it are left out;
- `OR` (capitals) between words or phrases: either will do (`drone OR БПЛА`);
- `source:ID` (an outlet's id), `lang:ru` (the item's language), `since:7d` / `since:2026-11-01`,
  `until:2026-11-30` (that day included), `flagged:` (only items a topic flagged). `source:` and
  `lang:` may be given more than once: any of them.

Rules, in order: quotes are split out first (an unclosed one is an error); then each piece is an
operator, a `key:value` filter (an unknown key is an ordinary word, so `http://…` is searchable),
an exclusion or a word; OR joins its two neighbours; a query must keep at least one word or
phrase to find (only exclusions, or nothing, is an error), and at most `MAX_TERMS` of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.models import SearchPhrase, SearchQuery, SearchWord
from bot.review.searchwords import search_word
from bot.text.durations import parse_duration
from bot.topics.folding import tokenize

MAX_LENGTH = 500  # characters of a query
MAX_TERMS = 20  # words and phrases, found or excluded
_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}
_PIECE = re.compile(r'\s+|"|«|“|„')
_LANG = re.compile(r"^[a-z]{2,3}$")
_SOURCE = re.compile(r"^[\w.-]{1,100}$")
_FLAG_VALUES = {"", "yes", "true", "1", "only"}


class QueryError(ValueError):
    """A query that cannot be run; the message is one line for the user."""


@dataclass(slots=True)
class _Piece:
    text: str
    quoted: bool
    negated: bool = False


def parse_query(text: str, *, now: datetime) -> SearchQuery:
    """Parse a query (see the module docstring); raises QueryError with one readable line."""
    text = " ".join(text.split())
    if not text:
        raise QueryError("empty query: write the words to look for")
    if len(text) > MAX_LENGTH:
        raise QueryError(f"the query is too long (at most {MAX_LENGTH} characters)")
    builder = _Builder(now)
    pending_or = False
    for piece in _pieces(text):
        if not piece.quoted and piece.text == "OR":
            if pending_or or not builder.can_join():
                raise QueryError("OR must stand between two words or phrases")
            pending_or = True
            continue
        if not piece.quoted and not piece.negated and builder.filter(piece.text):
            if pending_or:
                raise QueryError("OR must stand between two words or phrases, not filters")
            continue
        phrase = _phrase(piece.text)
        if phrase is None:
            if pending_or:
                raise QueryError("OR must stand between two words or phrases")
            continue  # punctuation alone: nothing to look for
        if piece.negated:
            if pending_or:
                raise QueryError("OR cannot join a word that is left out (-word)")
            builder.exclude.append(phrase)
        elif pending_or:
            builder.clauses[-1].append(phrase)
        else:
            builder.clauses.append([phrase])
        pending_or = False
    if pending_or:
        raise QueryError("OR must stand between two words or phrases")
    return builder.build(text)


def _pieces(text: str) -> list[_Piece]:
    """Split into words and quoted phrases; a `-` right before a quote or word negates it."""
    pieces: list[_Piece] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        negated = ch == "-" and pos + 1 < len(text) and not text[pos + 1].isspace()
        start = pos + 1 if negated else pos
        opener = text[start] if start < len(text) else ""
        if opener in _QUOTES:
            end = text.find(_QUOTES[opener], start + 1)
            if end < 0:
                raise QueryError(f"unclosed quote: add the closing {_QUOTES[opener]}")
            pieces.append(_Piece(text[start + 1 : end], quoted=True, negated=negated))
            pos = end + 1
            continue
        m = _PIECE.search(text, start)
        end = m.start() if m else len(text)
        if end == start:  # a lone "-" before a space
            pos = start
            continue
        pieces.append(_Piece(text[start:end], quoted=False, negated=negated))
        pos = end
    return pieces


def _phrase(text: str) -> SearchPhrase | None:
    """The folded, stemmed words of a word or phrase (a hyphenated word is a phrase too)."""
    tokens = tokenize(text)
    if not tokens:
        return None
    words = []
    for tok in tokens:
        word = search_word(tok.norm, text[tok.start : tok.end])
        if len(tokens) > 1 and len(word.forms) > 1:
            word = SearchWord((word.forms[0],), word.prefix)
        words.append(word)
    return SearchPhrase(tuple(words))


class _Builder:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.clauses: list[list[SearchPhrase]] = []
        self.exclude: list[SearchPhrase] = []
        self.sources: list[str] = []
        self.langs: list[str] = []
        self.since: datetime | None = None
        self.until: datetime | None = None
        self.flagged = False

    def can_join(self) -> bool:
        return bool(self.clauses)

    def filter(self, piece: str) -> bool:
        """Take `key:value` if key is one of ours; False for an ordinary word."""
        key, sep, value = piece.partition(":")
        key = key.lower()
        if not sep or key not in ("source", "lang", "since", "until", "flagged"):
            return False
        if key == "flagged":
            if value.lower() not in _FLAG_VALUES:
                raise QueryError("flagged: takes no value (write flagged: alone)")
            self.flagged = True
        elif key == "source":
            if not _SOURCE.match(value):
                raise QueryError("source: needs an outlet id, e.g. source:apa")
            self.sources.append(value)
        elif key == "lang":
            code = value.lower()
            if not _LANG.match(code):
                raise QueryError("lang: needs a language code, e.g. lang:ru, lang:az, lang:fa")
            self.langs.append(code)
        elif key == "since":
            self.since = _moment(value, self.now, "since")
        else:
            self.until = _moment(value, self.now, "until", end_of_day=True)
        return True

    def build(self, text: str) -> SearchQuery:
        if not self.clauses:
            if self.exclude:
                raise QueryError("a query needs a word to find, not only words to leave out")
            if not (self.sources or self.langs):
                raise QueryError("the query has no word to look for")
        terms = sum(len(c) for c in self.clauses) + len(self.exclude)
        if terms > MAX_TERMS:
            raise QueryError(f"too many words (at most {MAX_TERMS})")
        if self.since and self.until and self.since >= self.until:
            raise QueryError("since: must come before until:")
        return SearchQuery(
            clauses=tuple(tuple(c) for c in self.clauses),
            exclude=tuple(self.exclude),
            sources=tuple(dict.fromkeys(self.sources)),
            langs=tuple(dict.fromkeys(self.langs)),
            since=self.since,
            until=self.until,
            flagged=self.flagged,
            text=text,
        )


def _moment(value: str, now: datetime, key: str, *, end_of_day: bool = False) -> datetime:
    """`7d`/`12h` back from now, or a date (YYYY-MM-DD; `until:` includes that day)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise QueryError(f"{key}: takes 7d, 12h or a date like 2026-11-30") from None
    return now - timedelta(seconds=seconds)
