"""Enumerations and sentences in tokenized text: which list names form one run, where a sentence
ends. Used by the matcher's enumeration discount (rule 5 of `bot.topics.matcher`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from bot.topics.folding import Token

# Words that join the names of an enumeration, in the bot's languages; the rest of a gap
# between two names may hold only commas, "&" and spaces.
JOINERS = frozenset({"and", "or", "и", "или", "а", "также", "və", "ve", "ya", "yaxud", "و", "یا"})
_LIST_PUNCT = frozenset(",،、&")
# A gap holding one of these ends a sentence; "." only with a space after it, so that "U.S" or
# "3.5" do not. A joint term must stand in the enumeration's own sentence: "Farms in Iran,
# Azerbaijan and Russia cannot keep up. Russia signed a deal with Egypt." stays a roundup.
_SENTENCE_END = frozenset("!?;…؟|\n")


class Span(Protocol):
    """A found name: its token bounds, end exclusive."""

    @property
    def first(self) -> int: ...
    @property
    def last(self) -> int: ...


S = TypeVar("S", bound=Span)


def joins(tokens: Sequence[Token], end: int, start: int) -> bool:
    """True when tokens[end:start] and the gaps around them join two names of a list."""
    words = [t.norm for t in tokens[end:start]]
    if any(w not in JOINERS for w in words):
        return False
    gaps = "".join(t.gap for t in tokens[end : start + 1])
    if any(not c.isspace() and c not in _LIST_PUNCT for c in gaps):
        return False
    return bool(words) or any(c in _LIST_PUNCT for c in gaps)


def enumerations(
    found: Sequence[S], tokens: Sequence[Token], list_min: int
) -> list[tuple[int, int, list[S]]]:
    """Runs of at least `list_min` list names: (first token, end token, the names)."""
    names = sorted(found, key=lambda f: (f.first, -f.last))
    runs: list[list[S]] = []
    for f in names:
        if runs and f.first < runs[-1][-1].last:  # overlaps the previous name: one name
            continue
        if runs and joins(tokens, runs[-1][-1].last, f.first):
            runs[-1].append(f)
        else:
            runs.append([f])
    return [(r[0].first, r[-1].last, r) for r in runs if len(r) >= list_min]


def breaks_sentence(gap: str) -> bool:
    """True when a gap between two words ends a sentence."""
    if gap == " ":
        return False  # most gaps: a single space
    if any(c in _SENTENCE_END for c in gap):
        return True
    dot = gap.find(".")
    return dot >= 0 and any(c.isspace() for c in gap[dot:])


def sentence(tokens: Sequence[Token], first: int, last: int) -> tuple[int, int]:
    """Token bounds (end exclusive) of the sentence that holds tokens[first:last]."""
    start = first
    while start > 0 and not breaks_sentence(tokens[start].gap):
        start -= 1
    end = last
    while end < len(tokens) and not breaks_sentence(tokens[end].gap):
        end += 1
    return start, end
