"""Reading and validating topics.toml into `Topic` records, reporting every problem at once.

A topic's gazetteer is its `[[topics.entities]]` array (see `bot.topics.gazetteer`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from bot.errors import ConfigError
from bot.models import TermGroup, Topic
from bot.text.problems import is_type_tag, plain_message
from bot.topics.folding import normalize
from bot.topics.gazetteer import EntityModel, entity_checks, term_key
from bot.topics.matcher import JOINT, LIST, MASK, VETO, parse_term
from bot.topics.wordlists import KindVetoes, SalienceModel, kind_vetoes, wordlist_checks

_SLUG = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
_RESERVED_GROUPS = frozenset({MASK, VETO, LIST, JOINT})  # these name non-group hits in explanations


def _check_term(term: str) -> str:
    parse_term(term)  # its ValueError becomes a pydantic error at this element
    return term.strip()


Term = Annotated[str, AfterValidator(_check_term)]
Slug = Annotated[str, Field(pattern=_SLUG)]


class TopicModel(BaseModel):
    """One `[[topics]]` entry as written in topics.toml."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Slug
    name: Annotated[str, Field(min_length=1)]
    default: bool = True
    require: Annotated[list[str], Field(min_length=1)]
    groups: Annotated[dict[Slug, Annotated[list[Term], Field(min_length=1)]], Field(min_length=1)]
    masks: list[Term] = []
    vetoes: list[Term] = []
    list_terms: list[Term] = []
    list_min: Annotated[int, Field(ge=2)] = 3
    joint_terms: list[Term] = []
    entities: list[EntityModel] = []
    kind_vetoes: KindVetoes = {}
    salience: SalienceModel = SalienceModel()

    def to_topic(self) -> Topic:
        """The frozen record the matcher compiles."""
        return Topic(
            id=self.id,
            name=self.name,
            groups=tuple(TermGroup(name, tuple(terms)) for name, terms in self.groups.items()),
            require=tuple(self.require),
            masks=tuple(self.masks),
            vetoes=tuple(self.vetoes),
            list_terms=tuple(self.list_terms),
            list_min=self.list_min,
            default=self.default,
            joint_terms=tuple(self.joint_terms),
            entities=tuple(e.to_entity() for e in self.entities),
            kind_vetoes=kind_vetoes(self.kind_vetoes),
            salience=self.salience.to_salience(),
        )


def _where(loc: tuple[int | str, ...], raw: Mapping[str, Any], message: str) -> str:
    """A pydantic location in plain words: "entity 'socar', kind", "vetoes, item 2"."""
    key, path = None, list(loc)
    if "[key]" in path:  # the name of a table entry is wrong, not its value
        *path, key, _tag = path[: path.index("[key]") + 1]
    parts = [p for p in path if not is_type_tag(p)]
    words: list[str] = []
    if len(parts) > 1 and parts[0] == "entities" and isinstance(parts[1], int):
        words.append(entity_name(raw, parts[1]))
        parts = parts[2:]
    field = ".".join(str(p) for p in parts if not isinstance(p, int))
    if field:
        words.append(field)
    if key is not None:
        words.append(f"key {key!r}")
    index = next((p for p in reversed(parts) if isinstance(p, int)), None)
    if index is not None and not message.startswith("'"):  # a quoted term names itself
        words.append(f"item {index + 1}")
    return ", ".join(words) or "entry"


def topic_name(raw: Mapping[str, Any], index: int) -> str:
    """How a problem names a [[topics]] entry: by its id, else by its place (counted from 1)."""
    topic_id = raw.get("id")
    if isinstance(topic_id, str) and topic_id.strip():
        return f"topic {topic_id.strip()!r}"
    return f"topic #{index + 1} (no id)"


def entity_name(raw: Mapping[str, Any], index: int) -> str:
    """How a problem names entities[index] of a raw topic: "entity 'socar'"; "entity #2 'socar'"
    when another entry has that id too, "entity #3" when it has none."""
    entities = raw.get("entities")
    entities = entities if isinstance(entities, list) else []
    entry = entities[index] if 0 <= index < len(entities) else None
    entity_id = entry.get("id") if isinstance(entry, Mapping) else None
    if not isinstance(entity_id, str) or not entity_id.strip():
        return f"entity #{index + 1}"
    ids = [e.get("id") for e in entities if isinstance(e, Mapping)]
    if ids.count(entity_id) > 1:
        return f"entity #{index + 1} {entity_id!r}"
    return f"entity {entity_id!r}"


