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
        bucket.sort(key=lambda p: -len(p[0]))

    def find(self, words: Sequence[str], skip: Sequence[bool] | None = None) -> list[Hit]:
        """Non-overlapping hits, the longest at each place; words marked in `skip` are taken."""
        hits: list[Hit] = []
        n, size = 0, len(words)
        while n < size:
            if skip is not None and skip[n]:
                n += 1
                continue
            hit = self._at(words, n, skip)
            if hit is None:
                n += 1
                continue
            hits.append(hit)
            n = hit.end
        return hits

    def _at(self, words: Sequence[str], n: int, skip: Sequence[bool] | None) -> Hit | None:
        for pattern, ident in self._by_head.get(words[n][:2], ()):
            end = n + len(pattern)
            if end > len(words):
                continue
            if skip is not None and any(skip[n:end]):
                continue
            if all(
                (words[n + k].startswith(w) if stem else words[n + k] == w)
                for k, (w, stem) in enumerate(pattern)
            ):
                return Hit(ident, n, end)
        return None
