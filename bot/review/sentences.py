"""Sentence splitting for English, Russian, Azerbaijani and Persian news text. Pure.

A small rule set rather than a model (nothing to download, and the well-kept splitters either
lack Azerbaijani and Persian or need a model per language). Rules, in order, for every run of
terminators (. ! ? … ؟ ۔ and "..."), with the closing quotes and brackets that follow it:

1. it must be followed by whitespace or the end of the text (so "1.5", "U.S.-Iran" and
   "example.com" never split; "3,2" has no terminator at all);
2. the next word must not start with a lower-case letter ("Is it?" he asked. — one sentence;
   "Wait… and see" — one sentence); Persian and other caseless scripts always may split;
3. a single "." after a known abbreviation (Dr., U.S., a.m., т.е., г., им., prof.) or an
   initial ("J. Smith", "В. Путин") does not split: `bot.text.cut.is_abbreviation`, the list
   that cutting messages to length uses too.

Line breaks between paragraphs always split. Whitespace inside a sentence is kept as written.
"""

from __future__ import annotations

import re

from bot.text.cut import OPENING, is_abbreviation

_TERMINATOR = re.compile(r"(?:\.{2,}|[.!?…؟۔‼⁇⁈⁉])+[\"'»”’)\]]*")
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
    while i < len(text) and (text[i].isspace() or text[i] in OPENING):
        i += 1
    if i >= len(text):
        return True
    return not text[i].islower()


def _is_abbreviation(text: str, dot: int, terminator: str) -> bool:
    """Rule 3: a lone "." ending a known abbreviation or an initial (`bot.text.cut`)."""
    return terminator.rstrip("\"'»”’)]") == "." and is_abbreviation(text, dot)