def _duplicates(values: list[Any]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for value in values:
        if not isinstance(value, str):
            continue
        key = normalize(value.replace("*", " *"))  # "Iran*" and "iran *" differ from "Iran"
        if key in seen and value not in dupes:
            dupes.append(value)
        seen.add(key)
    return dupes


def _cross_checks(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Checks across fields, run on the raw entry so they report even when a field is invalid."""
    problems: list[tuple[str, str]] = []
    groups = raw.get("groups")
    groups = groups if isinstance(groups, Mapping) else {}
    require = raw.get("require")
    if isinstance(require, list):
        for name in require:
            if isinstance(name, str) and name not in groups:
                problems.append(("require", f"names no group {name!r}"))
        for name in _duplicates(require):
            problems.append(("require", f"{name!r} is listed twice"))
    for name in groups:
        if name in _RESERVED_GROUPS:
            problems.append((f"groups.{name}", "this name is reserved"))
    where: dict[str, str] = {}
    for field in ("groups", "masks", "vetoes", "list_terms", "joint_terms"):
        lists = groups.items() if field == "groups" else [(None, raw.get(field))]
        for name, terms in lists:
            if not isinstance(terms, list):
                continue
            label = f"groups.{name}" if name is not None else field
            for term in _duplicates(terms):
                problems.append((label, f"duplicate term {term!r}"))
            if field != "groups":
                continue
            # One term in two groups would satisfy both with a single word.
            for term in terms:
                if isinstance(term, str):
                    key = normalize(term.replace("*", " *"))
                    if where.setdefault(key, label) != label:
                        problems.append((label, f"{term!r} is also in {where[key]}"))
    return problems


def _term_places(raw: Mapping[str, Any]) -> dict[str, str]:
    """Folded group term → "groups.NAME", for telling an entity form from a group term."""
    groups = raw.get("groups")
    out: dict[str, str] = {}
    for name, terms in groups.items() if isinstance(groups, Mapping) else ():
        for term in terms if isinstance(terms, list) else ():
            if isinstance(term, str):
                out.setdefault(term_key(term), f"groups.{name}")
    return out


def topics_from_data(data: Mapping[str, Any], origin: str) -> tuple[Topic, ...]:
    """Validate parsed topics.toml data; raise ConfigError listing every problem, with `origin`."""
    problems: list[str] = []
    entries = data.get("topics")
    unknown = sorted(set(data) - {"topics"})
    if unknown:
        problems.append(f"{origin}: unknown top-level key(s): {', '.join(unknown)}")
    if not isinstance(entries, list) or not entries:
        problems.append(f"{origin}: topics: at least one [[topics]] entry is required")
        raise ConfigError(problems)
    topics: list[Topic] = []
    seen_ids: dict[str, int] = {}
    for i, raw in enumerate(entries):
        if not isinstance(raw, Mapping):
            problems.append(f"{origin}: topic #{i + 1}: must be a table")
            continue
        head = f"{origin}: {topic_name(raw, i)}"
        found: list[tuple[str, str]] = []
        try:
            model = TopicModel.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                message = plain_message(err)
                found.append((_where(err["loc"], raw, message), message))
            model = None
        found += _cross_checks(raw)
        found += entity_checks(raw, _term_places(raw), entity_name)
        found += wordlist_checks(raw)
        topic_id = raw.get("id")
        if isinstance(topic_id, str):
            first = seen_ids.setdefault(topic_id, i)
            if first != i:
                found.append(("id", f"used twice (topic #{first + 1} and #{i + 1})"))
        problems += [f"{head}: {field}: {msg}" for field, msg in found]
        if model is not None and not found:
            topics.append(model.to_topic())
    if problems:
        raise ConfigError(problems)
    return tuple(topics)


def load_topics(path: Path) -> tuple[Topic, ...]:
    """Read and validate topics.toml; raise ConfigError listing every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8: {exc.reason} at byte {exc.start}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: TOML syntax error: {exc}"]) from exc
    return topics_from_data(data, str(path))
