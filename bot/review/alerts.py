"""Personal alerts: which saved searches a new item matches, and which searches are refused.

Pure. `AlertIndex` holds every chat's saved queries keyed by one word of each (the "anchor":
every word of the clause whose words are longest, as long words are rare), in a dict for whole
words and one dict per stem length for prefix stems, like the topic filter's term index
(`bot.topics.index`). An item is folded once; each distinct word costs a lookup per stem length;
only the alerts found that way are checked in full. So the cost per item depends on the item's
words, not on the number of alerts. Alerts with no word (`source:`/`lang:` only) are refused
when saved (`alert_problem`).

Checks, per candidate alert: `source:`/`lang:`/`flagged:` first, then every clause (one of its
phrases in the title or in the body, words in order and side by side), then no exclusion.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.models import MatchedItem, SearchPhrase, SearchQuery, SearchWord
from bot.review.query import QueryError, parse_query
from bot.topics.folding import FoldCache, normalize, tokenize

MAX_SHARE = 0.2  # an alert that finds more than this share of recent items is refused
MIN_SAMPLE = 50  # ... judged only over at least this many items
_MAX_WORDS = 50_000  # the per-word memo is emptied when it reaches this, to stay bounded
# Words so common in news text that alone they would match nearly every item.
_COMMON_TEXT = (
    "the a an and or of in on to for is are was with by at from as it this that news said "
    "и в во на с по не что из за к о от для это как "
    "və ilə bu da də bir ki üçün olan "
    "و در به از که این با را است برای آن یک"
)
COMMON = frozenset(normalize(word) for word in _COMMON_TEXT.split())


@dataclass(frozen=True, slots=True)
class Alert:
    """A saved search of a chat."""

    id: int
    chat_id: int
    query: SearchQuery


class Candidate:
    """What an alert is checked against: an item's folded words and its filters, with the
    lookups a check needs built on first use (word positions, prefixes of one length)."""

    __slots__ = (
        "_positions",
        "_prefixes",
        "body",
        "flagged",
        "lang",
        "source_id",
        "title",
        "words",
    )

    def __init__(
        self,
        title: tuple[str, ...],
        body: tuple[str, ...],
        source_id: str,
        lang: str | None,
        flagged: bool,
    ) -> None:
        self.title, self.body = title, body
        self.words = frozenset(title) | frozenset(body)
        self.source_id, self.lang, self.flagged = source_id, lang, flagged
        self._prefixes: dict[str, list[str]] = {}
        self._positions: dict[str, list[tuple[int, int]]] | None = None

    def starting(self, stem: str) -> list[str]:
        """The item's distinct words that start with `stem` (remembered per stem)."""
        found = self._prefixes.get(stem)
        if found is None:
            found = self._prefixes[stem] = [w for w in self.words if w.startswith(stem)]
        return found

    def positions(self, word: str) -> list[tuple[int, int]]:
        """Where the word stands: (0 title | 1 body, index)."""
        if self._positions is None:
            self._positions = {}
            for field, tokens in enumerate((self.title, self.body)):
                for i, token in enumerate(tokens):
                    self._positions.setdefault(token, []).append((field, i))
        return self._positions.get(word, [])


def alert_problem(query: SearchQuery) -> str | None:
    """Why the query cannot be an alert (one line), or None."""
    if query.since is not None or query.until is not None:
        return "an alert follows new items: leave out since: and until:"
    if not query.clauses:
        return "an alert needs at least one word to look for"
    words = [p.words for clause in query.clauses for p in clause]
    if all(len(w) == 1 and _common(w[0]) for w in words):
        return "that would match almost every item: add a more specific word or a phrase"
    return None


def _common(word: SearchWord) -> bool:
    return any(f in COMMON for f in word.forms) or (word.prefix and len(word.forms[0]) < 3)


Posting = tuple[Alert, int]  # an alert, and the bit of the clause a word counts for


