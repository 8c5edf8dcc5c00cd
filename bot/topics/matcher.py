"""Topic matching: which configured topics an item is about, and the evidence for each.

Rule order, for every topic, on the title and the summary separately:

1. mask — phrases in `masks` are taken out of the text ("East Azerbaijan" is an Iranian province,
   not the Republic); no other term can match inside a masked phrase;
2. tokenize — the rest is folded and split into words by `bot.topics.folding`;
3. hits — the terms of every group and of `vetoes`, `list_terms` and `joint_terms`, and the forms
   of every gazetteer entity (`entities`: institutions, people, places, projects; a form counts
   for the entity's group or groups) are found on word boundaries; a term ending in `*` is a
   prefix stem, a term of several words is a phrase (each word may be a stem) that must not span
   punctuation other than hyphens and dashes; a group hit that lies inside a longer entity hit
   of another group is that entity's word and does not count ("ارتش" is Iran's army, but not
   inside "ارتش جمهوری آذربایجان"); group terms never swallow each other this way (the azerbaijan
   term "ایران و آذربایجان" keeps its Iran);
4. enumeration discount — `list_min` or more list names joined by commas or a conjunction
   ("Iran, South Korea and Italy", "Tehran, Dubai and Istanbul") form an enumeration; a group hit
   inside one is incidental and does not count (unless the hits inside are of one group and name
   more than half the list: "Tehran, Mashhad and Tabriz" are one state's own places), and an
   enumeration that by itself names every required group makes the item a roundup. An enumeration whose sentence also holds a joint
   term ("Azerbaijan, Iran and Russia sign a corridor deal", "… discussed transit") names the
   parties to one act: it is neither discounted nor a roundup, and its names count like any
   other mention;
5. second signal — a hit of an entity that does not count `alone` (a border crossing, a shared
   project) counts only when another required group has a counted hit of its own (a term or an
   entity that counts alone);
6. roundup — a roundup does not match, unless the counted hits outside every enumeration already
   name every required group (both states are also named outside the list);
7. veto — any veto term present means no match;
8. require — every group named in `require` needs at least one counted hit;
9. salience (`bot.topics.salience`, issue 18) — a kind veto (weather, sports, brands and
   addresses, origin) without a political signal means no match; an entity hit with another
   party's name beside it is that party's (applied before rule 5); and when the title names
   another party, a required state named only in background clauses of the item, or neither as
   the subject nor as an official, is in passing: no match. The owner and in-passing rules
   apply to a topic that has `salience` word lists; kind vetoes to one that has `kind_vetoes`.

Terms are indexed once by their first word (a dict for whole words, a dict per stem length for
stems), so matching costs a few lookups per word of text however many terms are configured; what
each distinct word can start is remembered. `match` first asks, from the raw words alone, whether
any topic has a pattern of every required group starting somewhere in the item; most news items
fail that and cost one regex pass and a dict lookup per word (`explain` always takes the full path).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.errors import ConfigError
from bot.models import Entity, Salience, Topic, TopicMatch
from bot.topics.explanation import Enumeration, TopicExplanation
from bot.topics.folding import FoldCache, tokenize
from bot.topics.index import Found, Index, Pattern, Word
from bot.topics.rules import (
    FIELDS,
    JOINT,
    LIST,
    MASK,
    VETO,
    Doc,
    dedupe,
    discount,
    second_signal,
    unmasked,
    widest,
)
from bot.topics.salience import (
    AFTER,
    ASIDE,
    BACKGROUND,
    HOME,
    KIND,
    OFFICIALS,
    POLITICAL,
    TALK,
    THIRD,
    in_passing,
    kind_veto,
    owned,
    third_parties,
)

__all__ = [
    "FIELDS",
    "JOINT",
    "LIST",
    "MASK",
    "MIN_STEM",
    "VETO",
    "Enumeration",
    "Matcher",
    "TopicExplanation",
    "compile_topics",
    "entity_label",
    "parse_term",
]

MIN_STEM = 3  # a shorter stem would match half the dictionary
MATCHED = "every required group matched"  # the one reason that is a match


def parse_term(term: str) -> tuple[Word, ...]:
    """Fold a configured term into its words; raise ValueError when it could not match sensibly."""
    if not term.strip():
        raise ValueError("empty term")
    words: list[Word] = []
    for raw in term.split():
        stem = raw.endswith("*")
        core = raw[:-1] if stem else raw
        if "*" in core:
            raise ValueError(f"{term!r}: '*' may only end a word")
        folded = [t.norm for t in tokenize(core)]
        if not folded:
            raise ValueError(f"{term!r}: {raw!r} has no letters or digits")
        if stem and len(folded[-1]) < MIN_STEM:
            raise ValueError(f"{term!r}: a stem needs at least {MIN_STEM} letters before '*'")
        words.extend((w, False) for w in folded[:-1])
        words.append((folded[-1], stem))
    return tuple(words)


def entity_label(entity: Entity) -> str:
    """How an entity hit is named in explanations and in `match` output: "irgc (institution)"."""
    return f"{entity.id} ({entity.kind})"


class Matcher:
    """Compiled topics: call `match` per item, or `explain` to see every rule's evidence."""

    def __init__(self, topics: Sequence[Topic], index: Index) -> None:
        self._topics = tuple(topics)
        self._index = index
        self._fold = FoldCache()

    @property
    def topics(self) -> tuple[Topic, ...]:
        """The topics this matcher was compiled from, in order."""
        return self._topics

    def _scan(self, title: str, summary: str) -> tuple[Doc, list[Found]]:
        doc = Doc({"title": title, "summary": summary}, {})
        found: list[Found] = []
        for field in FIELDS:
            text = doc.texts[field]
            doc.tokens[field] = tokenize(text, self._fold)
            found += self._index.scan(field, text, doc.tokens[field])
        return doc, found

    def match(
        self, title: str, summary: str, language: str | None = None
    ) -> tuple[TopicMatch, ...]:
        """The topics the item matches, each with the hits that explain it."""
        # `language` is accepted for callers that know it; folding is language-independent.
        del language
        # Most items cannot match: no topic has a pattern for each of its required groups starting
        # at some word. That is known from the raw words, before tokens and hits are built.
        if not self._may_match(self._index.possible((title, summary), self._fold)):
            return ()
        doc, found = self._scan(title, summary)
        by_topic = _by_topic(found)
        out: list[TopicMatch] = []
        for n, topic in enumerate(self._topics):
            mine = by_topic.get(n)
            # Cheap pre-check: a topic whose required groups are not all hit cannot match.
            if not mine or not set(topic.require) <= {f.pattern.role for f in mine}:
                continue
            verdict = _evaluate(topic, doc, mine, full=False)
            if verdict.matched:
                out.append(TopicMatch(topic.id, verdict.hits))
        return tuple(out)

    def may_match(self, title: str, summary: str) -> bool:
        """Whether `match` could flag the item, from its raw words alone: False means it cannot
        (no false negatives); True may still end in no match."""
        return self._may_match(self._index.possible((title, summary), self._fold))

    def _may_match(self, possible: set[tuple[int, str]]) -> bool:
        """Whether some topic passes `match`'s pre-check on a superset of the hits."""
        for n, topic in enumerate(self._topics):
            roles = {role for t, role in possible if t == n}
            if roles and set(topic.require) <= roles:
                return True
        return False

    def explain(
        self, title: str, summary: str, language: str | None = None
    ) -> tuple[TopicExplanation, ...]:
        """Every topic's verdict on the item, with hits, masks, vetoes and enumerations."""
        del language
        doc, found = self._scan(title, summary)
        by_topic = _by_topic(found)
        return tuple(
            _evaluate(topic, doc, by_topic.get(n, [])) for n, topic in enumerate(self._topics)
        )


