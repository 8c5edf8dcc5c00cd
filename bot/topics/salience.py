"""Salience and role: whether each state acts in an item, or is only named (issue 18).

Rules, over the folded words of the title and the summary (`bot.topics.enumerations` gives the
sentences), after masks and before `require`:

1. kind veto: a term of a `kind_vetoes` kind (weather, sports, brands and addresses, origin) in
   the item vetoes it, unless a `political` or `officials` term stands in the item too (a
   ministry, a summons, a ban, aid): then the kind is the setting of a political act and the
   veto is lifted;
2. owner: an entity hit with another party's name right beside it ("Uzbekistan's State Customs
   Committee", "Russia's southern neighbour") is that party's, not its state's;
3. in passing: when the title names another party (a list name that is no required state's hit
   and no home place, or a `third_parties` term), every required state must act:
   - a state acts when the title names it outside a background clause;
   - else when a summary sentence names it outside a background clause (after a `background`
     word in its sentence, or a few words before a `background_after` word) and either as an
     official (an entity of kind person or institution, or an `officials` word within a few
     words: "Azerbaijan's foreign minister") or as the subject: among the first words of its
     sentence, with no `aside` word ("also") before it;
   a plain name (no official's) is not an act either when what other parties talk about: its
   sentence opens with another party and no required state and holds a `talk` word
   ("Chinese and Pakistani diplomats discuss transit through Iran and Azerbaijan");
   a state that does not act is in passing, and the item is not about relations between the
   required states ("Israel and Azerbaijan sign defence deal. The deal, which comes amid tensions
   with Iran, …").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.models import Topic
from bot.topics.enumerations import JOINERS as _JOINERS
from bot.topics.enumerations import breaks_sentence
from bot.topics.folding import Token
from bot.topics.index import Found

KIND = "kind:"  # role prefix of a kind veto term: "kind:weather"
POLITICAL, THIRD, HOME = "salience:political", "salience:third", "salience:home"
OFFICIALS = "salience:officials"
BACKGROUND, AFTER, ASIDE = "salience:background", "salience:after", "salience:aside"
TALK = "salience:talk"
ROLES = (POLITICAL, OFFICIALS, THIRD, HOME, BACKGROUND, AFTER, ASIDE, TALK)

SUBJECT_SLOT = 3  # a subject stands among the first words of its sentence
AFTER_WINDOW = 5  # a postposition governs the words up to this far before it
OFFICIAL_BEFORE, OFFICIAL_AFTER = 4, 4  # "minister of foreign affairs of Iran" / "Iran's envoy"
OWNER_WINDOW = 3
ASIDE_AFTER = 2  # a postpositive "too" / "də" follows its word at once or one word later
_LINKS = frozenset({"s", "of", "the"})  # "Uzbekistan's", "of Uzbekistan"
OFFICIAL_KINDS = frozenset({"person", "institution"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the salience rules found: evidence lines, and a reason when the item fails."""

    reason: str | None  # None: the rules do not stop the item
    lines: tuple[str, ...]
    kind_vetoes: tuple[Found, ...] = ()
    political: tuple[Found, ...] = ()


def kind_veto(
    kinds: Sequence[Found],
    by_role: Mapping[str, Sequence[Found]],
    groups: Sequence[Found] = (),
) -> Verdict:
    """Rule 1: a kind term vetoes the item unless a political or officials term stands in it,
    or officials of two states act in it (a person or institution entity of each of two groups),
    or two states stand in the title and the kind term only below it ("Aliyev, Pezeshkian
    discuss transit … the weather was mild")."""
    if not kinds:
        return Verdict(None, ())
    political = [*by_role.get(POLITICAL, ()), *by_role.get(OFFICIALS, ())]
    officials = [
        g
        for g in groups
        if g.pattern.entity is not None and g.pattern.entity.kind in ("person", "institution")
    ]
    if len({g.pattern.role for g in officials}) >= 2:
        political += officials
    # The title says what the item is about: both states in it, and the kind only further
    # down, make the weather or the match a detail of a story about the two.
    in_title = [g for g in groups if g.field == "title"]
    if len({g.pattern.role for g in in_title}) >= 2 and all(k.field != "title" for k in kinds):
        political += in_title
    first = kinds[0]
    kind = first.pattern.role.removeprefix(KIND)
    if political:
        line = f"kind {kind} ({first.text!r}) lifted by political signal {political[0].text!r}"
        return Verdict(None, (line,), tuple(kinds), tuple(political))
    return Verdict(f"kind veto ({kind}): {first.pattern.term}", (), tuple(kinds))


def _overlaps(a: Found, b: Found) -> bool:
    return a.field == b.field and a.first < b.last and b.first < a.last


