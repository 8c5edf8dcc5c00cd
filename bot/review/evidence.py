"""What grouping compares: an item's word stems, names, numbers and link, worked out once.

Pure: values in, values out. Steps, in order, over "title. summary":
1. `bot.topics.folding.tokenize` folds words (case, accents, Persian letter variants, digits);
2. stop words and generic newsroom words (said, talks, minister …, in four languages) are
   dropped from the *content* stems, which say what happened;
3. a stem is a word's first five letters after the commonest English endings (-s, -ed, -ing) are
   taken off: crude, but it meets "summons"/"summoned" and "газа"/"газовый" halfway, and
   rewording keeps most stems;
4. names are words written with a capital letter that do not start a sentence (Persian has no
   capitals, so its words stay content stems); each also gets a `skeleton`, its consonants in
   Latin letters ("Pezeshkian", "Пезешкиан", "Pezeşkian" → "pzskn"), so a name can be met across
   Latin and Cyrillic script;
5. numbers are digit runs (Persian and Arabic digits are folded to ASCII first);
6. the link, without scheme, "www." and a trailing slash, identifies a syndicated copy.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.topics.folding import FoldCache, Token, normalize, tokenize

STEM_LEN = 5


def _folded(words: str, *, stems: bool) -> frozenset[str]:
    """A word list as the comparisons see it: folded (and stemmed, if `stems`)."""
    folded = normalize(words).split()
    return frozenset(stem(w) for w in folded) if stems else frozenset(folded)


_ENDINGS = ("ing", "ed", "es", "s")
_SENTENCE_GAP = re.compile(r"[.!?؟…:;\"«»“”]\s*$")
_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
        "и": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
        "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
        "щ": "sh", "ы": "y", "э": "e", "ю": "yu", "я": "ya", "ь": "", "ъ": "", "ə": "a",
        "q": "g", "x": "kh", "w": "v",
    }
)  # fmt: skip
_DIGRAPHS = (("kh", "h"), ("sh", "s"), ("ch", "c"), ("zh", "z"), ("gh", "g"), ("ts", "s"))
_VOWELS = re.compile(r"[aeiouyj]+")
_DOUBLES = re.compile(r"(.)\1+")
_URL_HEAD = re.compile(r"^[a-z]+://(www\.)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Evidence:
    """An item as grouping sees it."""

    content: frozenset[str]  # stems of the words that say what happened
    title_content: frozenset[str]  # the same, from the title alone
    names: frozenset[str]  # stems of capitalised words
    title_seq: tuple[str, ...]  # the title's folded words in order, for who did what to whom
    skeletons: frozenset[str]  # names in Latin consonants, to meet them across scripts
    numbers: frozenset[str]
    link: str | None
    script: str  # "latin" | "cyrillic" | "arabic" | "other": the writing of most letters
    lang: str | None  # the feed's language code, first part ("en", "ru", "az", "fa")
    published: datetime

    def same_language(self, other: Evidence) -> bool:
        """Written in one language: by the feeds' codes when both have one, else by script."""
        if self.lang and other.lang:
            return self.lang == other.lang
        return self.script == other.script

    @property
    def stems(self) -> frozenset[str]:
        """Every stem: content and names."""
        return self.content | self.names


def stem(word: str) -> str:
    """A word's stem: common English endings off, then its first `STEM_LEN` letters."""
    if word.isascii():
        for ending in _ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 4:
                word = word[: -len(ending)]
                break
    return word[:STEM_LEN]


# fmt: off
_STOP = _folded("""
the and for with from that this its his her has have had was were are but not will would into
over after about amid also than then they them their there which who what when where while of
on in at to by as an a or is be been being it he she we you our new more says said say
и в во на с со по к ко о об от до за из для что как это его ее их не но же а также был была
были будет при после между или он она они мы
və ilə bu bir üçün də da ki olan olub edib etdi haqqında arasında sonra görə kimi
و در به از که این با را برای آن است شد کرد های ها می تا بر هم یک شده کرده خود
""", stems=False)
# Words every report of this beat carries: they neither join nor part two events.
_GENERIC = _folded("""
minis offic repor state told accor sourc news agenc presi leade gover count natio forei
meet talk discu visit relat coope cooper secur devel issue side parti bilat week today
yesterday sunday monday tuesday wednesday thursday friday saturday minister official
reported statement according source agency president leader government country national
foreign meeting discussed relations cooperation security development
минис заяви сообщ глава прези прави встре перег обсуд визит отнош сотру сторо стран
nazir bildi prezi hökum görüş danış müzak ölkə tərəf əlaqə əməkd
وزیر گفت رئیس دولت دیدار گفتگو روابط همکا کشور
""", stems=True)
# fmt: on


