"""Cleaning feed text into what readers and the topic filter see: one pure code path.

The pipeline (via `bot.feeds.parse`) and `python -m bot match` both call `clean_title` and
`clean_summary`, so an item reads the same in the running bot and on the command line (an
`&ndash;` is a dash in both, never a raw entity that splits a sentence differently).

- `plain_text`: HTML or text → one line of plain text (tags stripped, entities decoded even when
  double-encoded, whitespace collapsed).
- `fix_mojibake`: undo UTF-8 that was decoded as Windows-1252/1251 somewhere upstream.
- `strip_boilerplate`: drop the teaser furniture feeds append ("The post … appeared first on …",
  "Continue reading…", "[…]").
"""

from __future__ import annotations

import html
import re

MAX_HTML = 200_000  # characters cleaned per field: a bound on work, well past any real teaser

_HIDDEN_OPEN = re.compile(r"<(script|style|noscript|template)\b[^<>]*>?", re.I)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|section|article|header|"
    r"footer|figure|figcaption|pre|dd|dt|dl|img)\b[^<>]*>",
    re.I,
)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
_MARKUP_LEFT = re.compile(r"</?[A-Za-z!?][^<>]*>|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z]\w*);")
_INVISIBLE_CHARS = "\u00ad\u200b\u2060\ufeff"  # not ZWNJ (U+200C): Persian needs it
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")

# Feed furniture, one list for every use: `strip_boilerplate` removes it from the end of feed text
# (what is stored, matched and shown), and `bot.review.summary` drops the sentences that start with
# it. READ_MORE: the links that end a teaser; FOOTERS: what feed software appends ("The post …
# appeared first on …"), as (start, words further on); CUT_EXCERPT: the "[…]" of a cut excerpt.
# "See more" is left out: it ends ordinary sentences ("… expect to see more.").
READ_MORE = (
    "Continue reading", "Read more", "Read the full story", "Read the full article",
    "See the full story", "See the full article", "Click here",
    "Читать далее", "Читать полностью", "Подробнее",
    "Davamını oxu", "Ətraflı",
    "ادامه مطلب", "ادامه خبر", "بیشتر بخوانید",
)  # fmt: skip
FOOTERS = (("The post", "appeared first on"), ("Сообщение", "появились сначала на"))
CUT_EXCERPT = r"(?:…|\.\.\.)"
_READ_MORE = "|".join(re.escape(phrase) for phrase in READ_MORE)

# Each pattern with the lowercase words that must be in the text's tail before it is tried, so the
# regexes (slow on long text) only run where they can match, and its reach: how far from the end
# its words can start (None: anywhere in the tail). A pattern with a reach is searched only there,
# not from every position of the tail, and the match is then widened over the whitespace before
# it, which its leading `\s*` would have taken: the same match as a search of the whole tail.
_BOILERPLATE = (
    *(
        (
            (words.lower(),),
            None,
            re.compile(rf"\s*{start}\s.{{0,500}}?\s{words}\s.{{0,200}}$", re.I | re.S),
        )
        for start, words in FOOTERS
    ),
    (
        tuple(phrase.lower() for phrase in READ_MORE),
        # The longest phrase (21), up to 20 non-word characters, a space, 100 more and a newline.
        150,
        re.compile(rf"\s*(?:{_READ_MORE})\W{{0,20}}(?:\s.{{0,100}})?$", re.I | re.S),
    ),
    (("…", "..."), None, re.compile(rf"\s*[\[(]\s*{CUT_EXCERPT}\s*[\])]\s*$")),
)
BOILERPLATE_TAIL = 800  # characters at the end of a text where furniture is looked for

# Markers of UTF-8 text that was decoded with a single-byte codepage, by that codepage.
# A UTF-8 lead byte seen as a letter, then a continuation byte seen as a symbol or letter.
_CP1252_PAIR = "[\u00c2-\u00ef][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]"
_CP1251_PAIR = "[РС][\u0402-\u040f\u0450-\u045f\u0490\u0491\u2018-\u203a\u20ac\u2116\u00a0-\u00bb]"
_MOJIBAKE = (
    (("cp1252", "latin-1"), re.compile(_CP1252_PAIR)),
    (("cp1251",), re.compile(_CP1251_PAIR)),
)


def plain_text(markup: str, *, paragraphs: bool = False) -> str:
    """HTML or text → plain text: tags stripped, entities decoded (twice if need be), one line;
    with `paragraphs`, block tags and line breaks stay line breaks (one per paragraph)."""
    text = markup[:MAX_HTML]
    block = "\n" if paragraphs else " "
    for _ in range(3):  # a third round only for markup that was escaped twice
        text = _drop_hidden(_COMMENT.sub(" ", text))
        text = _TAG.sub("", _BLOCK_TAG.sub(block, text))
        text = html.unescape(text)
        if not _MARKUP_LEFT.search(text):
            break
    if any(char in text for char in _INVISIBLE_CHARS):
        text = _INVISIBLE.sub("", text)
    if paragraphs:
        lines = (" ".join(line.split()) for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return " ".join(text.split())


def _drop_hidden(text: str) -> str:
    """Remove script/style/noscript/template elements with their content, in one forward pass."""
    if "<" not in text or not _HIDDEN_OPEN.search(text):
        return text
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters (İ) grow when lowered; positions must agree
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    out: list[str] = []
    unclosed: set[str] = set()  # names with no closing tag further on: never search again
    pos = 0
    while match := _HIDDEN_OPEN.search(text, pos):
        out.append(text[pos : match.start()])
        name = match.group(1).lower()
        close = -1 if name in unclosed else lowered.find("</" + name, match.end())
        if close < 0:  # unclosed: drop only the opening tag
            unclosed.add(name)
            pos = match.end()
            continue
        end = text.find(">", close)
        pos = len(text) if end < 0 else end + 1
        out.append(" ")
    out.append(text[pos:])
    return "".join(out)


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 that was read as Windows-1252 or 1251, when the text shows the telltale pairs."""
    if text.isascii():
        return text
    for codecs, marker in _MOJIBAKE:
        if not marker.search(text):
            continue
        for codec in codecs:
            try:
                repaired = text.encode(codec).decode("utf-8")
            except UnicodeError:
                continue  # mixed with genuine text: leave it rather than guess
            if len(repaired) < len(text):
                return repaired
    return text


def strip_boilerplate(text: str) -> str:
    """Remove trailing feed furniture such as "The post … appeared first on …" and "[…]"."""
    for _ in range(3):  # an excerpt may end "[…] Continue reading → The post … appeared …"
        start = max(0, len(text) - BOILERPLATE_TAIL)
        tail = text[start:].lower()
        before = len(text)
        for needles, reach, pattern in _BOILERPLATE:
            if not any(needle in tail for needle in needles):
                continue
            if reach is None:
                match = pattern.search(text, start)
                if match:
                    text = text[: match.start()]
                continue
            match = pattern.search(text, max(start, len(text) - reach))
            if match:
                cut = match.start()
                while cut > start and text[cut - 1].isspace():
                    cut -= 1
                text = text[:cut]
        if len(text) == before:
            break
    return text.strip()


def clean_title(raw: str) -> str:
    """A feed title as the pipeline reads it: plain text, mojibake repaired."""
    return fix_mojibake(plain_text(raw))


def clean_summary(raw: str) -> str:
    """A feed summary as the pipeline reads it: plain text, mojibake repaired, furniture dropped."""
    return strip_boilerplate(fix_mojibake(plain_text(raw)))
