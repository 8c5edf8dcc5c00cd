"""Telegram's HTML parse mode for the Bot API emulator: tags to plain text plus entities.

The parser follows tdlib's `parse_html` (td/telegram/MessageEntity.cpp) step by step, so its
errors carry Telegram's own wording and UTF-8 byte offsets, e.g.
`Unsupported start tag "script" at byte offset 0`. One deliberate difference: Telegram quietly
keeps an `&` that starts no entity, while the emulator (with `strict_ampersand`, the default)
rejects it, because Telegram's documentation requires every `&` to be escaped and our tests must
catch text that forgot to.

Lengths and entity offsets are in UTF-16 code units, as the Bot API counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_SPACES = frozenset(b" \t\r\n\v\0")  # tdlib's is_space counts the terminating NUL as space
_SURROGATES = range(0xD800, 0xE000)
_GT, _LT, _AMP, _SLASH, _EQ = 0x3E, 0x3C, 0x26, 0x2F, 0x3D


class HtmlParseError(ValueError):
    """Text that Telegram would refuse with "can't parse entities: <description>"."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(slots=True)
class _Open:
    tag: str
    argument: str
    offset: int  # UTF-16 offset in the output
    start: int  # index into the output characters, for <a> without href


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram's limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(data: bytes, pos: int) -> tuple[int, int] | None:
    """Decode the character reference at `pos` as tdlib does: (code point, next position)."""
    end = pos + 1
    value = 0
    if data[end] == ord("#"):
        end += 1
        hexadecimal = data[end] == ord("x")
        if hexadecimal:
            end += 1
        digits = b"0123456789abcdefABCDEF" if hexadecimal else b"0123456789"
        while data[end] in digits:
            value = value * (16 if hexadecimal else 10) + int(chr(data[end]), 16)
            end += 1
            if value >= 0x10FFFF:
                return None
        if value == 0 or end - pos >= 10:
            return None
    else:
        while chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(data[pos + 1 : end])
        if named is None:
            return None
        value = named
    if data[end] == ord(";"):
        end += 1
    return value, end


def _utf8_width(lead: int) -> int:
    if lead < 0x80:
        return 1
    if lead >= 0xF0:
        return 4
    return 3 if lead >= 0xE0 else 2


def _parse_start_tag(data: bytes, begin: int) -> tuple[str, str, int]:
    """Parse `<tag attr=value ...>` at `begin`: (tag name, argument, position of the `>`)."""
    i = begin + 1
    while data[i] not in _SPACES and data[i] != _GT:
        i += 1
    if data[i] == 0:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
    tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
    if tag not in ALLOWED_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
    argument = ""
    while data[i] != _GT:
        while data[i] != 0 and data[i] in _SPACES:
            i += 1
        if data[i] == _GT:
            break
        name_begin = i
        while data[i] not in _SPACES and data[i] not in (_EQ, _GT):
            i += 1
        name = data[name_begin:i].decode("utf-8", "replace")
        if not name:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while data[i] != 0 and data[i] in _SPACES:
            i += 1
        if data[i] != _EQ:
            if tag == "blockquote" and name == "expandable":
                argument = "1"  # the one attribute Telegram accepts without a value
                continue
            raise HtmlParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {begin}'
            )
        i += 1
        while data[i] != 0 and data[i] in _SPACES:
            i += 1
        if data[i] == 0:
            raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        value, i = _attribute_value(data, i)
        if data[i] == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        argument = _tag_argument(tag, name, value, argument)
    if tag == "span" and argument != "spoiler":
        raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    return tag, argument, i


