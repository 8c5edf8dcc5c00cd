"""A topic's gazetteer: the `[[topics.entities]]` of topics.toml, validated into `Entity` records.

Each entity is an institution, person, place or project that stands for a state:

    [[topics.entities]]
    id = "socar"                 # unique within the topic: a-z, 0-9, "-" or "_"
    kind = "institution"         # institution | person | place | project | epithet
    state = "azerbaijan"         # a group of the topic, or a list of groups (shared things)
    counts = "alone"             # alone | with-other (default: alone)
    forms = ["SOCAR", "ГНКАР", "ARDNŞ", "سوکار"]   # terms, in any language, `*` stems allowed

A form matches like a group term and counts for the entity's group(s). `counts = "with-other"`
(border crossings, shared projects) makes a hit count only when another required group has a
hit of its own. A form may not repeat a group term or another entity's form (two spellings that
fold alike are the same form), so every word is evidence of one thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.models import Entity
from bot.topics.folding import normalize
from bot.topics.matcher import parse_term

KINDS = ("institution", "person", "place", "project", "epithet")
_SLUG = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


def term_key(term: str) -> str:
    """The form two terms share when they would match the same words."""
    return normalize(term.replace("*", " *"))  # "Iran*" and "iran *" differ from "Iran"


def _check_form(form: str) -> str:
    parse_term(form)  # its ValueError becomes a pydantic error at this element
    return form.strip()


Form = Annotated[str, AfterValidator(_check_form)]


class EntityModel(BaseModel):
    """One `[[topics.entities]]` entry as written in topics.toml."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Annotated[str, Field(pattern=_SLUG)]
    kind: Literal["institution", "person", "place", "project", "epithet"]
    state: str | Annotated[list[str], Field(min_length=1)]
    counts: Literal["alone", "with-other"] = "alone"
    forms: Annotated[list[Form], Field(min_length=1)]

    def to_entity(self) -> Entity:
        """The frozen record the matcher compiles."""
        groups = (self.state,) if isinstance(self.state, str) else tuple(self.state)
        return Entity(self.id, self.kind, groups, tuple(self.forms), self.counts == "alone")


def entity_checks(
    raw: Mapping[str, Any],
    term_places: Mapping[str, str],
    entity_name: Callable[[Mapping[str, Any], int], str],
) -> list[tuple[str, str]]:
    """Checks across entries, on the raw topic: states are groups, ids and forms are unique.

    `entity_name(raw, i)` says how a problem names entities[i] ("entity 'socar'")."""
    entities = raw.get("entities")
    if not isinstance(entities, list):
        return []
    groups = raw.get("groups")
    group_names = set(groups) if isinstance(groups, Mapping) else set()
    problems: list[tuple[str, str]] = []
    ids: set[str] = set()
    forms: dict[str, str] = dict(term_places)
    for i, entry in enumerate(entities):
        if not isinstance(entry, Mapping):
            continue
        where = entity_name(raw, i)  # unique per entry: forms are told apart by it
        entity_id = entry.get("id")
        if isinstance(entity_id, str):
            if entity_id in ids:
                problems.append((f"{where}, id", f"duplicate entity id {entity_id!r}"))
            ids.add(entity_id)
        state = entry.get("state")
        states = [state] if isinstance(state, str) else state if isinstance(state, list) else []
        for name in states:
            if isinstance(name, str) and name not in group_names:
                problems.append((f"{where}, state", f"names no group {name!r}"))
        mine: set[str] = set()
        for form in entry.get("forms") or ():
            if not isinstance(form, str) or not form.strip():
                continue
            key = term_key(form)
            other = forms.setdefault(key, where)
            if other != where:
                problems.append((f"{where}, forms", f"{form!r} is also in {other}"))
            elif key in mine:
                problems.append((f"{where}, forms", f"duplicate form {form!r}"))
            mine.add(key)
    return problems
