"""Validation problems in plain words, for people editing config files and JSON Lines.

Pydantic's locations lose their type tags ("id.str" → "id"), its common messages are reworded
("Input should be a valid string" → "must be text in quotes"), and a `[[sources]]` entry is named
by its id, else by its place ("source 'x2'", "source #3 (no id)"), never by an internal index.
`duplicates` finds ids and URLs given twice on the raw entries, so they are reported beside the
field errors. Pure: values in, text out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def entry_name(raw: Any, index: int) -> str:
    """How a problem names a [[sources]] entry: by its id, else by its place (counted from 1)."""
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return f"source '{raw['id'].strip()}'"
    return f"source #{index + 1} (no id)"


def duplicates(entries: list[Any], defaults: Mapping[str, Any], origin: str) -> list[str]:
    """Ids and URLs given twice, found on the raw entries: reported beside their field errors,
    not only once those are fixed."""
    problems: list[str] = []
    first_id: dict[str, int] = {}
    first_url: dict[str, int] = {}
    for index, raw in enumerate(entries):
        if not isinstance(raw, Mapping):
            continue
        merged = {**defaults, **raw}
        name = f"{origin}: {entry_name(raw, index)}"
        sid, url = merged.get("id"), merged.get("url")
        if isinstance(sid, str) and sid.strip():
            if sid.strip() in first_id:
                earlier = first_id[sid.strip()] + 1
                problems.append(f"{name}: id: used twice (source #{earlier} and #{index + 1})")
            first_id.setdefault(sid.strip(), index)
        if isinstance(url, str) and url.strip():
            if url.strip() in first_url:
                other = entry_name(entries[first_url[url.strip()]], first_url[url.strip()])
                problems.append(f"{name}: url: the same URL as {other}")
            first_url.setdefault(url.strip(), index)
    return problems


# Pydantic's error types in plain words (its own message otherwise, less its "Value error, ").
_PLAIN = {
    "string_type": "must be text in quotes",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "missing": "is missing",
    "extra_forbidden": "unknown field",
    "dict_type": "must be a table",
    "list_type": "must be a list",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "literal_error": "is not one of the allowed values",
}
# Patterns in plain words; a pattern not listed gets the generic wording.
_PATTERNS = {
    r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$": "lower-case letters and digits, joined by '-' or '_'",
    r"^[a-z0-9][a-z0-9_-]{0,63}$": "lower-case letters, digits, '-' or '_' (at most 64)",
}


def location(err: Mapping[str, Any]) -> str:
    """Where a pydantic error is, as dotted field names ("entry" for the whole entry)."""
    # Pydantic adds the type it tried ("str", "function-after[…]") to a location: not a field.
    parts = [str(p) for p in err["loc"] if not is_type_tag(p)]
    return ".".join(parts) or "entry"


def is_type_tag(part: Any) -> bool:
    """True for the type pydantic tried (\"str\", \"function-after[…]\"), which it puts in a location."""
    return isinstance(part, str) and (
        part in {"str", "int", "bool", "float", "none", "list", "dict"} or "[" in part
    )


def plain_message(err: Mapping[str, Any]) -> str:
    """A pydantic error in plain words."""
    kind = str(err["type"])
    ctx = err.get("ctx") or {}
    if kind == "literal_error" and "expected" in ctx:
        return f"must be one of {ctx['expected']}"
    if kind in _PLAIN:
        return _PLAIN[kind]
    if kind in {"string_too_short", "too_short"} and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "greater_than_equal" and "ge" in ctx:
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal" and "le" in ctx:
        return f"must be at most {ctx['le']}"
    if kind == "string_pattern_mismatch":
        allowed = _PATTERNS.get(str(ctx.get("pattern")))
        return f"must be {allowed}" if allowed else "has characters that are not allowed here"
    if kind == "string_too_long" and "max_length" in ctx:
        return f"is too long (at most {ctx['max_length']} characters)"
    return str(err["msg"]).removeprefix("Value error, ")
