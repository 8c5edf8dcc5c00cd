"""How well a configuration judges what the desk labelled: scores, an edit's impact, evidence kinds.

Pure: labelled texts (`Judged`) and compiled matchers in, records out. An item counts as flagged
when any topic matches it, as the pipeline pushes it. Text is cleaned exactly as `match` and the
pipeline clean it (`bot.textclean`), so a score says what the running bot would do.

- `score`: precision, recall and F1, with the misses (relevant, not flagged) and false alarms
  (flagged, marked not relevant) and the evidence the matcher saw for each;
- `impact`: what changing the topics (an operator's edit) does to the labelled items: every
  verdict it changes, split into those it turns wrong and those it puts right. An edit of terms
  (group terms, masks, vetoes, entity forms, list and joint terms) can only change the verdict
  on an item where one of those terms occurs, so only those items are judged twice: a tiny
  matcher of the changed terms finds them (most items are rejected from their raw words). Any
  other change (a required group, a new topic, an entity's state) judges every item;
- `evidence_kinds`: which kind of evidence flagged an item (terms, entities, lists).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot.models import TermGroup, Topic
from bot.text.clean import clean_summary, clean_title
from bot.topics.explanation import TopicExplanation
from bot.topics.matcher import Matcher, compile_topics, entity_label

TERMS, ENTITIES, LISTS = "terms", "entities", "lists"
EVIDENCE_KINDS = (TERMS, ENTITIES, LISTS)


@dataclass(frozen=True, slots=True)
class Judged:
    """A labelled text: what the desk (or a dev set) says of one item."""

    id: str
    title: str
    summary: str
    lang: str | None
    source: str
    relevant: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    """One labelled item as a configuration judges it, with the evidence (one fact a line)."""

    item: Judged
    flagged: bool
    evidence: tuple[str, ...]

    @property
    def right(self) -> bool:
        """The configuration agrees with the label."""
        return self.flagged == self.item.relevant


@dataclass(frozen=True, slots=True)
class Score:
    """Counts of a configuration against labels, and the items it gets wrong."""

    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    misses: tuple[Outcome, ...]  # marked relevant, not flagged
    false_alarms: tuple[Outcome, ...]  # flagged, marked not relevant

    @property
    def precision(self) -> float:
        """Of the flagged items, the share marked relevant (1.0 when nothing is flagged)."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        """Of the items marked relevant, the share flagged (1.0 when none is)."""
        relevant = self.true_positives + self.false_negatives
        return self.true_positives / relevant if relevant else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def total(self) -> int:
        """Labelled items scored."""
        return (
            self.true_positives + self.false_positives + self.false_negatives + self.true_negatives
        )


@dataclass(frozen=True, slots=True)
class Impact:
    """What a change of the topics does to the labelled items (outcomes without evidence)."""

    labelled: int
    turned_wrong: tuple[Outcome, ...]  # right before, wrong after (judged by the new config)
    put_right: tuple[Outcome, ...]  # wrong before, right after
    of: int = 0  # labelled items in all, when only the newest `labelled` were checked

    @property
    def changed(self) -> int:
        """Verdicts the change flips."""
        return len(self.turned_wrong) + len(self.put_right)

    @property
    def new_misses(self) -> tuple[Outcome, ...]:
        """Items marked relevant that the change stops flagging."""
        return tuple(o for o in self.turned_wrong if o.item.relevant)

    @property
    def new_false_alarms(self) -> tuple[Outcome, ...]:
        """Items marked not relevant that the change starts flagging."""
        return tuple(o for o in self.turned_wrong if not o.item.relevant)


def judge(matcher: Matcher, item: Judged) -> Outcome:
    """The configuration's verdict on one labelled item, with its evidence."""
    explained = _explain(matcher, item)
    matched = [e for e in explained if e.matched]
    if matched:
        evidence = tuple(line for e in matched for line in e.lines())
    else:
        evidence = tuple(e.lines()[0] for e in explained)
    return Outcome(item, bool(matched), evidence)


