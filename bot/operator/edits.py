"""Operator edits: one frozen record per action, and applying one to the raw config data (pure).

`ConfigData` holds what `tomllib` reads from sources.toml and topics.toml. `apply_edit` returns new
data with the edit applied (its input is never changed) or raises `ConfigError` with the reason:

- strict (a new edit): an edit that would change nothing is refused ("already paused"), so every
  stored edit is a real change that `undo` can revert;
- lenient (stored edits replayed over the files): an edit whose goal the files already meet is a
  no-op; one that can no longer apply (its source, topic or group is gone, or the files now define
  its id or URL differently) raises, and the caller skips it as stale.
Validating the result with the rules of the files is the caller's job (`bot.operator.live`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from bot.errors import ConfigError
from bot.text.durations import format_duration, parse_duration
from bot.topics.folding import normalize


@dataclass(frozen=True, slots=True)
class AddSource:
    """Poll a new source; `name` None: its own title, else the id; `extra`: e.g. type, selectors."""

    id: str
    url: str
    name: str | None = None
    extra: dict[str, Any] | None = None  # more fields of the entry, validated like the files'


@dataclass(frozen=True, slots=True)
class RemoveSource:
    """Stop polling a source and forget its entry."""

    id: str


@dataclass(frozen=True, slots=True)
class PauseSource:
    """Keep a source configured but stop polling it (enabled = false)."""

    id: str


@dataclass(frozen=True, slots=True)
class ResumeSource:
    """Poll a paused source again."""

    id: str


@dataclass(frozen=True, slots=True)
class SetInterval:
    """Poll a source every `seconds`."""

    id: str
    seconds: int


@dataclass(frozen=True, slots=True)
class SetArticle:
    """When to fetch the article page of a source's flagged items: "never", "short", "always"."""

    id: str
    mode: str


@dataclass(frozen=True, slots=True)
class AddTerm:
    """Add a term to a group of a topic."""

    topic: str
    group: str
    term: str


@dataclass(frozen=True, slots=True)
class RemoveTerm:
    """Remove a term from a group of a topic."""

    topic: str
    group: str
    term: str


@dataclass(frozen=True, slots=True)
class AddMask:
    """Add a phrase taken out of the text before a topic's terms are matched."""

    topic: str
    phrase: str


@dataclass(frozen=True, slots=True)
class RemoveMask:
    """Remove a mask phrase from a topic."""

    topic: str
    phrase: str


@dataclass(frozen=True, slots=True)
class AddVeto:
    """Add a term whose presence stops a topic from matching."""

    topic: str
    term: str


@dataclass(frozen=True, slots=True)
class RemoveVeto:
    """Remove a veto term from a topic."""

    topic: str
    term: str


Edit = (
    AddSource
    | RemoveSource
    | PauseSource
    | ResumeSource
    | SetInterval
    | SetArticle
    | AddTerm
    | RemoveTerm
    | AddMask
    | RemoveMask
    | AddVeto
    | RemoveVeto
)

_SourceEdit = AddSource | RemoveSource | PauseSource | ResumeSource | SetInterval | SetArticle
_TopicEdit = AddTerm | RemoveTerm | AddMask | RemoveMask | AddVeto | RemoveVeto


KINDS: dict[str, type[Edit]] = {
    "addsource": AddSource,
    "removesource": RemoveSource,
    "pause": PauseSource,
    "resume": ResumeSource,
    "interval": SetInterval,
    "article": SetArticle,
    "addterm": AddTerm,
    "removeterm": RemoveTerm,
    "addmask": AddMask,
    "removemask": RemoveMask,
    "addveto": AddVeto,
    "removeveto": RemoveVeto,
}
_KIND_OF = {cls: kind for kind, cls in KINDS.items()}


@dataclass(frozen=True, slots=True)
class ConfigData:
    """The parsed contents of sources.toml and topics.toml (plain dicts and lists)."""

    sources: Mapping[str, Any]
    topics: Mapping[str, Any]


def action(edit: Edit) -> str:
    """The command name of an edit: "addterm", "pause", …"""
    return _KIND_OF[type(edit)]


def to_json(edit: Edit) -> dict[str, Any]:
    """The edit as JSON-ready data, for the database."""
    return {"kind": action(edit), **asdict(edit)}


