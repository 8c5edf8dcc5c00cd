"""Defuse hostile feed bytes before an XML parser sees them. Pure: bytes in, bytes out.

feedparser 6 already strips the DOCTYPE it finds at the top of a document and keeps only entity
declarations it deems safe, and the stdlib expat reader neither loads external entities nor lets
an entity expand past its amplification limit. Three gaps remain, and this module closes them:

1. feedparser keeps any entity whose value has no `&`, however long. When expat then gives up on
   the document (its amplification limit, or any ill-formedness), feedparser's loose parser
   expands that entity itself with no limit: one 100 kB entity referenced 20,000 times takes
   gigabytes. We keep only short literal values (`MAX_ENTITY_VALUE` bytes) or one character
   reference.
2. feedparser only looks for the DOCTYPE before the first `<letter`, so a comment such as
   `<!-- <a> -->` in front hides it, and the whole internal subset goes to expat untouched. We find
   every DOCTYPE and stray ENTITY declaration outside comments and CDATA sections.
3. Nothing bounds the work: feedparser's cost grows with the number of tags (about 20 µs each,
   escaped markup in descriptions included), whatever their nesting, so a body is refused past
   `MAX_BODY_BYTES` or `MAX_MARKUP` tags. Nesting depth itself costs nothing extra: feedparser,
   expat and our text cleaning are all iterative, so a cap on tags bounds deep nesting too.

Each DOCTYPE is rewritten as `<!DOCTYPE name [safe entities]>`: external identifiers (SYSTEM,
PUBLIC) and parameter entities are dropped, except that a Netscape RSS 0.91 public identifier is
re-emitted in its standard form, since feedparser reads the version from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import ParseError

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_MARKUP = 200_000  # tags plus escaped tags; about 4 s of feedparser time at worst
MAX_ENTITY_VALUE = 32
MAX_ENTITIES = 256

_NETSCAPE = (
    b'PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
    b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"'
)
# Comments and CDATA are skipped whole, so a DOCTYPE quoted inside an item is left alone.
_SCAN = re.compile(
    rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<!(?:DOCTYPE|ENTITY)", re.S | re.I
)
_NAME = re.compile(rb"\s*([^\s\[>\"']*)")
_ENTITY = re.compile(rb"<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(\"[^\"]*\"|'[^']*')\s*>\Z", re.S)
# Regex jumps keep the walk at C speed on a multi-megabyte internal subset.
_DOCTYPE_STOP = re.compile(rb"[>\"'\[]")
_SUBSET_STOP = re.compile(rb"[\]<]")
_DECL_STOP = re.compile(rb"[>\"']")
_SAFE_VALUE = re.compile(rb"&#(?:x[0-9a-fA-F]{1,6}|[0-9]{1,7});|[^&%<\"']*")
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)
_WIDE = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)


@dataclass(frozen=True, slots=True)
class Defused:
    """The bytes to hand to the parser, and what was changed on the way."""

    body: bytes
    notes: tuple[str, ...] = ()


def defuse(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> Defused:
    """Check the size caps and rewrite every DOCTYPE and ENTITY declaration to a safe form."""
    if len(body) > max_bytes:
        raise ParseError(f"body too large: {len(body)} bytes, limit {max_bytes}")
    markup = body.count(b"<") + body.count(b"&lt;")
    if markup > MAX_MARKUP:
        raise ParseError(f"too much markup: {markup} tags, limit {MAX_MARKUP}")
    codec = _wide_codec(body)
    if codec is None:
        return _defuse_ascii_compatible(body)
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        return Defused(body)  # the parser will refuse it just the same
    inner = _defuse_ascii_compatible(text.encode("utf-8"))
    if not inner.notes:
        return Defused(body)
    return Defused(inner.body.decode("utf-8").encode(codec), inner.notes)


def _wide_codec(body: bytes) -> str | None:
    """UTF-16/32 hides `<!DOCTYPE` from a byte scan; name the codec so we can scan the text."""
    for prefix, codec in (*_BOMS, *_WIDE):
        if body.startswith(prefix):
            return codec
    return None


def _defuse_ascii_compatible(body: bytes) -> Defused:
    lowered = body.lower()  # a C-speed copy: most feeds have no declaration at all
    if b"<!doctype" not in lowered and b"<!entity" not in lowered:
        return Defused(body)
    out: list[bytes] = []
    notes: list[str] = []
    pos = scan = 0
    while (match := _SCAN.search(body, scan)) is not None:
        token = match.group()
        scan = match.end()
        if token.startswith((b"<![", b"<!-")):
            continue
        start = match.start()
        out.append(body[pos:start])
        if token[2:].upper() == b"DOCTYPE":
            end, replacement, dropped = _rewrite_doctype(body, match.end())
            if dropped:
                notes.append(f"dropped {dropped} unsafe DTD declaration(s)")
        else:
            end = _declaration_end(body, start)
            replacement = b""
            notes.append("dropped an ENTITY declaration outside the DOCTYPE")
        out.append(replacement)
        pos = scan = end
    if not out:
        return Defused(body)
    out.append(body[pos:])
    return Defused(b"".join(out), tuple(dict.fromkeys(notes)))


def _rewrite_doctype(body: bytes, pos: int) -> tuple[int, bytes, int]:
    """Return (end of the DOCTYPE, its safe replacement, how many declarations were dropped)."""
    name_match = _NAME.match(body, pos)
    name = name_match.group(1)[:64] if name_match else b""
    cursor = name_match.end() if name_match else pos
    external = bytearray()
    subset: list[bytes] = []
    while cursor < len(body):
        stop = _DOCTYPE_STOP.search(body, cursor)
        if stop is None:
            external += body[cursor:]
            cursor = len(body)
            break
        external += body[cursor : stop.start()]
        cursor = stop.start()
        char = stop.group()
        if char == b">":
            cursor += 1
            break
        if char == b"[":
            cursor, subset = _internal_subset(body, cursor + 1)
        else:
            close = body.find(char, cursor + 1)
            close = len(body) if close < 0 else close
            external += body[cursor : close + 1]
            cursor = close + 1
    kept: list[bytes] = []
    for decl in subset:
        entity = _ENTITY.match(decl)
        if entity and len(kept) < MAX_ENTITIES:
            value = entity.group(2)[1:-1]
            if len(value) <= MAX_ENTITY_VALUE and _SAFE_VALUE.fullmatch(value):
                kept.append(b'<!ENTITY %s "%s">' % (entity.group(1), value))
    dropped = len(subset) - len(kept)
    if external.strip() and b"netscape" not in external.lower():
        dropped += 1
    head = b"\n<!DOCTYPE " + (name or b"rss")
    if b"netscape" in external.lower():
        head += b" " + _NETSCAPE
    if kept:
        # One declaration per line: feedparser's own DOCTYPE handling reads them line by line.
        head += b" [\n" + b"\n".join(kept) + b"\n]"
    return cursor, head + b">", dropped


def _internal_subset(body: bytes, pos: int) -> tuple[int, list[bytes]]:
    """Walk `[ ... ]` from pos; return the position after `]` and the markup declarations seen."""
    decls: list[bytes] = []
    while True:
        stop = _SUBSET_STOP.search(body, pos)
        if stop is None:
            return len(body), decls
        pos = stop.start()
        if stop.group() == b"]":
            return pos + 1, decls
        if body.startswith(b"<!--", pos):
            close = body.find(b"-->", pos + 4)
            pos = len(body) if close < 0 else close + 3
        elif body.startswith(b"<?", pos):
            close = body.find(b"?>", pos + 2)
            pos = len(body) if close < 0 else close + 2
        elif body.startswith(b"<!", pos):
            end = _declaration_end(body, pos)
            decls.append(body[pos:end])
            pos = end
        else:
            pos += 1


def _declaration_end(body: bytes, pos: int) -> int:
    """Position after the `>` that closes the declaration at pos, skipping quoted literals."""
    while True:
        stop = _DECL_STOP.search(body, pos)
        if stop is None:
            return len(body)
        if stop.group() == b">":
            return stop.end()
        close = body.find(stop.group(), stop.end())
        if close < 0:
            return len(body)
        pos = close + 1
