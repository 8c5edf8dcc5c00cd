"""Whether two event signatures tell of one event: the parts that agree and those that conflict.

Pure. A conflict is a clear sign of two events, and keeps reports apart whatever their words:
1. acts: both name acts and none of one goes with any of the other (a call is not a meeting);
2. people: both name people and share none (Velayati's statement is not Baghaei's);
3. quantities: the same unit with other values ($412m is not $57m; 180 m is not 140 m);
4. rounds: other rounds ("second round" is not "first round");
5. days: both name days and share none;
6. headline places: both titles name places and share none (Aghband is not Astara);
7. headline subjects: both titles name subjects and share none (gas is not power);
8. headline numbers: both titles carry numbers and the reports share no number at all ("2 new
   projects" is not "8 documents at the 17th session"; a report that gives only the date and
   another that gives only the length do not conflict: their titles carry none).
Agreement counts the specific things both name: people and institutions, places and projects,
gazetteer entities, rare names the lexicon does not know (met across scripts), quantities,
rounds, days, states other than the beat's own two (nearly
every report names those), and (once) a shared subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.review.lexicon import Lexicon
from bot.review.lexicon_actors import BEAT_STATES, INSTITUTIONS
from bot.review.signature import Signature

_SAME_VALUE = 0.01  # relative difference under which two figures are one ("1.9 млн" = 1,900,000)


@dataclass(frozen=True, slots=True)
class Agreement:
    """What two signatures share and where they contradict each other."""

    acts: bool  # both name acts, and they go together
    act_named: bool  # both name acts (together or not)
    roles: bool  # both name a person or a role (who is who is then known, not guessed from order)
    agreed: tuple[str, ...]  # "person az-aliyev", "place astara", "money 412000000" …
    conflicts: tuple[str, ...]  # "act call / meeting", "round 1 / 2" …

    @property
    def strength(self) -> int:
        """How many specific things both reports name (the act not counted)."""
        return sum(1 for a in self.agreed if not a.startswith("act "))


def _names(ids: frozenset[str]) -> str:
    return ",".join(sorted(ids)) or "-"


def compare(
    a: Signature, b: Signature, lexicon: Lexicon, rare: Callable[[str], bool] = bool
) -> Agreement:
    """The agreement of two signatures (see the module docstring); `rare` says whether a
    shared name key is rare enough to count (by default every one does)."""
    agreed: list[str] = []
    conflicts: list[str] = []
    acts = bool(a.acts and b.acts and lexicon.acts_agree(a.acts, b.acts))
    if acts:
        agreed.append(f"act {_names(a.acts & b.acts) if a.acts & b.acts else _names(a.acts)}")
    elif a.acts and b.acts:
        conflicts.append(f"act {_names(a.acts)} / {_names(b.acts)}")
    persons_a, persons_b = a.people - INSTITUTIONS, b.people - INSTITUTIONS
    if persons_a and persons_b and not persons_a & persons_b:
        conflicts.append(f"people {_names(persons_a)} / {_names(persons_b)}")
    agreed += [f"person {p}" for p in sorted(a.people & b.people)]
    agreed += [f"place {p}" for p in sorted(a.places & b.places)]
    agreed += [f"state {s}" for s in sorted((a.states & b.states) - BEAT_STATES)]
    agreed += [f"entity {g}" for g in sorted(a.gazetteer & b.gazetteer)]
    agreed += [f"name {n}" for n in sorted(a.shared_names(b)) if rare(n)]
    _quantities(a, b, agreed, conflicts)
    if a.rounds and b.rounds and not a.rounds & b.rounds:
        conflicts.append(
            f"round {_names(frozenset(map(str, a.rounds)))} / {_names(frozenset(map(str, b.rounds)))}"
        )
    agreed += [f"round {r}" for r in sorted(a.rounds & b.rounds)]
    if a.days and b.days and not a.days & b.days:
        conflicts.append(f"day {min(a.days)} / {min(b.days)}")
    agreed += [f"day {d}" for d in sorted(a.days & b.days)]
    if a.title_places and b.title_places and not a.title_places & b.title_places:
        conflicts.append(f"place {_names(a.title_places)} / {_names(b.title_places)}")
    if a.title_subjects and b.title_subjects and not a.title_subjects & b.title_subjects:
        conflicts.append(f"subject {_names(a.title_subjects)} / {_names(b.title_subjects)}")
    elif a.subjects & b.subjects:
        agreed.append(f"subject {_names(a.subjects & b.subjects)}")
    if a.title_numbers and b.title_numbers and not a.numbers & b.numbers:
        conflicts.append(f"numbers {_names(a.title_numbers)} / {_names(b.title_numbers)}")
    roles = bool(persons_a and persons_b)
    return Agreement(acts, bool(a.acts and b.acts), roles, tuple(agreed), tuple(conflicts))


def _quantities(a: Signature, b: Signature, agreed: list[str], conflicts: list[str]) -> None:
    units_a: dict[str, list[float]] = {}
    units_b: dict[str, list[float]] = {}
    for unit, value in a.quantities:
        units_a.setdefault(unit, []).append(value)
    for unit, value in b.quantities:
        units_b.setdefault(unit, []).append(value)
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
