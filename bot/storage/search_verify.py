"""SQLite: a phrase with too many spellings, found by checking the newest candidates' text.

A phrase of two common stems can stand for hundreds of exact phrases ("зангра" → 91 stored words
× "занника" → 7), too many to ask FTS5 for at once, and FTS5's own prefix phrase first merges
every posting of both prefixes (65 ms at 1,000,000 items). Its words alone, each spelled out,
are cheap: FTS5 reads them lazily, newest first. So such a query is asked with the phrase's
words as separate clauses (every match of the phrase is among those candidates), newest first,
`CHUNK` rows at a time, and each candidate's stored title and body are checked for the phrase
here (`holds`: neighbouring words within one field, as FTS5 matches a phrase). When `CHUNKS`
chunks have not filled the page, the caller asks FTS5's prefix phrase as before, so a rare
phrase of common words costs a few chunks more than it did, and a common one far less.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.models import SearchPhrase, SearchQuery, SearchWord
from bot.storage.search_words import MAX_PHRASES, Known, spell, spelled_words

CHUNK = 200  # candidates read at a time
CHUNKS = 5  # chunks read before FTS5's prefix phrase is asked instead


@dataclass(frozen=True, slots=True)
class Loosened:
    """A query whose matches include every match of the original (`query`), and the phrases
    a candidate must hold to be one (`phrases`, as the original has them)."""

    query: SearchQuery
    phrases: tuple[tuple[SearchWord, ...], ...]


def loosen(query: SearchQuery, known: Known, max_phrases: int = MAX_PHRASES) -> Loosened | None:
    """The query spelled out, with each clause that is a single phrase too large to spell out
    replaced by one clause per word of it; None when there is no such clause. Pure."""
    spelled = spell(query, known, max_phrases)
    clauses: list[tuple[SearchPhrase, ...]] = []
    checks: list[tuple[SearchWord, ...]] = []
    for original, clause in zip(query.clauses, spelled.clauses, strict=True):
        phrase = clause[0]
        words = spelled_words(phrase, known) if len(clause) == 1 else None
        if words is not None and len(words) > 1 and any(w.prefix for w in phrase.words):
            clauses += [(SearchPhrase((w,)),) for w in words]
            checks.append(original[0].words)
        else:
            clauses.append(clause)
    if not checks:
        return None
    return Loosened(replace(spelled, clauses=tuple(clauses)), tuple(checks))


def holds(words: tuple[SearchWord, ...], text: str) -> bool:
    """Whether the folded, space-separated `text` has the words side by side, in order. Pure."""
    tokens = text.split()
    size = len(words)
    return any(
        all(_matches(w, tokens[start + k]) for k, w in enumerate(words))
        for start in range(len(tokens) - size + 1)
    )


def _matches(word: SearchWord, token: str) -> bool:
    return token.startswith(word.forms[0]) if word.prefix else token in word.forms
