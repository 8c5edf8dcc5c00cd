"""Sentence splitting for English, Russian, Azerbaijani and Persian news text. Pure.

A small rule set rather than a model (nothing to download, and the well-kept splitters either
lack Azerbaijani and Persian or need a model per language). Rules, in order, for every run of
terminators (. ! ? … ؟ ۔ and "..."), with the closing quotes and brackets that follow it:

1. it must be followed by whitespace or the end of the text (so "1.5", "U.S.-Iran" and
   "example.com" never split; "3,2" has no terminator at all);
2. the next word must not start with a lower-case letter ("Is it?" he asked. — one sentence;
   "Wait… and see" — one sentence); Persian and other caseless scripts always may split;
3. a single "." after a known abbreviation (Dr., U.S., a.m., т.е., г., им., prof.) or an
   initial ("J. Smith", "В. Путин") does not split.

Line breaks between paragraphs always split. Whitespace inside a sentence is kept as written.
"""

from __future__ import annotations

import re

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
# ("No. 5"), so "He said no. Then he left." still splits.
NUMBER_ABBREVIATIONS = frozenset(("no", "nos", "vol", "pp"))

_TERMINATOR = re.compile(r"(?:\.{2,}|[.!?…؟۔‼⁇⁈⁉])+[\"'»”’)\]]*")
_OPENING = "\"'«“‘([¿¡"
_PARAGRAPH = re.compile(r"\s*\n\s*")


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order, each stripped; paragraphs (line breaks) always split."""
    out: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        out += _split_paragraph(paragraph.strip())
    return [s for s in out if s]


def _split_paragraph(text: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for m in _TERMINATOR.finditer(text):
        end = m.end()
        if end < len(text) and not text[end].isspace():
            continue  # rule 1
        if not _may_follow(text, end) or _is_abbreviation(text, m.start(), m.group()):
            continue
        sentences.append(text[start:end].strip())
        start = end
    sentences.append(text[start:].strip())
    return sentences


def _may_follow(text: str, end: int) -> bool:
    """Rule 2: the next word (past spaces and opening quotes) is not lower-case."""
    i = end
    while i < len(text) and (text[i].isspace() or text[i] in _OPENING):
        i += 1
    if i >= len(text):
        return True
    return not text[i].islower()


def _is_abbreviation(text: str, dot: int, terminator: str) -> bool:
    """Rule 3: a lone "." ending a known abbreviation or an initial."""
    if terminator.rstrip("\"'»”’)]") != ".":
        return False
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip(_OPENING).casefold()
    if len(word) == 1 and word.isalpha():
        return True  # an initial, or a one-letter abbreviation ("г.", "p.")
    if word in NUMBER_ABBREVIATIONS:
        return text[dot + 1 :].lstrip()[:1].isdigit()
    return word in ABBREVIATIONS
