"""Whether two event signatures tell of one event: the parts that agree and those that conflict.

Pure. A conflict is a clear sign of two events, and keeps reports apart whatever their words:
1. acts: both name acts and none of one goes with any of the other (a call is not a meeting);
2. people: both name people and share none (Velayati's statement is not Baghaei's);
3. quantities: the same unit with other values ($412m is not $57m; 180 m is not 140 m);
4. rounds: other rounds ("second round" is not "first round");
5. days: both name days and share none;
6. headline places: both titles name places, and neither report names the other's anywhere
   (Aghband is not Astara; "bridge at Khudafarin" and "bridge over the Aras … near Khudafarin"
   are one);
7. headline subjects: both titles name subjects and share none (gas is not power);
8. headline numbers: both titles carry numbers and the reports share no number at all ("2 new
   projects" is not "8 documents at the 17th session"; a report that gives only the date and
   another that gives only the length do not conflict: their titles carry none).
Agreement counts the specific things both name: people and institutions, places and projects,
gazetteer entities, rare names the lexicon does not know (met across scripts), quantities,
rounds, days, states other than the beat's own two (nearly every report names those), and up to
two shared subjects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.review.lexicon import Lexicon
from bot.review.lexicon_actors import BEAT_STATES
from bot.review.lexicon_people import INSTITUTIONS
from bot.review.signature import Signature

_SAME_VALUE = 0.01  # relative difference under which two figures are one ("1.9 млн" = 1,900,000)


@dataclass(frozen=True, slots=True)
class Agreement:
    """What two signatures share and where they contradict each other."""

    acts: bool  # both name acts, and they go together
    act_named: bool  # both name acts (together or not)
    roles: bool  # both name a person or a role (who is who is then known, not guessed from order)
    strength: int  # how many specific things both name (the act not counted)
    agreed: tuple[str, ...]  # "person az-aliyev", "place astara", "money 412000000" … (explain)
    conflicts: tuple[str, ...]  # "act call / meeting", "round 1 / 2" …; only the first unless
    # explaining


def _names(ids: frozenset[str] | frozenset[int]) -> str:
    return ",".join(sorted(map(str, ids))) or "-"


def compare(
    a: Signature,
    b: Signature,
    lexicon: Lexicon,
    rare: Callable[[str], bool] = bool,
    *,
    explain: bool = True,
) -> Agreement:
    """The agreement of two signatures (see the module docstring); `rare` says whether a
    shared name key is rare enough to count (by default every one does). Without `explain`
    the first conflict ends the comparison and nothing is spelled out (the grouping's path)."""
    conflicts: list[str] = []
    both_acts = bool(a.acts and b.acts)
    acts = both_acts and lexicon.acts_agree(a.acts, b.acts)
    persons_a, persons_b = a.people - INSTITUTIONS, b.people - INSTITUTIONS
    roles = bool(persons_a and persons_b)
    checks = (
        (both_acts and not acts, "act", a.acts, b.acts),
        (roles and not persons_a & persons_b, "people", persons_a, persons_b),
        (a.rounds and b.rounds and not a.rounds & b.rounds, "round", a.rounds, b.rounds),
        (a.days and b.days and not a.days & b.days, "day", a.days, b.days),
        (
            a.title_places
            and b.title_places
            and not a.title_places & b.places
            and not b.title_places & a.places,
            "place",
            a.title_places,
            b.title_places,
        ),
        (
            a.title_subjects and b.title_subjects and not a.title_subjects & b.title_subjects,
            "subject",
            a.title_subjects,
            b.title_subjects,
        ),
        (
            a.title_numbers and b.title_numbers and not a.numbers & b.numbers,
            "numbers",
            a.title_numbers,
            b.title_numbers,
        ),
    )
    for clash, kind, mine, theirs in checks:
        if clash:
            if not explain:
                return Agreement(acts, both_acts, roles, 0, (), (kind,))
            conflicts.append(f"{kind} {_names(mine)} / {_names(theirs)}")  # type: ignore[arg-type]
    same_quantities, clashes = _quantities(a, b)
    if clashes and not explain:
        return Agreement(acts, both_acts, roles, 0, (), (clashes[0],))
    conflicts += clashes
    shared: list[tuple[str, frozenset[str]]] = [
        ("person", a.people & b.people),
        ("place", a.places & b.places),
        ("state", (a.states & b.states) - BEAT_STATES),
        ("entity", a.gazetteer & b.gazetteer),
        ("name", frozenset(n for n in a.shared_names(b) if rare(n))),
        ("round", frozenset(map(str, a.rounds & b.rounds))),
        ("day", frozenset(map(str, a.days & b.days))),
    ]
    # Gazetteer entities count once together: one entry may stand for many people or places
    # ("az-officials"), and a growing gazetteer must not make two events look alike.
    strength = sum(len(ids) if kind != "entity" else min(len(ids), 1) for kind, ids in shared)
    strength += len(same_quantities)
    subjects = a.subjects & b.subjects
    subject_clash = any(c.startswith("subject") for c in conflicts)
    # Two shared subjects say more than one ("visas for truck drivers"), more add little.
    strength += 0 if subject_clash else min(len(subjects), 2)
    agreed: list[str] = []
    if explain:
        if acts:
            agreed.append(f"act {_names(a.acts & b.acts or a.acts)}")
        agreed += [f"{kind} {i}" for kind, ids in shared for i in sorted(ids)]
        agreed += same_quantities
        if subjects and not subject_clash:
            agreed.append(f"subject {_names(subjects)}")
    return Agreement(acts, both_acts, roles, strength, tuple(agreed), tuple(conflicts))


def _quantities(a: Signature, b: Signature) -> tuple[list[str], list[str]]:
    """Figures of one unit both give ("money 412000000"), and units whose figures all differ."""
    if not a.quantities or not b.quantities:
        return [], []
    units_a: dict[str, list[float]] = {}
    units_b: dict[str, list[float]] = {}
    for unit, value in a.quantities:
        units_a.setdefault(unit, []).append(value)
    for unit, value in b.quantities:
        units_b.setdefault(unit, []).append(value)
    agreed: list[str] = []
    conflicts: list[str] = []
    for unit in sorted(units_a.keys() & units_b.keys()):
        same = [
            x
            for x in units_a[unit]
            if any(abs(x - y) <= _SAME_VALUE * max(abs(x), abs(y)) for y in units_b[unit])
        ]
        if same:
            agreed += [f"{unit} {x:g}" for x in sorted(same)]
        else:
            conflicts.append(f"{unit} {min(units_a[unit]):g} / {min(units_b[unit]):g}")
    return agreed, conflicts
