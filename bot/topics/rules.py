"""The matcher's rules over an item's hits (`bot.topics.matcher`'s docstring gives their order):
masks (rule 1), the widest entity (rule 3's last step), the enumeration discount (rule 4) and
the second signal (rule 5). Pure functions over `Found` hits; the matcher applies them in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.models import TermHit, Topic
from bot.topics.enumerations import enumerations, sentence
from bot.topics.explanation import Enumeration
from bot.topics.folding import Token
from bot.topics.index import Found

FIELDS = ("title", "summary")
MASK, VETO, LIST, JOINT = "masks", "vetoes", "list_terms", "joint_terms"  # non-group roles


@dataclass(frozen=True, slots=True)
class Doc:
    """An item's text per field and its words."""

    texts: dict[str, str]  # field → original text
    tokens: dict[str, tuple[Token, ...]]  # field → its words


def dedupe(hits: Iterable[TermHit]) -> tuple[TermHit, ...]:
    return tuple(dict.fromkeys(hits))


def unmasked(found: Sequence[Found]) -> tuple[list[Found], list[Found]]:
    """(masks, every other hit that does not overlap a mask). An entity hit that contains a
    mask and is longer than it names more than the mask does ("governor of East Azerbaijan"
    is Iran's official, though "East Azerbaijan" alone is masked), so it stays."""
    masks = [f for f in found if f.pattern.role == MASK]
    if not masks:
        return masks, list(found)
    masked_at = {(f.field, i) for f in masks for i in range(f.first, f.last)}
    live = [
        f
        for f in found
        if f.pattern.role != MASK
        and (
            not any((f.field, i) in masked_at for i in range(f.first, f.last))
            or (f.pattern.entity is not None and _contains_masks(f, masks))
        )
    ]
    return masks, live


def _contains_masks(f: Found, masks: Sequence[Found]) -> bool:
    """True when every mask f overlaps lies inside f, and f is longer than each."""
    touching = [m for m in masks if m.field == f.field and m.first < f.last and f.first < m.last]
    return all(
        f.first <= m.first and m.last <= f.last and f.last - f.first > m.last - m.first
        for m in touching
    )


def widest(groups: list[Found]) -> list[Found]:
    """Rule 3's last step: group hits that no longer entity hit of another group contains."""
    if len({g.pattern.role for g in groups}) < 2:
        return groups
    return [
        f
        for f in groups
        if not any(
            g.pattern.entity is not None
            and g.pattern.role != f.pattern.role
            and g.field == f.field
            and g.first <= f.first
            and f.last <= g.last
            and g.last - g.first > f.last - f.first
            for g in groups
        )
    ]


def discount(
    topic: Topic, doc: Doc, by_role: dict[str, list[Found]], groups: Sequence[Found]
) -> tuple[list[Enumeration], list[Found], bool]:
    """Rule 4: the enumerations, the group hits inside them, and whether one is a roundup."""
    found: list[Enumeration] = []
    discounted: list[Found] = []
    roundup = False
    for field in FIELDS:
        names = [f for f in by_role.get(LIST, ()) if f.field == field]
        tokens = doc.tokens[field]
        joints = [f for f in by_role.get(JOINT, ()) if f.field == field]
        for first, last, run in enumerations(names, tokens, topic.list_min):
            start, end = sentence(tokens, first, last)
            joint = tuple(dict.fromkeys(j.text for j in joints if start <= j.first < end))
            text = doc.texts[field][tokens[first].start : tokens[last - 1].end]
            found.append(Enumeration(field, text, tuple(f.text for f in run), joint))
            if joint:
                continue
            inside = [g for g in groups if g.field == field and first <= g.first and g.last <= last]
            if _one_state_list(run, inside):
                continue
            discounted += inside
            roundup = roundup or set(topic.require) <= {g.pattern.role for g in inside}
    return found, discounted, roundup


def _one_state_list(run: Sequence[Found], inside: Sequence[Found]) -> bool:
    """True when more than half the names of a list are one state's ("Tehran, Mashhad and
    Tabriz"): the list is that state's own places, not an incidental mention among others."""
    if len({g.pattern.role for g in inside}) != 1:
        return False
    named = sum(1 for f in run if any(g.first < f.last and f.first < g.last for g in inside))
    return 2 * named > len(run)


def second_signal(topic: Topic, counted: list[Found]) -> tuple[list[Found], list[Found]]:
    """Rule 5: (hits that count, weak entity hits without another group's own hit). Weak hits
    of one state each support each other ("Parsabad and Imishli officials": a town on each
    side); a thing of both states (a crossing, a shared project) supports nothing."""
    own = {g.pattern.role for g in counted if not g.pattern.weak}
    own |= {
        g.pattern.role
        for g in counted
        if g.pattern.weak
        and g.pattern.entity is not None
        and len(g.pattern.entity.groups) == 1
        and any(
            o.pattern.weak
            and o.pattern.entity is not None
            and len(o.pattern.entity.groups) == 1
            and o.pattern.role != g.pattern.role
            for o in counted
        )
    }
    required = set(topic.require)
    kept: list[Found] = []
    unsupported: list[Found] = []
    for g in counted:
        if not g.pattern.weak or (own & required) - {g.pattern.role}:
            kept.append(g)
        else:
            unsupported.append(g)
    return kept, unsupported