def third_parties(
    by_role: Mapping[str, Sequence[Found]], groups: Sequence[Found], list_role: str
) -> list[Found]:
    """Hits of other parties: list names that are no group hit and no home place, and
    `third_parties` terms that are no group hit."""
    names = by_role.get(list_role, ())
    others = by_role.get(THIRD, ())
    if not names and not others:
        return []
    taken = {(g.field, i) for g in groups for i in range(g.first, g.last)}
    homes = {(h.field, i) for h in by_role.get(HOME, ()) for i in range(h.first, h.last)}
    out = [
        f
        for f in names
        if not any((f.field, i) in taken or (f.field, i) in homes for i in range(f.first, f.last))
    ]
    out += [f for f in others if not any((f.field, i) in taken for i in range(f.first, f.last))]
    return out


def owned(
    hits: Sequence[Found], third: Sequence[Found], tokens: dict[str, tuple[Token, ...]]
) -> list[Found]:
    """Rule 2: entity hits with another party's name beside them, in the same phrase (no
    punctuation or conjunction between): "Uzbekistan's State Customs Committee", "ГТК
    Узбекистана", "a reliable southern neighbour of Russia". An epithet may stand up to
    `OWNER_WINDOW` words from the name; any other entity only across "'s", "of" or "the"."""
    out: list[Found] = []
    entities = [(h, h.pattern.entity) for h in hits if h.pattern.entity is not None]
    if not entities or not (third or len({h.pattern.role for h in hits}) > 1):
        return out
    for h, entity in entities:
        epithet = entity.kind == "epithet"
        field = tokens[h.field]
        # Another party: a third party, or a state the entity does not stand for ("İran
        # Müdafiə Nazirliyi" is not Azerbaijan's ministry, "وزارت خارجه جمهوری آذربایجان" is
        # not Iran's).
        # Only for institutions: a person's or a place's name beside a state is not its owner
        # ("Bayramovun Tehrana səfəri": Bayramov's visit to Tehran).
        states = [
            g
            for g in hits
            if entity.kind == "institution"
            and g.pattern.role not in entity.groups
            and not _overlaps(g, h)
        ]
        for t in [*third, *states]:
            if t.field != h.field:
                continue
            before = t.last <= h.first
            first, last = (t.last, h.first) if before else (h.last, t.first)
            if first > last:
                continue  # they overlap
            between = field[first:last]
            linked = all(w.norm in _LINKS for w in between)
            if before and not (linked or (epithet and len(between) < OWNER_WINDOW)):
                continue  # "Russia's southern neighbour", "Rusiyanın etibarlı cənub qonşusu"
            # After the entity, the owner follows at once in Russian and Persian ("ГТК
            # Узбекистана", "وزارت خارجه روسیه"), after "of" in English; a Latin-script name
            # right after it is the next phrase ("AR XİN İİR-in səfirini": Iran's ambassador).
            if not before and not (linked and (between or not _latin(field[h.last - 1].norm))):
                continue
            if any(w.norm in _JOINERS for w in between):
                continue
            if all(field[i].joined for i in range(first, last + 1)):
                out.append(h)
                break
    return out


def _official(h: Found, clauses: _Clauses) -> bool:
    entity = h.pattern.entity
    return (entity is not None and entity.kind in OFFICIAL_KINDS) or bool(clauses.official(h))


def _latin(word: str) -> bool:
    return word[:1].isascii() or "\u00c0" <= word[:1] <= "\u024f" or word[:1] == "ə"


class _Clauses:
    """Where the background and official words of one field stand."""

    def __init__(
        self,
        field: str,
        tokens: Sequence[Token],
        by_role: Mapping[str, Sequence[Found]],
        third: Sequence[Found],
        counted: Sequence[Found],
    ) -> None:
        self.tokens = tokens

        def mine(role: str) -> list[Found]:
            return [f for f in by_role.get(role, ()) if f.field == field]

        self.third = [t for t in third if t.field == field]
        self.talk = mine(TALK)
        self.states = [g for g in counted if g.field == field]
        self.before = mine(BACKGROUND)
        self.after = mine(AFTER)
        self.aside = mine(ASIDE)
        self.officials = mine(OFFICIALS)
        self._start: list[int] = []
        self._end: list[int] = []

    def sentence(self, h: Found) -> tuple[int, int]:
        """Token bounds (end exclusive) of the sentence that holds h."""
        if not self._start:
            # The sentence of every word, in one pass, the first time one is asked for.
            first = 0
            for i, token in enumerate(self.tokens):
                if i and breaks_sentence(token.gap):
                    self._end += [i] * (i - first)
                    first = i
                self._start.append(first)
            self._end += [len(self.tokens)] * (len(self.tokens) - first)
        return self._start[h.first], self._end[h.last - 1]

    def background(self, h: Found) -> Found | None:
        """The background word that puts h in a background clause, if any."""
        start, end = self.sentence(h)
        for b in self.before:
            if start <= b.first and b.last <= h.first:
                return b
        for a in self.after:
            if h.last <= a.first < min(end, h.last + AFTER_WINDOW):
                return a
        return None

    def talked_about(self, h: Found, groups: Sequence[str]) -> Found | None:
        """The talk word when h is what other parties talk about: its sentence opens with
        another party and no required state, holds a talk word ("discuss", "обсудили",
        "müzakirə edib"), and h is not among its first words. In any word order: the English
        and Russian verb stands before the object, the Azerbaijani and Persian one after it."""
        start, end = self.sentence(h)
        if h.first - start < SUBJECT_SLOT:
            return None
        talk = next((t for t in self.talk if start <= t.first < end), None)
        if talk is None:
            return None
        opens = [t for t in self.third if start <= t.first < start + SUBJECT_SLOT]
        mine = [
            g
            for g in self.states
            if g.pattern.role in groups and start <= g.first < start + SUBJECT_SLOT
        ]
        return talk if opens and not mine else None

    def official(self, h: Found) -> Found | None:
        """An officials word right beside h ("Azerbaijan's foreign minister"), if any."""
        start, end = self.sentence(h)
        for p in self.officials:
            if not start <= p.first < end:
                continue
            if 0 <= p.first - h.last < OFFICIAL_AFTER:
                return p  # "Azerbaijan's foreign minister", "İranın xarici işlər naziri"
            # Before the name: Russian and Persian put the state after its official ("министр
            # иностранных дел Ирана"); English only across "of", and in Azerbaijani an official
            # before a name is someone else's ("Pakistan diplomatları İran …").
            between = self.tokens[p.last : h.first]
            if 0 <= h.first - p.last < OFFICIAL_BEFORE and (
                not _latin(self.tokens[h.first].norm) or any(w.norm == "of" for w in between)
            ):
                return p
        return None

    def subject(self, h: Found) -> tuple[bool, Found | None]:
        """(h stands among the first words of its sentence, the aside word before it)."""
        start, end = self.sentence(h)
        # "also" before the name, or a particle right after it ("Iran too", "Azərbaycan
        # şirkətləri də"): a side remark.
        aside = next(
            (
                a
                for a in self.aside
                if (start <= a.first and a.last <= h.first)
                or (h.last <= a.first < min(end, h.last + ASIDE_AFTER))
            ),
            None,
        )
        return h.first - start < SUBJECT_SLOT, aside


def in_passing(
    topic: Topic,
    tokens: dict[str, tuple[Token, ...]],
    by_role: Mapping[str, Sequence[Found]],
    counted: Sequence[Found],
    third: Sequence[Found],
) -> Verdict:
    """Rule 3: the required groups that do not act in an item whose title names another party."""
    others = [t for t in third if t.field == "title"]
    if not others:
        return Verdict(None, ())
    clauses = _Fields(tokens, by_role, third, counted)
    lines = [f"title names another party: {others[0].text!r}"]
    passing: list[str] = []
    for group in topic.require:
        why = _acts(group, topic.require, counted, clauses)
        lines.append(f"{group}: {why}")
        if why.startswith("in passing"):
            passing.append(group)
    if passing:
        return Verdict(f"in passing: {', '.join(passing)}", tuple(lines))
    return Verdict(None, tuple(lines))


class _Fields:
    """The `_Clauses` of the title and the summary, each built when first asked for."""

    def __init__(
        self,
        tokens: Mapping[str, Sequence[Token]],
        by_role: Mapping[str, Sequence[Found]],
        third: Sequence[Found],
        counted: Sequence[Found],
    ) -> None:
        self._args = (tokens, by_role, third, counted)
        self._built: dict[str, _Clauses] = {}

    def __getitem__(self, field: str) -> _Clauses:
        built = self._built.get(field)
        if built is None:
            tokens, by_role, third, counted = self._args
            built = self._built[field] = _Clauses(field, tokens[field], by_role, third, counted)
        return built


def _acts(group: str, required: Sequence[str], counted: Sequence[Found], clauses: _Fields) -> str:
    """One line: how the group acts, or why it is in passing."""
    mine = [g for g in counted if g.pattern.role == group]
    last = "not named outside the title's background"
    for h in (g for g in mine if g.field == "title"):
        c = clauses["title"]
        marker = c.background(h)
        if marker is None and not _official(h, c):
            marker = c.talked_about(h, required)
        if marker is None:
            return f"acts (title {h.text!r})"
        last = f"title {h.text!r} is background ({marker.text!r})"
    for h in (g for g in mine if g.field == "summary"):
        c = clauses["summary"]
        marker = c.background(h)
        if marker is not None:
            last = f"summary {h.text!r} is background ({marker.text!r})"
            continue
        entity = h.pattern.entity
        if entity is not None and entity.kind in OFFICIAL_KINDS:
            return f"acts (summary {h.text!r}: {entity.kind})"
        official = c.official(h)
        if official is not None:
            return f"acts (summary {h.text!r} beside {official.text!r})"
        talk = c.talked_about(h, required)
        if talk is not None:
            last = f"summary {h.text!r} is talked about ({talk.text!r})"
            continue
        first, aside = c.subject(h)
        if first and aside is None:
            return f"acts (summary {h.text!r} as subject)"
        last = (
            f"summary {h.text!r} after {aside.text!r}"
            if aside is not None
            else f"summary {h.text!r} is not the subject of its sentence"
        )
    return f"in passing ({last})"