def skeleton(word: str) -> str:
    """A name in Latin consonants: transliterated, digraphs merged, vowels and doubles dropped."""
    latin = word.replace("дж", "j").translate(_LATIN)
    for pair, single in _DIGRAPHS:
        latin = latin.replace(pair, single)
    return _DOUBLES.sub(r"\1", _VOWELS.sub("", latin))


def canonical_link(url: str | None) -> str | None:
    """The link compared across outlets: no scheme, no "www.", no trailing slash; None if empty."""
    if not url or not url.strip():
        return None
    return _URL_HEAD.sub("", url.strip()).rstrip("/").lower() or None


def script_of(text: str) -> str:
    """The script most letters of `text` are written in (Latin on a tie, or with no letters)."""
    if text.isascii():
        return "latin"  # every ASCII letter is Latin, and no letters at all is a tie
    counts = {"latin": 0, "cyrillic": 0, "arabic": 0, "other": 0}
    # Each distinct character is classified once, however often it occurs.
    for ch, times in Counter(text).items():
        if not ch.isalpha():
            continue
        code = ord(ch)
        if code < 0x250:
            counts["latin"] += times
        elif 0x400 <= code < 0x530:
            counts["cyrillic"] += times
        elif 0x600 <= code < 0x700 or 0xFB50 <= code < 0xFE00:
            counts["arabic"] += times
        else:
            counts["other"] += times
    return max(counts, key=counts.__getitem__)


def gather(
    title: str,
    summary: str,
    published: datetime,
    url: str | None,
    cache: FoldCache,
    lang: str | None = None,
    tokens: tuple[tuple[Token, ...], tuple[Token, ...]] | None = None,
) -> Evidence:
    """The evidence of one item (see the module docstring for the steps); `tokens` are the
    title's and the summary's words when the caller has them already."""
    if tokens is None:
        tokens = (tokenize(title, cache), tokenize(summary, cache))
    title_words = _words(title, tokens[0])
    summary_words = _words(summary, tokens[1])
    capitals = [cap for word, cap, _start in title_words if not word.isdigit()]
    # A Title Case headline capitalises every word: its capitals say nothing about names.
    title_case = len(capitals) >= 3 and sum(capitals) >= 0.6 * len(capitals)
    named = {w for w, cap, start in summary_words if cap and not start}
    named |= {w for w, cap, start in title_words if cap and not start and not title_case}
    content: set[str] = set()
    title_content: set[str] = set()
    names: set[str] = set()
    skeletons: set[str] = set()
    numbers: set[str] = set()
    for words, in_title in ((title_words, True), (summary_words, False)):
        # A word again adds nothing: each distinct word once, in order of first appearance (the
        # sets are then built in the same order, which keeps their iteration order).
        for word in dict.fromkeys(w for w, _cap, _start in words):
            if word.isdigit():
                numbers.add(word.lstrip("0") or "0")
            elif word in named:
                names.add(stem(word))
                if len(sk := skeleton(word)) >= 4:
                    skeletons.add(sk)
            elif (s := stem(word)) not in _GENERIC:
                content.add(s)
                if in_title:
                    title_content.add(s)
    return Evidence(
        content=frozenset(content - names),
        title_content=frozenset(title_content - names),
        names=frozenset(names),
        title_seq=tuple(w for w, _, _ in title_words if not w.isdigit()),
        skeletons=frozenset(skeletons),
        numbers=frozenset(numbers),
        link=canonical_link(url),
        script=script_of(title + " " + summary),
        lang=lang.split("-")[0].lower() if lang else None,
        published=published,
    )


def _words(text: str, tokens: tuple[Token, ...]) -> list[tuple[str, bool, bool]]:
    """(folded word, written with a capital, starts a sentence) of the words that count."""
    out = []
    for n, token in enumerate(tokens):
        word = token.norm
        if not word.isdigit() and (len(word) < 3 or word in _STOP):
            continue
        gap = token.gap  # a lone space, the common gap, never ends a sentence
        start = n == 0 or (gap != " " and _SENTENCE_GAP.search(gap) is not None)
        out.append((word, text[token.start].isupper(), start))
    return out