def _by_topic(found: Iterable[Found]) -> dict[int, list[Found]]:
    out: dict[int, list[Found]] = {}
    for f in found:
        out.setdefault(f.pattern.topic, []).append(f)
    return out


def _evaluate(
    topic: Topic, doc: Doc, found: Sequence[Found], *, full: bool = True
) -> TopicExplanation:
    """The rules in order. `full=False` (for `match`, which reads only the verdict and the
    counted hits) stops at the first rule that rejects the item and leaves the evidence out."""
    masks, live = unmasked(found)
    names = {g.name for g in topic.groups}
    # Every hit by its role, in one pass: the rules below each read a few roles.
    by_role: dict[str, list[Found]] = {}
    kinds: list[Found] = []
    for f in live:
        role = f.pattern.role
        by_role.setdefault(role, []).append(f)
        if role.startswith(KIND):
            kinds.append(f)
    vetoes = by_role.get(VETO, [])
    if not full and vetoes:
        return _rejected(topic)
    groups = widest([f for f in live if f.pattern.role in names])
    # Rule 9 is the topic's choice: without `salience` word lists it does not apply.
    salient = topic.salience != Salience()
    third = third_parties(by_role, groups, LIST) if salient else []
    theirs = owned(groups, third, doc.tokens)  # rule 9: "Uzbekistan's State Customs Committee"
    if theirs:
        groups = [g for g in groups if g not in theirs]
    # Rule 9's kind veto; officials of both states acting lift it as a political word does.
    kind = kind_veto(kinds, by_role, groups)
    if not full and kind.reason:
        return _rejected(topic)
    enums, discounted, roundup = discount(topic, doc, by_role, groups)
    counted, unsupported = second_signal(topic, [g for g in groups if g not in discounted])
    present = {g.pattern.role for g in counted}
    missing = tuple(r for r in topic.require if r not in present)
    if roundup and not missing:
        roundup = False  # both states are named outside the list too: rule 6
    if not full and (roundup or missing):
        return _rejected(topic)
    roles = kind.lines
    if roundup:
        reason = "roundup: one enumeration names every required group"
    elif vetoes:
        reason = f"veto: {vetoes[0].pattern.term}"
    elif kind.reason:
        reason = kind.reason
    elif missing:
        reason = f"missing: {', '.join(missing)}"
    elif salient:
        passing = in_passing(topic, doc.tokens, by_role, counted, third)
        roles += passing.lines
        reason = passing.reason or MATCHED
    else:
        reason = MATCHED
    if not full:
        return _verdict(topic, reason, counted)
    return TopicExplanation(
        topic_id=topic.id,
        topic_name=topic.name,
        matched=reason == MATCHED,
        reason=reason,
        hits=dedupe(g.hit() for g in counted),
        missing=missing,
        masked=dedupe(f.hit() for f in masks),
        vetoes=dedupe(f.hit() for f in vetoes),
        discounted=dedupe(f.hit() for f in discounted),
        enumerations=tuple(enums),
        roundup=roundup,
        unsupported=dedupe(f.hit() for f in unsupported),
        kind_vetoes=dedupe(f.hit() for f in kind.kind_vetoes),
        political=dedupe(f.hit() for f in kind.political),
        owned=dedupe(f.hit() for f in theirs),
        roles=roles,
    )


