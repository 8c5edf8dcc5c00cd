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


@dataclass(frozen=True, slots=True)
class Candidate:
    """What an alert is checked against: an item's folded words and its filters."""

    title: tuple[str, ...]
    body: tuple[str, ...]
    words: frozenset[str]
    source_id: str
    lang: str | None
    flagged: bool


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


class AlertIndex:
    """Saved searches by anchor word; `match` gives the alerts an item satisfies."""

    def __init__(self, alerts: Iterable[Alert]) -> None:
        self.exact: dict[str, list[Alert]] = {}
        self.stems: dict[int, dict[str, list[Alert]]] = {}
        self.size = 0
        for alert in alerts:
            self.size += 1
            for word in _anchor(alert.query):
                if word.prefix:
                    stem = word.forms[0]
                    self.stems.setdefault(len(stem), {}).setdefault(stem, []).append(alert)
                else:
                    for form in word.forms:
                        self.exact.setdefault(form, []).append(alert)
        self._lengths = tuple(sorted(self.stems))
        self._fold = FoldCache()

    def candidate(
        self, *, title: str, body: Sequence[str], source_id: str, lang: str | None, flagged: bool
    ) -> Candidate:
        """Fold an item once for `match`."""
        title_words = tuple(t.norm for t in tokenize(title, self._fold))
        body_words = tuple(t.norm for text in body for t in tokenize(text, self._fold))
        return Candidate(
            title_words,
            body_words,
            frozenset(title_words) | frozenset(body_words),
            source_id,
            lang,
            flagged,
        )

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
        """The alerts the item satisfies, each once, in the order they were given."""
        found: dict[int, Alert] = {}
        for word in item.words:
            for alert in self.exact.get(word, ()):
                found[alert.id] = alert
            for n in self._lengths:
                if n > len(word):
                    break
                for alert in self.stems[n].get(word[:n], ()):
                    found[alert.id] = alert
        return [a for a in found.values() if satisfies(a.query, item)]


def _anchor(query: SearchQuery) -> tuple[SearchWord, ...]:
    """The first word of each phrase of the clause most likely to be rare (its longest word)."""

    def rarity(clause: tuple[SearchPhrase, ...]) -> int:
        return min(max(len(f) for f in p.words[0].forms) for p in clause)

    best = max(query.clauses, key=rarity)
    return tuple(p.words[0] for p in best)


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


def _has(phrase: SearchPhrase, item: Candidate) -> bool:
    first = phrase.words[0]
    if len(phrase.words) == 1:
        if not first.prefix:
            return any(f in item.words for f in first.forms)
        return any(_meets(first, t) for t in item.words)
    return _in_sequence(phrase.words, item.title) or _in_sequence(phrase.words, item.body)


def _in_sequence(words: tuple[SearchWord, ...], tokens: tuple[str, ...]) -> bool:
    n = len(words)
    for i in range(len(tokens) - n + 1):
        if all(_meets(w, tokens[i + k]) for k, w in enumerate(words)):
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