def from_json(data: Mapping[str, Any]) -> Edit:
    """The edit stored by `to_json`; ValueError when it is not one."""
    cls = KINDS.get(str(data.get("kind")))
    if cls is None:
        raise ValueError(f"unknown edit kind {data.get('kind')!r}")
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise ValueError(f"malformed {data.get('kind')} edit: {exc}") from exc


def target(edit: Edit) -> str:
    """What the edit changes: "source caliber-az", "azerbaijan-iran/azerbaijan", "…/masks"."""
    if isinstance(edit, _SourceEdit):
        return f"source {edit.id}"
    match edit:
        case AddTerm() | RemoveTerm():
            return f"{edit.topic}/{edit.group}"
        case AddMask() | RemoveMask():
            return f"{edit.topic}/masks"
        case AddVeto() | RemoveVeto():
            return f"{edit.topic}/vetoes"


def describe(edit: Edit) -> str:
    """One line for people: "add term 'Baku' to azerbaijan-iran/azerbaijan"."""
    match edit:
        case AddSource():
            return f"add source '{edit.id}' ({edit.url})"
        case RemoveSource():
            return f"remove source '{edit.id}'"
        case PauseSource():
            return f"pause source '{edit.id}'"
        case ResumeSource():
            return f"resume source '{edit.id}'"
        case SetInterval():
            return f"set the interval of source '{edit.id}' to {format_duration(edit.seconds)}"
        case SetArticle():
            return f"set article fetching of source '{edit.id}' to {edit.mode}"
        case AddTerm():
            return f"add term '{edit.term}' to {target(edit)}"
        case RemoveTerm():
            return f"remove term '{edit.term}' from {target(edit)}"
        case AddMask():
            return f"add mask '{edit.phrase}' to {edit.topic}"
        case RemoveMask():
            return f"remove mask '{edit.phrase}' from {edit.topic}"
        case AddVeto():
            return f"add veto '{edit.term}' to {edit.topic}"
        case RemoveVeto():
            return f"remove veto '{edit.term}' from {edit.topic}"


def snapshot(data: ConfigData, edit: Edit) -> Any:
    """What the edit's target looks like in `data`, for the audit trail (JSON-ready; None: absent)."""
    if isinstance(edit, _SourceEdit):
        entry = _find_source(data.sources, edit.id)
        if entry is None:
            return None
        defaults = data.sources.get("defaults", {})
        return {"enabled": True, **(defaults if isinstance(defaults, Mapping) else {}), **entry}
    topic = _find_topic(data.topics, edit.topic)
    if topic is None:
        return None
    if isinstance(edit, AddTerm | RemoveTerm):
        terms = _groups(topic).get(edit.group)
        return list(terms) if isinstance(terms, list) else None
    field = "masks" if isinstance(edit, AddMask | RemoveMask) else "vetoes"
    value = topic.get(field, [])
    return list(value) if isinstance(value, list) else None


def apply_edit(data: ConfigData, edit: Edit, *, strict: bool = True) -> ConfigData:
    """`data` with the edit applied; ConfigError saying why when it cannot (or, strict, need not)."""
    sources = copy.deepcopy(dict(data.sources))
    topics = copy.deepcopy(dict(data.topics))
    if isinstance(edit, _SourceEdit):
        _edit_sources(sources, edit, strict)
    else:
        _edit_topics(topics, edit, strict)
    return ConfigData(sources=sources, topics=topics)


def _fail(reason: str) -> ConfigError:
    return ConfigError([reason])


def _find_source(data: Mapping[str, Any], source_id: str) -> dict[str, Any] | None:
    entries = data.get("sources", [])
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("id") == source_id:
            return entry
    return None


def url_key(url: str) -> str:
    """A URL as compared for duplicates: scheme and host case-insensitive, no trailing slash."""
    parts = urlsplit(url.strip())
    rest = url.strip()[len(parts.scheme) + 3 + len(parts.netloc) :]
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{rest}".rstrip("/")


