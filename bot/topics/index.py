"""The compiled form of a topic's terms: patterns, where they were found, and the first-word index
that finds them (`bot.topics.matcher` applies the rules to what is found here).

A pattern is a term folded into words (`Word`: the folded word and whether it is a prefix stem),
with the topic and role it counts for. `Index` keeps patterns by their first word, a dict for
whole words and one per stem length for stems, and remembers per distinct word which patterns it
can start, so matching costs a dict lookup per word of text however many terms are configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.models import Entity, TermHit
from bot.topics.folding import FoldCache, Token, runs

Word = tuple[str, bool]  # folded word, is a prefix stem


@dataclass(frozen=True, slots=True)
class Pattern:
    topic: int
    role: str  # a group name, or MASK, VETO, LIST, JOINT
    term: str  # as configured; an entity's label
    words: tuple[Word, ...]
    entity: Entity | None = None

    @property
    def weak(self) -> bool:
        """An entity form that counts only beside another group's own hit."""
        return self.entity is not None and not self.entity.alone


class Found(NamedTuple):
    """One pattern found in one field. A named tuple, not a dataclass: an item makes a few
    dozen of these, and a tuple is built several times faster than a frozen dataclass."""

    pattern: Pattern
    field: str
    first: int  # token indexes, end exclusive
    last: int
    text: str  # as written

    def hit(self) -> TermHit:
        return TermHit(self.pattern.role, self.pattern.term, self.field, self.text)


class Index:
    """Patterns by first word: whole words in one dict, stems in one dict per prefix length.

    What a word can start is looked up once per distinct word and remembered (bounded, like the
    fold memo): news text repeats its vocabulary, so most words cost one dict lookup.
    """

    def __init__(self, patterns: Iterable[Pattern], max_words: int = 50_000) -> None:
        self.exact: dict[str, list[Pattern]] = {}
        self.stems: dict[str, list[Pattern]] = {}
        lengths: set[int] = set()
        for p in patterns:
            word, stem = p.words[0]
            (self.stems if stem else self.exact).setdefault(word, []).append(p)
            if stem:
                lengths.add(len(word))
        self.stem_lengths = tuple(sorted(lengths))
        self._starts: dict[str, tuple[Pattern, ...]] = {}  # folded word → patterns it starts
        self._roles: dict[str, frozenset[tuple[int, str]]] = {}  # raw run → (topic, role)s
        self._max_words = max_words

    def starting(self, norm: str) -> tuple[Pattern, ...]:
        """The patterns whose first word is `norm` (or a stem of it), in index order."""
        found = self._starts.get(norm)
        if found is None:
            candidates = list(self.exact.get(norm, ()))
            for n in self.stem_lengths:
                if n > len(norm):
                    break
                candidates += self.stems.get(norm[:n], ())
            found = tuple(candidates)
            if len(self._starts) >= self._max_words:
                self._starts.clear()
            self._starts[norm] = found
        return found

    def possible(self, texts: Iterable[str], fold: FoldCache) -> set[tuple[int, str]]:
        """Every (topic, role) that a pattern starting at some word of the texts could hit: a
        superset of what `scan` finds, from the raw word runs alone (no offsets, no gaps)."""
        out: set[tuple[int, str]] = set()
        memo = self._roles
        for text in texts:
            for run in runs(text):
                roles = memo.get(run)
                if roles is None:
                    roles = frozenset(
                        (p.topic, p.role) for w in fold.pieces(run) for p in self.starting(w)
                    )
                    if len(memo) >= self._max_words:
                        memo.clear()
                    memo[run] = roles
                if roles:
                    out |= roles
        return out

    def scan(self, field: str, text: str, tokens: Sequence[Token]) -> list[Found]:
        found: list[Found] = []
        for i, tok in enumerate(tokens):
            for p in self.starting(tok.norm):
                last = phrase_end(p.words, tokens, i)
                if last:
                    span = text[tok.start : tokens[last - 1].end]
                    found.append(Found(p, field, i, last, span))
        return found


def phrase_end(words: tuple[Word, ...], tokens: Sequence[Token], first: int) -> int:
    """End (exclusive) of the phrase that starts at `first`, or 0 when the rest does not match."""
    j = first + 1
    for word, stem in words[1:]:
        if j >= len(tokens) or not tokens[j].joined:
            return 0
        norm = tokens[j].norm
        if not (norm.startswith(word) if stem else norm == word):
            return 0
        j += 1
    return j
