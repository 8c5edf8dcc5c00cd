"""Finding lexicon phrases in folded words: the longest phrase at each place, left to right.

A phrase is written as a topics term (`bot.topics.matcher.parse_term`): words folded like the
text, a word ending in `*` matches every word it begins ("Pezeshkian*" meets "Пезешкианом" only
through its own Cyrillic form, "министр*" meets "министра"). Phrases are kept by their first
two letters, so a word looks only at the few phrases that could start on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.topics.matcher import parse_term

Pattern = tuple[tuple[str, bool], ...]  # (folded word, is a stem) per word


@dataclass(frozen=True, slots=True)
class Hit:
    """One phrase found: what it names and the words it covers [start, end)."""

    id: str
    start: int
    end: int


@dataclass(slots=True)
class PhraseIndex:
    """Phrases of many ids, looked up by their first two letters."""

    _by_head: dict[str, list[tuple[Pattern, str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, table: Mapping[str, Iterable[str]]) -> PhraseIndex:
        """An index of `table` (id → forms); a form that cannot match is an error."""
        index = cls()
        for ident, forms in table.items():
            for form in forms:
                index.add(ident, form)
        return index

    def add(self, ident: str, form: str) -> None:
        """Add one form of `ident` (longer phrases are tried first)."""
        pattern = tuple(parse_term(form))
        bucket = self._by_head.setdefault(pattern[0][0][:2], [])
        bucket.append((pattern, ident))
        bucket.sort(key=lambda p: -len(p[0]))  # stable: equal lengths keep their order

    def find(self, words: Sequence[str], skip: Sequence[bool] | None = None) -> list[Hit]:
        """Non-overlapping hits, the longest at each place (the first added of equal length);
        words marked in `skip` are taken already."""
        hits: list[Hit] = []
        by_head, n, size = self._by_head, 0, len(words)
        while n < size:
            bucket = by_head.get(words[n][:2])
            if bucket is None or (skip is not None and skip[n]):
                n += 1
                continue
            for pattern, ident in bucket:
                end = n + len(pattern)
                if end <= size and _matches(pattern, words, n, skip):
                    hits.append(Hit(ident, n, end))
                    n = end
                    break
            else:
                n += 1
        return hits

    def find_kinds(self, words: Sequence[str]) -> dict[str, list[Hit]]:
        """For ids written "kind:name": per kind, what `find` would give over that kind's
        phrases alone (hits named by `name`), in one pass over the words."""
        out: dict[str, list[Hit]] = {}
        free: dict[str, int] = {}  # kind → first word its next hit may start on
        by_head = self._by_head
        for n, word in enumerate(words):
            bucket = by_head.get(word[:2])
            if bucket is None:
                continue
            found: set[str] = set()
            for pattern, ident in bucket:
                kind, _, name = ident.partition(":")
                if kind in found or free.get(kind, 0) > n:
                    continue
                end = n + len(pattern)
                if end <= len(words) and _matches(pattern, words, n, None):
                    out.setdefault(kind, []).append(Hit(name, n, end))
                    free[kind] = end
                    found.add(kind)
        return out


def _matches(pattern: Pattern, words: Sequence[str], n: int, skip: Sequence[bool] | None) -> bool:
    for k, (w, stem) in enumerate(pattern):
        word = words[n + k]
        if not (word.startswith(w) if stem else word == w):
            return False
        if skip is not None and skip[n + k]:
            return False
    return True