def _edit_sources(data: dict[str, Any], edit: _SourceEdit, strict: bool) -> None:
    entries = data.setdefault("sources", [])
    entry = _find_source(data, edit.id)
    defaults = data.get("defaults", {})
    merged = {**(defaults if isinstance(defaults, Mapping) else {}), **(entry or {})}
    match edit:
        case AddSource():
            _add_source(entries, entry, edit, strict)
        case RemoveSource():
            if entry is not None:
                entries.remove(entry)
            elif strict:
                raise _fail(f"there is no source '{edit.id}'")
        case PauseSource() | ResumeSource():
            if entry is None:
                raise _fail(f"there is no source '{edit.id}'")
            wanted = isinstance(edit, ResumeSource)
            if bool(merged.get("enabled", True)) == wanted:
                if strict:
                    state = "running" if wanted else "paused"
                    raise _fail(f"source '{edit.id}' is already {state}")
                return
            entry["enabled"] = wanted
        case SetInterval():
            if entry is None:
                raise _fail(f"there is no source '{edit.id}'")
            try:
                same = parse_duration(str(merged.get("interval", ""))) == edit.seconds
            except ValueError:
                same = False
            if same:
                if strict:
                    raise _fail(
                        f"source '{edit.id}' is already polled every "
                        f"{format_duration(edit.seconds)}"
                    )
                return
            entry["interval"] = format_duration(edit.seconds)
        case SetArticle():
            if entry is None:
                raise _fail(f"there is no source '{edit.id}'")
            if edit.mode not in ("never", "short", "always"):
                raise _fail(f"unknown mode '{edit.mode}': use never, short or always")
            if str(merged.get("fetch_article", "short")) == edit.mode:
                if strict:
                    raise _fail(f"source '{edit.id}' already fetches articles: {edit.mode}")
                return
            entry["fetch_article"] = edit.mode


def _add_source(
    entries: list[Any], entry: dict[str, Any] | None, edit: AddSource, strict: bool
) -> None:
    key = url_key(edit.url)
    if entry is not None:
        if not strict and url_key(str(entry.get("url", ""))) == key:
            return  # the files now hold this very source
        raise _fail(f"duplicate id: source '{edit.id}' already exists ({entry.get('url')})")
    for other in entries:
        if isinstance(other, dict) and url_key(str(other.get("url", ""))) == key:
            raise _fail(f"duplicate URL: source '{other.get('id')}' already polls {edit.url}")
    name, extra = (edit.name or "").strip() or edit.id, edit.extra or {}
    entries.append({"id": edit.id.strip(), "name": name, "url": edit.url.strip(), **extra})


def _find_topic(data: Mapping[str, Any], topic_id: str) -> dict[str, Any] | None:
    entries = data.get("topics", [])
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("id") == topic_id:
            return entry
    return None


def _groups(topic: Mapping[str, Any]) -> dict[str, Any]:
    groups = topic.get("groups", {})
    return groups if isinstance(groups, dict) else {}


def _fold(term: str) -> str:
    # As topics.toml's duplicate check folds: "Iran*" and "iran *" differ from "Iran".
    return normalize(term.replace("*", " *"))


def _edit_topics(data: dict[str, Any], edit: _TopicEdit, strict: bool) -> None:
    adding = isinstance(edit, AddTerm | AddMask | AddVeto)
    topic = _find_topic(data, edit.topic)
    if topic is None:
        if adding or strict:
            known = ", ".join(
                str(t.get("id")) for t in data.get("topics", []) if isinstance(t, dict)
            )
            raise _fail(f"there is no topic '{edit.topic}'; topics: {known}")
        return  # the topic is gone, and its terms with it
    if isinstance(edit, AddTerm | RemoveTerm):
        groups = _groups(topic)
        terms = groups.get(edit.group)
        if not isinstance(terms, list):
            if adding or strict:
                raise _fail(
                    f"topic '{edit.topic}' has no group '{edit.group}'; "
                    f"its groups: {', '.join(groups)}"
                )
            return
        term, label = edit.term.strip(), f"{edit.topic}/{edit.group}"
    else:
        field = "masks" if isinstance(edit, AddMask | RemoveMask) else "vetoes"
        current = topic.setdefault(field, [])
        terms = current if isinstance(current, list) else []
        term = (edit.phrase if isinstance(edit, AddMask | RemoveMask) else edit.term).strip()
        label = f"the {field} of {edit.topic}"
    if not term:
        raise _fail("the term is empty")
    present = [t for t in terms if isinstance(t, str) and _fold(t) == _fold(term)]
    if adding:
        if present:
            if strict:
                spelled = f" (as '{present[0]}')" if present[0] != term else ""
                raise _fail(f"'{term}' is already in {label}{spelled}")
            return
        terms.append(term)
    elif present:
        terms.remove(present[0])
    elif strict:
        raise _fail(f"'{term}' is not in {label}")