def _attribute_value(data: bytes, i: int) -> tuple[str, int]:
    if data[i] not in b"'\"":
        # An unquoted value is an HTML name token, which is case-insensitive.
        start = i
        while chr(data[i]).isascii() and (chr(data[i]).isalnum() or data[i] in b".-"):
            i += 1
        if data[i] not in _SPACES and data[i] != _GT:
            raise HtmlParseError(f"Unexpected end of name token at byte offset {start}")
        return data[start:i].decode("ascii").lower(), i
    quote = data[i]
    i += 1
    out = bytearray()
    while data[i] != quote and data[i] != 0:
        if data[i] == _AMP and (decoded := _decode_entity(data, i)) is not None:
            out += chr(decoded[0]).encode("utf-8", "surrogatepass")
            i = decoded[1]
            continue
        out.append(data[i])
        i += 1
    if data[i] == quote:
        i += 1
    return out.decode("utf-8", "replace"), i


def _tag_argument(tag: str, name: str, value: str, current: str) -> str:
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    return current


def _close_entity(
    opened: _Open, length: int, chars: list[str], entities: list[dict[str, Any]]
) -> None:
    """Turn a closed tag into a Bot API MessageEntity dict (none for an empty span)."""
    if length == 0:
        return
    base = {"offset": opened.offset, "length": length}
    tag = opened.tag
    if tag in _SIMPLE_TYPES:
        entities.append({"type": _SIMPLE_TYPES[tag], **base})
    elif tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", **base, "custom_emoji_id": opened.argument})
    elif tag == "a":
        url = opened.argument or "".join(chars[opened.start :])
        if url.strip():
            entities.append({"type": "text_link", **base, "url": url})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, **base})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if last and _same_span(last, base) and last["type"] == "code" and "language" in last:
            entities[-1] = {**last, "type": "pre"}  # <pre><code class="language-x"> is one entity
        else:
            entities.append({"type": "pre", **base})
    else:  # code
        last = entities[-1] if entities else None
        if last and _same_span(last, base) and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
        else:
            entities.append({"type": "code", **base, **_language(opened.argument)})


def _same_span(entity: dict[str, Any], base: dict[str, Any]) -> bool:
    return bool(entity["offset"] == base["offset"] and entity["length"] == base["length"])


def _language(argument: str) -> dict[str, str]:
    return {"language": argument} if argument else {}


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, entities) or raise HtmlParseError as Telegram would."""
    data = text.encode("utf-8", "surrogatepass") + b"\0"  # tdlib reads a NUL-terminated string
    chars: list[str] = []
    offset = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while data[i] != 0:
        byte = data[i]
        if byte == _AMP:
            decoded = _decode_entity(data, i)
            if decoded is not None:
                if decoded[0] in _SURROGATES:
                    raise HtmlParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                char = chr(decoded[0])
                chars.append(char)
                offset += utf16_len(char)
                i = decoded[1]
                continue
            if strict_ampersand:
                raise HtmlParseError(f'Unescaped "&" at byte offset {i}: write &amp;')
        if byte != _LT:
            width = _utf8_width(byte)
            char = data[i : i + width].decode("utf-8", "surrogatepass")
            chars.append(char)
            offset += utf16_len(char)
            i += width
            continue
        begin = i
        if data[i + 1] != _SLASH:
            tag, argument, i = _parse_start_tag(data, begin)
            stack.append(_Open(tag, argument, offset, len(chars)))
        else:
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
            i = begin + 2
            while data[i] not in _SPACES and data[i] != _GT:
                i += 1
            end_name = data[begin + 2 : i].decode("utf-8", "replace").lower()
            while data[i] != 0 and data[i] in _SPACES:
                i += 1
            if data[i] != _GT:
                raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
            opened = stack[-1]
            if end_name and end_name != opened.tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", '
                    f'found "</{end_name}>"'
                )
            _close_entity(opened, offset - opened.offset, chars, entities)
            stack.pop()
        i += 1  # past the '>'
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(chars), entities


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping entities to match."""
    stripped = text.strip()
    if not stripped:
        return "", []
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    end = shift + utf16_len(stripped)
    kept = []
    for entity in entities:
        start, stop = max(entity["offset"], shift), min(entity["offset"] + entity["length"], end)
        if stop > start:
            kept.append({**entity, "offset": start - shift, "length": stop - start})
    return stripped, kept
