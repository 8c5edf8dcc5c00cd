"""Cutting text to a length, and the abbreviations whose "." ends no sentence. Pure.

One copy of each, for everything that shortens text: `trim` (messages, listings, replies),
`cut_at_word` (the review summary's over-long lead sentence, and `trim` when no sentence end
fits) and `is_abbreviation` (`trim`'s sentence ends and `bot.review.sentences`' splitting).

`trim` tries, in order: the text as it is, when it fits; the last sentence end within the limit
that keeps at least half of it (not after an abbreviation or an initial); `cut_at_word`: the last
word end that keeps at least 30% of the room, else a hard cut that never splits a grapheme
(combining marks, emoji ZWJ sequences, flags); the last two end with "…".
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"
# Opening quotes and brackets: skipped before a word, so «Dr. and (U.S. read as Dr. and U.S.
OPENING = "\"'«“‘([¿¡"
# Casefolded words whose final "." does not end a sentence (the dot itself left out).
# fmt: off
ABBREVIATIONS = frozenset((
    # English
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "prof",
    "jr", "sr", "vs", "no", "nos", "inc", "ltd", "co", "corp", "dept", "approx", "est", "fig",
    "gov", "sen", "rep", "pres", "rev", "hon", "mt", "ft", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m",
    "p.m", "d.c", "vol", "pp",
    # Russian
    "г", "гг", "им", "т.е", "т.к", "т.н", "т.ч", "т.д", "т.п", "ул", "пр", "просп", "проф", "ген",
    "акад", "доц", "млн", "млрд", "тыс", "руб", "долл", "см", "стр", "рис", "илл", "обл", "р",
    "ст", "кв", "мин", "зам", "и.о", "напр", "гос", "н.э",
    # Azerbaijani
    "akad", "dos", "müəl", "mln", "mlrd", "min", "səh", "küç", "e.ə", "b.e",
))
# fmt: on
# Abbreviations that are also plain words: they hold a sentence together only before a number
# ("No. 5"), so "He said no. Then he left." still ends a sentence.
NUMBER_ABBREVIATIONS = frozenset(("no", "nos", "vol", "pp"))

_SENTENCE_MIN = 0.5  # a sentence end is used only if it keeps at least half the limit
_WORD_MIN = 0.3  # likewise for a word end; below this a hard cut loses less
# Stripped before an ellipsis: "word,…" and "(…" read badly.
_TRAILING = " \t\n,;:-–—/(«“‘\u200c\u200d"  # opening quotes only: a closing one ends a word
_CLOSING = "\"'»”’)]"
_SENTENCE_END = re.compile(r"[.!?…。！？؟۔]+[\"'»”’)\]]*(?=\s)")


def is_abbreviation(text: str, dot: int) -> bool:
    """True when the lone "." at `dot` ends a known abbreviation or an initial ("J. Smith",
    "В. Путин"), not a sentence; "No." and its kind only before a number."""
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip(OPENING).casefold()
    if len(word) == 1 and word.isalpha():
        return True  # an initial, or a one-letter abbreviation ("г.", "p.")
    if word in NUMBER_ABBREVIATIONS:
        return text[dot + 1 :].lstrip()[:1].isdigit()
    return word in ABBREVIATIONS


def trim(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters: at a sentence end, else a word end, else hard.

    Text that fits is returned unchanged. A cut at a sentence end keeps the punctuation and adds
    nothing; any other cut ends with "…". The result is always a prefix of `text` (plus "…"), and a
    hard cut never splits a grapheme: when the first grapheme alone is too long, the result is
    just "…".
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return cut_at_word(text, limit)
    sentence = _sentence_cut(text, limit)
    if sentence is not None:
        return text[:sentence]
    return cut_at_word(text, limit)


def cut_at_word(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word end (or, when that would keep too
    little, at a grapheme boundary), ending with "…"; unchanged when it fits."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    room = limit - 1  # for the ellipsis
    if room == 0:
        return ELLIPSIS
    word = _word_cut(text, room)
    if word is not None:
        head = text[:word].rstrip(_TRAILING)
        if head:
            return head + ELLIPSIS
    # Text without spaces (Chinese, Japanese, a long URL) has no word end to find; a cut
    # between graphemes is the next best thing.
    cut = _grapheme_cut(text, room)
    return (text[:cut].rstrip(_TRAILING) or text[:cut]) + ELLIPSIS


def _sentence_cut(text: str, limit: int) -> int | None:
    """End of the last sentence within `limit` characters, if it keeps enough of the text."""
    best = None
    for m in _SENTENCE_END.finditer(text, 0, limit + 1):
        if m.end() > limit:
            break
        if m.end() < limit * _SENTENCE_MIN:
            continue
        lone_dot = m.group().rstrip(_CLOSING) == "."
        if not (lone_dot and is_abbreviation(text, m.start())):
            best = m.end()
    return best


def _word_cut(text: str, room: int) -> int | None:
    """Index of the last whitespace at or before `room`, if it keeps enough of the text."""
    for i in range(min(room, len(text) - 1), 0, -1):
        if i < room * _WORD_MIN:
            return None
        if text[i].isspace():
            return i
    return None


def _grapheme_cut(text: str, cut: int) -> int:
    """Move a hard cut back to a grapheme boundary (0 when the first grapheme alone is too long)."""
    i = cut
    while i > 0 and _continues_cluster(text, i):
        i -= 1
    return i


def _continues_cluster(text: str, i: int) -> bool:
    """True when the character at `i` belongs to the grapheme that starts before it."""
    ch, prev = text[i], text[i - 1]
    if prev == "\u200d" or ch == "\u200d":
        return True
    code = ord(ch)
    if (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag sequences (subdivision flags)
    ):
        return True
    if _is_regional(ch) and _is_regional(prev):
        run = 0
        while i - run - 1 >= 0 and _is_regional(text[i - run - 1]):
            run += 1
        return run % 2 == 1  # an odd run before `i` means `ch` completes a flag
    return False


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF
