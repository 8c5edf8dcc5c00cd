"""Names the lexicon does not know, met across scripts by their consonants.

A name written in Latin, Cyrillic or Persian letters becomes one key: transliterated to Latin,
digraphs merged (kh, sh, ch, zh, gh, ts, dzh), then every vowel, "y", "v" and "w" dropped
(Persian writes most vowels not at all and "و" both as "v" and as "u"), doubled letters
merged: "Zafarghandi", "Зафарганди", "Zəfərqəndi" and "ظفرقندی" are all "zfrgnd"; "Anzali",
"Энзели" and "انزلی" are "nzl". Pure.
"""

from __future__ import annotations

import functools
import re

MIN_KEY = 3  # consonants: a shorter key meets too many other words

_TO_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
        "и": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
        "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
        "щ": "sh", "ы": "y", "э": "e", "ю": "yu", "я": "ya", "ь": "", "ъ": "", "ə": "a",
        "q": "g", "x": "kh", "w": "v",
        "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch", "ح": "h", "خ": "kh",
        "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh", "ص": "s",
        "ض": "z", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "gh", "ک": "k",
        "گ": "g", "ل": "l", "م": "m", "ن": "n", "و": "v", "ه": "h", "ی": "y", "ا": "a",
        "ء": "", "ئ": "",
    }
)  # fmt: skip
_DIGRAPHS = (("dzh", "j"), ("dj", "j"), ("kh", "h"), ("sh", "s"), ("ch", "c"), ("zh", "z"), ("gh", "g"), ("ts", "s"))  # fmt: skip
_SOFT = re.compile(r"[aeiouyvw]+")
_DOUBLES = re.compile(r"(.)\1+")


# A memo of a pure function (as `bot.topics.folding.fold_char`): the beat's words recur.
@functools.lru_cache(maxsize=65536)
def name_key(word: str) -> str:
    """A folded word's cross-script key ("" when it has no letters that count)."""
    latin = word.translate(_TO_LATIN)
    for pair, single in _DIGRAPHS:
        latin = latin.replace(pair, single)
    return _DOUBLES.sub(r"\1", _SOFT.sub("", latin))