def _verdict(topic: Topic, reason: str, counted: Sequence[Found]) -> TopicExplanation:
    """What `match` needs: the verdict and, for a match, the counted hits."""
    if reason != MATCHED:
        return _rejected(topic)
    hits = dedupe(g.hit() for g in counted)
    return TopicExplanation(topic.id, topic.name, True, reason, hits, (), (), (), (), (), False)


def _rejected(topic: Topic) -> TopicExplanation:
    """What `match` needs of a rejected item: the verdict alone."""
    return TopicExplanation(topic.id, topic.name, False, "rejected", (), (), (), (), (), (), False)


def _patterns(n: int, topic: Topic) -> tuple[list[Pattern], list[str]]:
    patterns: list[Pattern] = []
    problems: list[str] = []
    roles: list[tuple[str, tuple[str, ...]]] = [(g.name, g.terms) for g in topic.groups]
    roles += [(MASK, topic.masks), (VETO, topic.vetoes), (LIST, topic.list_terms)]
    roles.append((JOINT, topic.joint_terms))
    roles += [(KIND + k.kind, k.terms) for k in topic.kind_vetoes]
    sal = topic.salience
    roles += [(POLITICAL, sal.political), (OFFICIALS, sal.officials)]
    roles += [(THIRD, sal.third_parties), (HOME, sal.home_places)]
    roles += [(BACKGROUND, sal.background), (AFTER, sal.background_after), (ASIDE, sal.aside)]
    roles.append((TALK, sal.talk))
    for role, terms in roles:
        for term in terms:
            try:
                patterns.append(Pattern(n, role, term, parse_term(term)))
            except ValueError as exc:
                problems.append(f"topic {topic.id}: {role}: {exc}")
    for entity in topic.entities:
        for form in entity.forms:
            try:
                words = parse_term(form)
            except ValueError as exc:
                problems.append(f"topic {topic.id}: entity {entity.id}: {exc}")
                continue
            label = entity_label(entity)
            patterns += [Pattern(n, group, label, words, entity) for group in entity.groups]
    return patterns, problems


def compile_topics(topics: Sequence[Topic]) -> Matcher:
    """Compile topics into a Matcher; raise ConfigError listing every term that cannot compile."""
    patterns: list[Pattern] = []
    problems: list[str] = []
    for n, topic in enumerate(topics):
        mine, bad = _patterns(n, topic)
        patterns += mine
        problems += bad
    if problems:
        raise ConfigError(problems)
    return Matcher(topics, Index(patterns))
