"""Lexicon phrases in folded words: the longest at each place, stems, words already taken."""

from __future__ import annotations

from bot.review.phrases import Hit, PhraseIndex
from bot.topics.folding import normalize


def _words(text: str) -> list[str]:
    return normalize(text).split()


def test_the_longest_phrase_wins_and_stems_meet_endings() -> None:
    index = PhraseIndex.of({"astara": ["Astara*"], "rasht-astara": ["Rasht Astara"]})
    assert index.find(_words("the Rasht-Astara railway near Astaras")) == [
        Hit("rasht-astara", 1, 3),
        Hit("astara", 5, 6),
    ]


def test_exact_words_do_not_meet_longer_ones() -> None:
    index = PhraseIndex.of({"call": ["call"]})
    assert index.find(_words("he called")) == []


def test_taken_words_are_skipped() -> None:
    index = PhraseIndex.of({"x": ["foreign minister"]})
    words = _words("foreign minister")
    assert index.find(words, [True, False]) == []
