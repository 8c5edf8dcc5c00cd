"""Text folding and tokenizing for topic matching: one comparable form for English, Russian,
Azerbaijani and Persian text.

Folding, per character, in this order:
1. Unicode NFKC (ligatures, full-width forms, Arabic presentation forms become plain letters);
2. Turkish/Azerbaijani dotted and dotless i: İ, I, ı and i all become "i" (Python's own
   `"İ".lower()` gives "i̇", and `"ı"` would never meet "i");
3. casefold, then NFKD and every combining mark dropped: é→e, ş→s, ç→c, ğ→g, ö→o, ü→u, ё→е,
   й→и, Arabic harakat and the madda/hamza of آ أ إ ؤ ئ are gone;
4. Persian and Arabic letter variants merge: ي ى→ی, ك→ک, ة ۀ ە→ه, ٱ→ا; Arabic-Indic and
   Persian digits become ASCII digits;
5. zero-width non-joiner and joiner, soft hyphen, tatweel and bidi marks are removed: they sit
   inside a word ("علی‌اف", "می‌شود") and must not split it.

Azerbaijani ə (Ə) is kept as its own letter: it has no Unicode decomposition, it is not an
accent on "e" or "a", and Azerbaijani text writes it consistently. Turkish or ASCII spellings
("Azerbaycan") are separate terms in the configuration.

Words are runs of letters and digits; everything else separates them. Hyphens and dashes split
words ("Iranian-Azerbaijani", "Tehran–Baku") but, like spaces and apostrophes, they are soft: a
multi-word phrase may span them. So is a full stop right after a single letter (initials:
"ج.ا.ا", the Persian abbreviation of the Islamic Republic of Iran). Any other punctuation is a
hard break that a phrase may not span.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

_DIGITS = {chr(0x0660 + d): str(d) for d in range(10)} | {
    chr(0x06F0 + d): str(d) for d in range(10)
}
_TURKISH_I = str.maketrans({"İ": "i", "I": "i", "ı": "i"})
_LETTER_VARIANTS = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh → Persian yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf → Persian keheh
        "ة": "ه",  # teh marbuta
        "ۀ": "ه",  # heh with yeh above (NFKD leaves ە)
        "ە": "ه",
        "ہ": "ه",
        "ھ": "ه",
        "ٱ": "ا",  # alef wasla
        **_DIGITS,
    }
)
# Invisible marks that live inside words.
_INVISIBLE = frozenset("\u200c\u200d\u00ad\u0640\u200e\u200f\u2060\ufeff")
_MARK_CATEGORIES = frozenset({"Mn", "Me"})

# A word run in the raw text: letters and digits (not "_"), plus the combining marks and
# invisible joiners that fold away, so that "علی‌اف" or a decomposed "İ" stays one run.
_RUN = re.compile(
    r"(?:[^\W_]|[\u0300-\u036f\u0483-\u0489\u0610-\u061a\u064b-\u065f\u0670"
    r"\u06d6-\u06ed\u200c\u200d\u00ad\u0640\u2060])+"
)
_NOT_WORD = re.compile(r"[\W_]+")
_APOSTROPHES = frozenset("'’ʼ‘`´")


# A memo of a pure function, not state: folding a configuration of thousands of terms (each term
# tokenized on its own, without a FoldCache) would otherwise redo unicodedata work per character.
@lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """Fold one character to its matching form (possibly empty, possibly several characters)."""
    s = unicodedata.normalize("NFKC", ch).translate(_TURKISH_I).casefold()
    s = unicodedata.normalize("NFKD", s)
    s = "".join(
        c for c in s if c not in _INVISIBLE and unicodedata.category(c) not in _MARK_CATEGORIES
    )
    # NFC recomposes what NFKD split that is not a mark (Hangul syllables).
    return unicodedata.normalize("NFC", s.translate(_LETTER_VARIANTS))


class FoldCache:
    """A per-owner memo of folded characters and words: a matcher keeps one so that common words
    are folded once. The word memo is emptied when it reaches `max_words`, to stay bounded."""

    def __init__(self, max_words: int = 50_000) -> None:
        self._chars: dict[str, str] = {}
        self._words: dict[str, str] = {}
        self._max_words = max_words

    def word(self, run: str) -> str:
        """The folded form of a run of word characters."""
        folded = self._words.get(run)
        if folded is None:
            chars = self._chars
            parts = []
            for c in run:
                f = chars.get(c)
                if f is None:
                    f = chars[c] = fold_char(c)
                parts.append(f)
            folded = "".join(parts)
            if len(self._words) >= self._max_words:
                self._words.clear()
            self._words[run] = folded
        return folded

    def pieces(self, run: str) -> tuple[str, ...]:
        """The folded words a run becomes as `tokenize` would make them: usually one, none when
        it folds away, several when compatibility folding leaves separators in it."""
        folded = self.word(run)
        if not folded:
            return ()
        if folded.isalnum():
            return (folded,)
        return tuple(p for p in _NOT_WORD.split(folded) if p)


class Token(NamedTuple):
    """A folded word and where it stands in the original text."""

    norm: str
    start: int  # offsets into the original text
    end: int
    gap: str  # the original separator text before this word ("" for the first word)
    joined: bool  # True when the gap is soft (spaces, hyphens, dashes, apostrophes)


def is_soft_gap(gap: str) -> bool:
    """True when a phrase may span this separator: only spaces, dashes, apostrophes, invisibles."""
    if gap == " ":
        return True
    for c in gap:
        if c.isspace() or c in _APOSTROPHES:
            continue
        category = unicodedata.category(c)
        if category not in ("Pd", "Cf"):
            return False
    return True


def tokenize(text: str, cache: FoldCache | None = None) -> tuple[Token, ...]:
    """Split text into folded words with their offsets; `cache` speeds up repeated calls."""
    fold = (FoldCache() if cache is None else cache).word
    tokens: list[Token] = []
    prev_end = 0
    for m in _RUN.finditer(text):
        start, end = m.span()
        folded = fold(m.group())
        if not folded:
            continue
        gap = text[prev_end:start] if tokens else ""
        if folded.isalnum():
            # A full stop right after a single letter joins initials ("ج.ا.ا", "U.S.A"): the
            # abbreviation is one name that a phrase may span.
            initial = gap == "." and len(tokens[-1].norm) == 1 if tokens else False
            tokens.append(Token(folded, start, end, gap, initial or is_soft_gap(gap)))
        else:
            # Rare: compatibility folding produced separators ("½" → "1⁄2"); the pieces share
            # the run's offsets and stay joined to each other.
            for n, piece in enumerate(p for p in _NOT_WORD.split(folded) if p):
                piece_gap = gap if n == 0 else ""
                tokens.append(Token(piece, start, end, piece_gap, is_soft_gap(piece_gap)))
        prev_end = end
    return tuple(tokens)


def runs(text: str) -> list[str]:
    """The raw word runs of text, in order: what `tokenize` folds, without offsets or gaps."""
    return _RUN.findall(text)


def normalize(text: str) -> str:
    """The matching form of text: its folded words joined by single spaces."""
    return " ".join(t.norm for t in tokenize(text))
