"""bot.topics.scoring and bot.topics.labelled: scores, an edit's impact and evidence kinds, on
small labelled tables and on the shipped dev set."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.models import Entity, TermGroup, Topic
from bot.text.clean import clean_summary, clean_title
from bot.topics.config import load_topics
from bot.topics.labelled import read_labelled, report_json, report_lines
from bot.topics.matcher import compile_topics
from bot.topics.scoring import Judged, changed_terms, evidence_kinds, impact, score
from tests.topics.test_relevance import DEV_SET, REPO

TOPIC = Topic(
    id="az-ir",
    name="Azerbaijan–Iran",
    groups=(TermGroup("az", ("Baku", "Azerbaijan*")), TermGroup("ir", ("Tehran", "Iran*"))),
    require=("az", "ir"),
    list_terms=("Azerbaijan", "Iran", "Turkey", "Georgia", "Armenia"),
    list_min=3,
    joint_terms=("signed",),
    entities=(Entity("irgc", "institution", ("ir",), ("IRGC",)),),
)
WITHOUT_BAKU = Topic(
    id="az-ir",
    name="Azerbaijan–Iran",
    groups=(TermGroup("az", ("Azerbaijan*",)), TermGroup("ir", ("Tehran", "Iran*"))),
    require=("az", "ir"),
)


def judged(n: int, title: str, relevant: bool) -> Judged:
    return Judged(f"t-{n}", title, "", "en", "APA", relevant)


TABLE = [
    judged(1, "Baku hosts Iranian minister", True),  # flagged, relevant
    judged(2, "Azerbaijan and Iran sign a gas deal", True),  # flagged, relevant
    judged(3, "Tehran weather turns cold", True),  # a miss: nothing for "az"
    judged(4, "Baku mayor meets Iranian chef", False),  # a false alarm
    judged(5, "Paris weather", False),
]


def test_score_counts_and_lists_misses_and_false_alarms_with_evidence() -> None:
    result = score(compile_topics([TOPIC]), TABLE)
    assert (result.true_positives, result.false_positives) == (2, 1)
    assert (result.false_negatives, result.true_negatives) == (1, 1)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)
    [miss] = result.misses
    assert miss.item.id == "t-3"
    assert miss.evidence == ("az-ir: no match (missing: az)",)
    [alarm] = result.false_alarms
    assert alarm.item.id == "t-4"
    assert "  az: Baku in title: 'Baku'" in alarm.evidence


def test_an_edit_that_removes_a_term_turns_a_relevant_item_into_a_miss() -> None:
    found = impact(compile_topics([TOPIC]), compile_topics([WITHOUT_BAKU]), TABLE)
    assert found.labelled == 5
    assert [o.item.id for o in found.new_misses] == ["t-1"]
    assert [o.item.id for o in found.put_right] == ["t-4"]  # the false alarm goes too
    assert found.changed == 2
    assert found.new_false_alarms == ()
    unchanged = impact(compile_topics([TOPIC]), compile_topics([TOPIC]), TABLE)
    assert unchanged.changed == 0


@pytest.mark.parametrize(
    ("title", "kinds"),
    [
        ("Baku hosts Iranian minister", ("terms",)),
        ("IRGC delegation arrives in Baku", ("terms", "entities")),
        ("Iran, Turkey and Azerbaijan signed a transit deal", ("terms", "lists")),
        ("Iran, Turkey and Azerbaijan at a summit", ()),  # a roundup is not flagged
        ("Paris weather", ()),
    ],
)
def test_evidence_kinds_name_what_flags_an_item(title: str, kinds: tuple[str, ...]) -> None:
    assert evidence_kinds(compile_topics([TOPIC]), title, "") == kinds


def test_a_labelled_file_skips_borderline_labels_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"id": "a", "title": "Baku hosts Iranian minister", "label": True}),
        json.dumps({"id": "b", "title": "Friendly match", "label": "borderline"}),
        "{not json",
        json.dumps({"id": "c", "title": "Tehran weather turns cold", "label": True}),
    ]
    file = read_labelled(lines)
    assert [i.id for i in file.items] == ["a", "c"]
    assert file.unscored == 1
    assert [b.line for b in file.bad] == [3]
    result = score(compile_topics([TOPIC]), file.items)
    text = report_lines(result, file)
    assert text[0] == "precision 1.00  recall 0.50  F1 0.67"
    assert "1 without a true/false label, not scored" in text[1]
    assert "misses (marked relevant, not flagged): 1" in text
    assert "  c: Tehran weather turns cold" in text
    machine = report_json(result, file)
    assert machine["recall"] == 0.5
    assert [m["id"] for m in machine["misses"]] == ["c"]


def test_the_shipped_config_scores_1_00_on_the_shipped_dev_set() -> None:
    if not DEV_SET.is_file():
        pytest.skip(f"labelled dev set not found at {DEV_SET}")
    file = read_labelled(DEV_SET.read_text(encoding="utf-8").splitlines())
    result = score(compile_topics(load_topics(REPO / "config" / "topics.toml")), file.items)
    assert report_lines(result, file)[0] == "precision 1.00  recall 1.00  F1 1.00"
    assert result.total == len(file.items) > 50


def test_changed_terms_name_what_a_terms_only_edit_touches() -> None:
    assert changed_terms([TOPIC], [TOPIC]) == ()
    assert changed_terms([TOPIC], [replace(TOPIC, vetoes=("minister",))]) == ("minister",)
    fewer = replace(TOPIC, groups=(TermGroup("az", ("Azerbaijan*",)), TOPIC.groups[1]))
    assert changed_terms([TOPIC], [fewer]) == ("Baku",)
    # Anything but terms (a required group, a new topic) may change any verdict.
    assert changed_terms([TOPIC], [replace(TOPIC, require=("az",))]) is None
    assert changed_terms([TOPIC], [TOPIC, replace(TOPIC, id="other")]) is None


def brute_force(before: list[Topic], after: list[Topic], items: list[Judged]) -> set[str]:
    """Every item whose verdict differs, judging every item with both configurations."""
    old, new = compile_topics(before), compile_topics(after)
    return {
        i.id
        for i in items
        if bool(old.match(clean_title(i.title), clean_summary(i.summary)))
        != bool(new.match(clean_title(i.title), clean_summary(i.summary)))
    }


def without_form(entity: Entity, form: str) -> Entity:
    return replace(entity, forms=tuple(f for f in entity.forms if f != form))


def edits_of(topic: Topic) -> list[Topic]:
    """Terms-only edits of every kind, and one structural edit."""
    first, second = topic.groups[0], topic.groups[1]
    return [
        replace(topic, groups=(TermGroup(first.name, first.terms[1:]), second)),
        replace(topic, groups=(TermGroup(first.name, first.terms[2:]), second)),
        replace(topic, groups=(first, TermGroup(second.name, second.terms[:-3]))),
        replace(topic, groups=(TermGroup(first.name, (*first.terms, "Ganja")), second)),
        replace(topic, masks=(*topic.masks, "Baku Crystal Hall"), vetoes=(*topic.vetoes, "tomato")),
        replace(topic, entities=topic.entities[1:]),
        replace(topic, entities=tuple(without_form(e, "Арагчи*") for e in topic.entities)),
        replace(topic, list_terms=tuple(t for t in topic.list_terms if t != "Russia*")),
        replace(topic, list_terms=topic.list_terms[:2]),
        replace(topic, require=topic.require[:1]),
    ]


def test_impact_finds_exactly_the_verdicts_a_full_check_finds_on_the_dev_set() -> None:
    if not DEV_SET.is_file():
        pytest.skip(f"labelled dev set not found at {DEV_SET}")
    items = list(read_labelled(DEV_SET.read_text(encoding="utf-8").splitlines()).items)
    [topic] = load_topics(REPO / "config" / "topics.toml")
    changed_any = False
    for edited in edits_of(topic):
        found = impact(compile_topics([topic]), compile_topics([edited]), items)
        ids = {o.item.id for o in (*found.turned_wrong, *found.put_right)}
        assert ids == brute_force([topic], [edited], items)
        changed_any |= bool(ids)
    assert changed_any  # the edits above do change verdicts on the dev set