class AlertIndex:
    """Saved searches by the first word of each phrase of each clause; `match` gives the alerts
    an item satisfies.

    Every clause of an alert must match, so an item is a candidate for an alert only when its
    words reach every requirement (`_requirements`): each word's postings set a requirement's
    bit, and only alerts with all bits set are checked in full (phrases in order, exclusions,
    filters).
    """

    def __init__(self, alerts: Iterable[Alert]) -> None:
        self.exact: dict[str, list[Posting]] = {}
        self.stems: dict[int, dict[str, list[Posting]]] = {}
        self.size = 0
        self._full: dict[int, int] = {}  # alert id → all its clause bits
        for alert in alerts:
            self.size += 1
            needs = _requirements(alert.query)
            self._full[alert.id] = (1 << len(needs)) - 1
            for bit, words in enumerate(needs):
                posting = (alert, 1 << bit)
                for word in words:
                    if word.prefix:
                        stem = word.forms[0]
                        self.stems.setdefault(len(stem), {}).setdefault(stem, []).append(posting)
                    else:
                        for form in word.forms:
                            self.exact.setdefault(form, []).append(posting)
        self._lengths = tuple(sorted(self.stems))
        self._fold = FoldCache()
        # Folded word → its postings: news repeats its words, so most cost one lookup.
        self._postings: dict[str, tuple[Posting, ...]] = {}

    def candidate(
        self, *, title: str, body: Sequence[str], source_id: str, lang: str | None, flagged: bool
    ) -> Candidate:
        """Fold an item once for `match`."""
        title_words = tuple(t.norm for t in tokenize(title, self._fold))
        body_words = tuple(t.norm for text in body for t in tokenize(text, self._fold))
        return Candidate(title_words, body_words, source_id, lang, flagged)

    def __call__(self, item: MatchedItem, lang: str | None) -> list[tuple[int, str]]:
        """(chat id, query text) of every alert a stored item satisfies (the store's hook)."""
        if not self.size:
            return []
        body = [item.item.summary]
        if item.review_summary:
            body.append(item.review_summary)
        if item.article:
            body.append(item.article)
        candidate = self.candidate(
            title=item.item.title,
            body=body,
            source_id=item.item.source_id,
            lang=lang,
            flagged=bool(item.matches),
        )
        return [(a.chat_id, a.query.text) for a in self.match(candidate)]

    def match(self, item: Candidate) -> list[Alert]:
        """The alerts the item satisfies, each once, in the order they were saved (by id)."""
        bits: dict[int, int] = {}
        alerts: dict[int, Alert] = {}
        memo = self._postings
        for word in item.words:
            postings = memo.get(word)
            if postings is None:
                postings = self._lookup(word)
                if len(memo) >= _MAX_WORDS:
                    memo.clear()
                memo[word] = postings
            for alert, bit in postings:
                bits[alert.id] = bits.get(alert.id, 0) | bit
                alerts[alert.id] = alert
        full = self._full
        return [
            alerts[i]
            for i, got in sorted(bits.items())
            if got == full[i] and satisfies(alerts[i].query, item)
        ]

    def _lookup(self, word: str) -> tuple[Posting, ...]:
        """The postings of `word` and of its stems."""
        found = list(self.exact.get(word, ()))
        for n in self._lengths:
            if n > len(word):
                break
            found += self.stems[n].get(word[:n], ())
        return tuple(found)


def _requirements(query: SearchQuery) -> list[tuple[SearchWord, ...]]:
    """What an item's words must reach, each met by any of its words: every word of a clause
    that is one phrase; the first word of some phrase of a clause of alternatives."""
    needs: list[tuple[SearchWord, ...]] = []
    for clause in query.clauses:
        if len(clause) == 1:
            needs.extend((word,) for word in dict.fromkeys(clause[0].words))
        else:
            needs.append(tuple(phrase.words[0] for phrase in clause))
    return needs


def satisfies(query: SearchQuery, item: Candidate) -> bool:
    """Whether the item matches the whole query (filters, clauses, exclusions)."""
    if query.sources and item.source_id not in query.sources:
        return False
    if query.langs and item.lang not in query.langs:
        return False
    if query.flagged and not item.flagged:
        return False
    if not all(any(_has(p, item) for p in clause) for clause in query.clauses):
        return False
    return not any(_has(p, item) for p in query.exclude)


def _meets(word: SearchWord, token: str) -> bool:
    return token.startswith(word.forms[0]) if word.prefix else token in word.forms


def _words_meeting(word: SearchWord, item: Candidate) -> list[str]:
    if word.prefix:
        return item.starting(word.forms[0])
    return [f for f in word.forms if f in item.words]


def _has(phrase: SearchPhrase, item: Candidate) -> bool:
    starts = _words_meeting(phrase.words[0], item)
    if len(phrase.words) == 1 or not starts:
        return bool(starts)
    rest = phrase.words[1:]
    for start in starts:
        for field, i in item.positions(start):
            tokens = item.title if field == 0 else item.body
            if i + len(rest) < len(tokens) and all(
                _meets(w, tokens[i + 1 + k]) for k, w in enumerate(rest)
            ):
                return True
    return False


def compile_alerts(rows: Iterable[tuple[int, int, str]]) -> AlertIndex:
    """The index of stored alerts (id, chat id, query text); one that no longer parses is skipped."""
    alerts = []
    for alert_id, chat_id, text in rows:
        try:
            query = parse_query(text, now=_EPOCH)
        except QueryError:
            continue
        if alert_problem(query) is None:
            alerts.append(Alert(alert_id, chat_id, query))
    return AlertIndex(alerts)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # alerts hold no since:/until:, so any moment will do