def score(matcher: Matcher, items: Iterable[Judged]) -> Score:
    """Precision, recall and F1 of `matcher` on the labelled items, with what it gets wrong."""
    tp = fp = fn = tn = 0
    misses: list[Outcome] = []
    alarms: list[Outcome] = []
    for item in items:
        flagged = bool(_match(matcher, item))
        if flagged and item.relevant:
            tp += 1
        elif flagged:
            fp += 1
            alarms.append(judge(matcher, item))
        elif item.relevant:
            fn += 1
            misses.append(judge(matcher, item))
        else:
            tn += 1
    return Score(tp, fp, fn, tn, tuple(misses), tuple(alarms))


def impact(before: Matcher, after: Matcher, items: Sequence[Judged]) -> Impact:
    """Every labelled verdict that changes from `before` to `after`, wrong ones first."""
    wrong: list[Outcome] = []
    right: list[Outcome] = []
    terms = changed_terms(before.topics, after.topics)
    if terms == ():
        return Impact(len(items), (), ())
    texts = [(item, _cleaned(item)) for item in items]
    if terms is not None:
        # Only where a changed term occurs can a verdict change; the raw-word check suffices.
        finder = compile_topics([_finder(terms)])
        texts = [(item, text) for item, text in texts if finder.may_match(*text)]
    for item, (title, summary) in texts:
        was = bool(before.match(title, summary, item.lang))
        now = bool(after.match(title, summary, item.lang))
        if was == now:
            continue
        outcome = Outcome(item, now, ())  # the reply names items; evidence would cost a scan
        (right if now == item.relevant else wrong).append(outcome)
    return Impact(len(items), tuple(wrong), tuple(right))


def changed_terms(before: Sequence[Topic], after: Sequence[Topic]) -> tuple[str, ...] | None:
    """The terms an edit added or removed anywhere in the topics; None when it changed more
    than terms (then any item's verdict may change)."""
    if [_frame(t) for t in before] != [_frame(t) for t in after]:
        return None
    changed: set[tuple[str, str]] = set()
    for old, new in zip(before, after, strict=True):
        changed |= _terms(old) ^ _terms(new)
    return tuple(sorted(term for _, term in changed))


def _frame(topic: Topic) -> Topic:
    """The topic without its terms: what must stay equal for a terms-only edit."""
    return replace(
        topic,
        groups=tuple(TermGroup(g.name, ()) for g in topic.groups),
        masks=(),
        vetoes=(),
        list_terms=(),
        joint_terms=(),
        entities=tuple(replace(e, forms=()) for e in topic.entities),
    )


def _terms(topic: Topic) -> set[tuple[str, str]]:
    """Every term of the topic, with where it stands."""
    out = {(f"group {g.name}", term) for g in topic.groups for term in g.terms}
    out |= {("mask", term) for term in topic.masks}
    out |= {("veto", term) for term in topic.vetoes}
    out |= {("list", term) for term in topic.list_terms}
    out |= {("joint", term) for term in topic.joint_terms}
    out |= {(f"entity {e.id}", form) for e in topic.entities for form in e.forms}
    return out


def _finder(terms: Sequence[str]) -> Topic:
    """A topic that matches any item where one of `terms` occurs."""
    return Topic(
        id="changed",
        name="changed",
        groups=(TermGroup("changed", tuple(terms)),),
        require=("changed",),
    )


def evidence_kinds(matcher: Matcher, title: str, summary: str) -> tuple[str, ...]:
    """The kinds of evidence that flag the text today (empty when nothing flags it).

    "entities": a gazetteer entity counted; "terms": a configured term counted; "lists": a
    matching topic saw an enumeration of names (a list that counted, or that was discounted).
    """
    entities = {entity_label(e) for t in matcher.topics for e in t.entities}
    kinds: set[str] = set()
    for e in matcher.explain(clean_title(title), clean_summary(summary)):
        if not e.matched:
            continue
        for hit in e.hits:
            kinds.add(ENTITIES if hit.term in entities else TERMS)
        if e.enumerations:
            kinds.add(LISTS)
    return tuple(k for k in EVIDENCE_KINDS if k in kinds)


def _cleaned(item: Judged) -> tuple[str, str]:
    return clean_title(item.title), clean_summary(item.summary)


def _match(matcher: Matcher, item: Judged) -> tuple[object, ...]:
    return matcher.match(*_cleaned(item), item.lang)


def _explain(matcher: Matcher, item: Judged) -> tuple[TopicExplanation, ...]:
    return matcher.explain(clean_title(item.title), clean_summary(item.summary), item.lang)
