"""Repair Windows-1251 bytes served under a UTF-8 label, before feedparser decodes them. Pure.

Russian-language CMSs in the region sometimes emit Windows-1251 text while the HTTP header or the
XML declaration says UTF-8 (or says nothing, which in XML means UTF-8). feedparser then falls back
to Windows-1252 and every Cyrillic word comes out as Latin-1 gibberish. When the declared encoding
is UTF-8 or absent, the bytes are not valid UTF-8, and the invalid stretches read as Cyrillic
words under Windows-1251, those stretches (only those: a feed may mix both) are re-encoded as
UTF-8. Anything else is left for feedparser's own detection.
"""

from __future__ import annotations

import re

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]{1,40})", re.I)
_UTF8 = frozenset({"utf-8", "utf8"})
_ESCAPED_RUN = re.compile("[\udc80-\udcff]+")
# Windows-1251 letters: А–я (0xC0–0xFF), Ё/ё (0xA8/0xB8), Ukrainian/Belarusian extras.
_CP1251_LETTERS = frozenset(range(0xC0, 0x100)) | {0xA8, 0xB8, 0xAA, 0xBA, 0xAF, 0xBF, 0xB2, 0xB3}
MIN_LETTER_SHARE = 0.8
MIN_RUN = 2  # Cyrillic words are runs of high bytes; a lone é in Latin text is one byte


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset the HTTP header gives, else the one in the XML declaration, lowercased."""
    if content_type and (header := _CHARSET.search(content_type)):
        return header.group(1).lower()
    if prolog := _XML_DECL.match(body):
        return prolog.group(1).decode("ascii").lower()
    return None


def repair_cp1251(body: bytes, content_type: str | None) -> bytes | None:
    """The body with its Windows-1251 stretches made UTF-8, or None when that is not the case."""
    if body.startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in body[:4]:
        return None  # UTF-16 or UTF-32: feedparser reads those itself
    declared = declared_encoding(body, content_type)
    if declared is not None and declared not in _UTF8:
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return None
    text = body.decode("utf-8", "surrogateescape")
    runs = _ESCAPED_RUN.findall(text)
    raw = [bytes(ord(c) - 0xDC00 for c in run) for run in runs]
    total = sum(len(r) for r in raw)
    letters = sum(1 for r in raw if len(r) >= MIN_RUN for b in r if b in _CP1251_LETTERS)
    if total == 0 or letters / total < MIN_LETTER_SHARE:
        return None
    repaired = _ESCAPED_RUN.sub(
        lambda m: bytes(ord(c) - 0xDC00 for c in m.group()).decode("cp1251", "replace"), text
    )
    return repaired.encode("utf-8")
