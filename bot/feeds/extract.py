"""An article page's main text: decode the HTML, then extract the title and paragraphs. No I/O.

Decoding, in order: a byte-order mark; UTF-8 when the bytes are valid UTF-8 (text in another
multi-byte-free charset almost never is, while saved and re-served pages often keep a stale
`charset=gb2312` label over UTF-8 bytes); the charset of the HTTP Content-Type header; a
`<meta charset>` or `<meta http-equiv="Content-Type">` in the first 4 kB; else Windows-1256
when the high bytes read as Persian or Arabic, Windows-1251 when they read as Cyrillic, or
Windows-1252. An unknown charset name falls through.

Extraction is trafilatura's, handed the decoded text (so it never fetches or guesses bytes
itself), with `favor_recall` (measured on real pages in benchmarks/extract.py: it keeps the
article's opening and closing paragraphs that the default drops), no comments, tables kept.
The title comes from the page's metadata. Nothing extracted, or too little prose to be an
article body (a paywall stub; a front page, whose lines are all headlines), gives None. CPU-bound: callers on the event loop run it
in a thread.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

import charset_normalizer
import trafilatura

from bot.feeds.charset import repair_cp1251

MIN_TEXT = 200  # characters of prose; less is a stub, a teaser or a page that is not an article
PROSE_CHARS = 80  # a paragraph this long is prose, not a headline, a menu entry or a date
PROSE_CJK = 30  # the same for Chinese and Japanese, which say more per character
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BLANK_LINES = re.compile(r"\n\s*\n+")
_WORD = re.compile(r"\w")

log = logging.getLogger(__name__)
# trafilatura logs pages it cannot use (too short, not HTML) at WARNING and ERROR; that verdict
# is ours to give, once, in our words.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class Article:
    """What a page yields: its title ("" when it has none) and the paragraphs of its main text."""

    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        """The paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)

    def render(self) -> str:
        """Title, a blank line, then the paragraphs separated by blank lines (`extract`'s output)."""
        return f"{self.title}\n\n{self.text}"


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The page's text: by BOM, as UTF-8 if valid, by HTTP header, meta tag, then by its bytes."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for declared in (_header_charset(content_type), _meta_charset(body)):
        codec = _codec(declared)
        if codec is not None:
            return body.decode(codec, "replace")
    # Persian first: Windows-1256 letters sit where Windows-1251's Cyrillic ones do.
    if _arabic_script(body):
        return body.decode("cp1256", "replace")
    repaired = repair_cp1251(body, None)
    if repaired is not None:
        return repaired.decode("utf-8", "replace")
    return body.decode("cp1252", "replace")


def _arabic_script(body: bytes) -> bool:
    """Whether unlabelled single-byte text reads as Persian/Arabic in Windows-1256.

    charset_normalizer (already installed with trafilatura) is asked only this one question: its
    general guesses confuse Latin code pages (French came out as Baltic), but Arabic script in
    Windows-1256 it tells apart reliably.
    """
    guess = charset_normalizer.from_bytes(body[:65536]).best()
    return guess is not None and guess.encoding in ("cp1256", "iso8859_6")


def extract_article(
    page: str, *, url: str | None = None, min_text: int = MIN_TEXT
) -> Article | None:
    """The title and main text of a decoded HTML page; None when it holds no article body."""
    try:
        text = _trafilatura_text(page, url)
    # A large third-party parser fed untrusted HTML: whatever it raises means "no article here",
    # never a lost poll (the pipeline falls back to the feed text).
    except Exception:
        log.debug("trafilatura failed on %s", url or "a page", exc_info=True)
        return None
    if not text or len(text.strip()) < min_text:
        return None
    paragraphs = [" ".join(p.split()) for p in _paragraphs(text)]
    try:
        title = _title(page, url)
    except Exception:  # as above: the title is optional
        title = ""
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        paragraphs.pop(0)  # trafilatura sometimes keeps the page's h1 as the first paragraph
    # Empty table rows come out as "| | |": keep only paragraphs that say something.
    paragraphs = [p for p in paragraphs if _WORD.search(p)]
    # A front page or a list of links comes out as many short lines and no prose at all.
    if sum(len(p) for p in paragraphs if _is_prose(p)) < min_text:
        return None
    return Article(title=title, paragraphs=tuple(paragraphs))


def _trafilatura_text(page: str, url: str | None) -> str | None:
    return trafilatura.extract(
        page,
        url=url,
        favor_recall=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
    )


def _is_prose(paragraph: str) -> bool:
    return len(paragraph) >= PROSE_CHARS or len(_CJK.findall(paragraph)) >= PROSE_CJK


def _paragraphs(text: str) -> list[str]:
    # trafilatura's plain text puts one paragraph per line (and sometimes a blank line between).
    return [line for block in _BLANK_LINES.split(text) for line in block.splitlines()]


def _title(page: str, url: str | None) -> str:
    metadata = trafilatura.extract_metadata(page, default_url=url)
    title = metadata.title if metadata is not None and metadata.title else ""
    return " ".join(str(title).split())


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    found = _HEADER_CHARSET.search(content_type)
    return found.group(1) if found else None


def _meta_charset(body: bytes) -> str | None:
    found = _META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii") if found else None


def _codec(name: str | None) -> str | None:
    """The Python codec for a charset label; None for unknown labels and UTF-16 without BOM."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # A page labelled UTF-16 but reached here has no BOM: the label is wrong (the meta tag was
    # readable as ASCII). Latin-1 labels mean Windows-1252 on the web (WHATWG Encoding).
    if codec.startswith("utf-16") or codec.startswith("utf-32"):
        return None
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec
