"""How a word of a search query meets the words of stored text: folded, then stemmed.

Pure. Both sides are folded with the topic filter's own folding (`bot.topics.folding`: case,
Azerbaijani dotted and dotless i, Persian letter variants, zero-width non-joiners, accents), so
"Bakı", "BAKI" and "baki" are one word, and so are "علي" and "علی". Stored text is indexed as
those folded words, unstemmed. A query word is then stemmed, by its script, and looked up:

1. Cyrillic (Russian): one case or number ending is taken off ("граница" → "границ",
   "иранский" → "иранск", "мосты" → "мост"), and the rest is a prefix stem, so the nominative
   finds every other case ("границы", "границей", "иранского").
2. Latin: English plurals lose their ending ("bridges" → "bridge", "countries" → "countr");
   a word written with Azerbaijani letters (ə ı ğ ş ç ö ü) also loses one case suffix
   ("Bakıda" → "baki"); the rest is a prefix stem, so "körpü" finds "körpüsü", "körpünün".
3. Arabic script (Persian): the plural "ها"/"های" is taken off; the rest is a prefix stem.
4. A stem shorter than `MIN_PREFIX` letters would find half the dictionary as a prefix ("war"
   in "warsaw", "газ" in "газета"): it matches as a whole word, with its commonest inflected
   forms spelled out instead ("war", "wars"; "газ", "газа", "газом" …). Digits match whole.

Words inside a quoted phrase are stemmed the same way, but only their first form is used (the
backends cannot put alternatives inside a phrase).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.models import SearchWord
from bot.topics.folding import FoldCache

MIN_PREFIX = 4  # letters; a shorter stem is matched as whole words
_MIN_STEM = 3  # an ending is only taken off when this much is left

# Russian endings, longest first; й is folded to и, ё to е.
_RU_ENDINGS = (
    "иями", "ями", "ами", "ого", "его", "ому", "ему", "ыми", "ими", "иеи", "ией",
    "ых", "их", "ыи", "ии", "ои", "ая", "яя", "ое", "ее", "ые", "ие", "ую", "юю",
    "ов", "ев", "еи", "ам", "ям", "ах", "ях", "ом", "ем", "ою", "ею", "ью",
    "а", "я", "о", "е", "ы", "и", "у", "ю", "ь",
)  # fmt: skip
_RU_SHORT_FORMS = ("а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах")
# Azerbaijani case and plural suffixes as folded (ı→i, ş→s, ö→o, ü→u, ğ→g; ə stays).
_AZ_SUFFIXES = (
    "larin", "lərin", "lari", "ləri", "lar", "lər", "dan", "dən", "tan", "tən",
    "nin", "nun", "da", "də", "ta", "tə", "in", "un", "ya", "yə", "si", "su",
)  # fmt: skip
_AZ_LETTERS = frozenset("əƏıİğĞşŞçÇöÖüÜ")
_EN_SHORT_FORMS = ("s", "es")
_FA_PLURALS = ("های", "ها")
_FA_SHORT_FORMS = ("ها", "های", "ی")


def folder(max_words: int = 100_000) -> Callable[[str], str]:
    """A text's folded words joined by spaces (what the index stores), with a memo of its own.

    The same words as `bot.topics.folding.tokenize` gives (and the query parser uses), reached
    faster: ASCII punctuation becomes a space and the text is split on white space in C; each
    piece is folded once (`FoldCache.pieces` drops the invisible joiners and marks that sit in
    words and splits on any other punctuation), then remembered, as news repeats its words.
    """
    cache = FoldCache()
    memo: dict[str, str] = {}

    def fold(text: str) -> str:
        if text.isascii():  # most feed text: folding is lower case, words are alnum runs (in C)
            return b" ".join(text.encode("ascii").translate(_ASCII_FOLD).split()).decode("ascii")
        parts = []
        for piece in text.translate(_ASCII_PUNCTUATION).split():
            folded = memo.get(piece)
            if folded is None:
                if len(memo) >= max_words:
                    memo.clear()
                folded = memo[piece] = " ".join(cache.pieces(piece))
            if folded:
                parts.append(folded)
        return " ".join(parts)

    return fold


_ASCII_PUNCTUATION = str.maketrans({c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"})
# ASCII as folding sees it: a letter is its lower case (fold_char("I") is "i" too), a digit is
# itself, and every other character separates words (punctuation, controls, "_").
_ASCII_FOLD = bytes(ord(chr(c).lower()) if chr(c).isalnum() else 32 for c in range(256))


def script_of(word: str) -> str:
    """ "cyrillic", "arabic", "latin" or "other": the script of the word's first letter."""
    for ch in word:
        if not ch.isalpha():
            continue
        if "\u0400" <= ch <= "\u04ff":
            return "cyrillic"
        if "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f":
            return "arabic"
        if ch.isascii() or "\u00c0" <= ch <= "\u024f" or ch in "əƏ":
            return "latin"
        return "other"
    return "other"


def search_word(folded: str, raw: str = "") -> SearchWord:
    """The `SearchWord` of one folded query word; `raw` (as typed) tells Azerbaijani apart."""
    if folded.isdigit():
        return SearchWord((folded,))
    script = script_of(folded)
    short: tuple[str, ...]
    if script == "cyrillic":
        stem = _strip(folded, _RU_ENDINGS)
        short = _RU_SHORT_FORMS
    elif script == "arabic":
        stem = _strip(folded, _FA_PLURALS, keep=2)
        short = _FA_SHORT_FORMS
    elif script == "latin":
        azerbaijani = "ə" in folded or any(c in _AZ_LETTERS for c in raw)
        stem = _strip(folded, _AZ_SUFFIXES) if azerbaijani else _english_singular(folded)
        short = _EN_SHORT_FORMS
    else:
        return SearchWord((folded,))
    if len(stem) >= MIN_PREFIX or (script == "arabic" and len(stem) >= _MIN_STEM):
        return SearchWord((stem,), prefix=True)
    forms = dict.fromkeys([folded, stem, *(stem + end for end in short)])
    return SearchWord(tuple(forms))


def _strip(word: str, endings: tuple[str, ...], keep: int = _MIN_STEM) -> str:
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= keep:
            return word[: -len(ending)]
    return word


def _english_singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3]  # countries → countr, which also starts "country"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
