"""Gazetteer entities in the matcher and in topics.toml: alone vs with-other, explanations,
one state's own lists, validation messages naming file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import Entity, TermGroup, Topic
from bot.topics.config import load_topics
from bot.topics.matcher import Matcher, compile_topics

ENTITIES = (
    Entity("irgc", "institution", ("iran",), ("IRGC", "КСИР", "سپاه")),
    Entity("socar", "institution", ("azerbaijan",), ("SOCAR", "ГНКАР*")),
    Entity("bayramov", "person", ("azerbaijan",), ("Bayramov*", "Байрамов*")),
    Entity("astara-crossing", "place", ("azerbaijan", "iran"), ("Astara crossing",), alone=False),
    Entity("aghband", "project", ("azerbaijan", "iran"), ("Aghband bridge",), alone=False),
)


def make(entities: tuple[Entity, ...] = ENTITIES, list_terms: tuple[str, ...] = ()) -> Matcher:
    return compile_topics(
        [
            Topic(
                id="az-ir",
                name="Azerbaijan–Iran",
                groups=(
                    TermGroup("azerbaijan", ("Azerbaijan*", "Baku", "Азербайдж*")),
                    TermGroup("iran", ("Iran*", "Tehran*", "Иран*")),
                ),
                require=("azerbaijan", "iran"),
                list_terms=list_terms,
                entities=entities,
            )
        ]
    )


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        # An entity that counts alone stands for its state like a term.
        ("IRGC drills near Azerbaijan border", "", True),
        ("SOCAR delegation visits Tehran", "", True),
        ("Bayramovun Tehrana səfəri", "", True),  # an Azerbaijani suffix on a stem form
        ("ГНКАР и КСИР", "", True),  # two institutions, one per state
        # An institution or official alone is not the topic.
        ("IRGC navy seizes tanker", "", False),
        ("SOCAR reports higher profit", "Bayramov comments.", False),
        # With-other entities need another state's own hit ...
        ("Astara crossing reopens", "Trucks from Iran queued.", True),
        ("Aghband bridge to open", "Azerbaijani officials said.", True),
        # ... and two of them never support each other.
        ("Astara crossing reopens", "Aghband bridge is ready too.", False),
        ("Astara crossing reopens", "", False),
        # An alone entity is a state's own hit, so a shared project can lean on it.
        ("Aghband bridge to open", "IRGC engineers on site.", True),
    ],
)
def test_entities_count_alone_or_only_beside_another_states_own_hit(
    title: str, summary: str, expected: bool
) -> None:
    assert bool(make().match(title, summary)) is expected, make().explain(title, summary)[0]


def test_entity_hits_are_explained_by_id_and_kind_like_terms() -> None:
    (e,) = make().explain("IRGC drills near Azerbaijan border", "")
    assert e.hits_by_group() == {"iran": ["irgc (institution)"], "azerbaijan": ["Azerbaijan*"]}
    assert "  iran: irgc (institution) in title: 'IRGC'" in e.lines()
    (m,) = make().match("IRGC drills near Azerbaijan border", "")
    assert m.terms_by_group()["iran"] == ["irgc (institution)"]


def test_a_with_other_hit_without_support_is_listed_as_needing_a_second_signal() -> None:
    (e,) = make().explain("Astara crossing reopens", "")
    assert not e.matched
    assert {h.group for h in e.unsupported} == {"azerbaijan", "iran"}
    assert any(line.startswith("  needs a second signal") for line in e.lines())
    assert e.missing == ("azerbaijan", "iran")


def test_a_list_that_is_mostly_one_states_places_is_not_discounted() -> None:
    cities = ("Tehran*", "Mashhad", "Tabriz", "Dubai", "Istanbul", "Baku")
    m = make(list_terms=cities)
    mashhad = Entity("mashhad", "place", ("iran",), ("Mashhad",))
    m2 = make((*ENTITIES, mashhad), cities)
    # Flights from Baku to Tehran, Mashhad and Tabriz: every destination is Iran's.
    assert m2.match("SOCAR staff fly to Tehran, Mashhad and Tabriz", "")
    # A carrier's routes to several states: Tehran is one incidental name among them.
    assert not m.match("SOCAR staff fly to Tehran, Dubai and Istanbul", "")


GAZETTEER_TOPIC = """
[[topics]]
id = "az-ir"
name = "A"
require = ["azerbaijan", "iran"]
[topics.groups]
azerbaijan = ["Azerbaijan*", "Baku"]
iran = ["Iran*"]
"""


def _problems(tmp_path: Path, entities: str) -> list[str]:
    path = tmp_path / "topics.toml"
    path.write_text(GAZETTEER_TOPIC + entities, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_topics(path)
    return list(info.value.problems)


def test_a_good_gazetteer_loads_into_entity_records(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        GAZETTEER_TOPIC
        + """
[[topics.entities]]
id = "socar"
kind = "institution"
state = "azerbaijan"
forms = ["SOCAR", "ГНКАР"]

[[topics.entities]]
id = "aghband"
kind = "project"
state = ["azerbaijan", "iran"]
counts = "with-other"
forms = ["Aghband*"]
""",
        encoding="utf-8",
    )
    (topic,) = load_topics(path)
    assert topic.entities == (
        Entity("socar", "institution", ("azerbaijan",), ("SOCAR", "ГНКАР")),
        Entity("aghband", "project", ("azerbaijan", "iran"), ("Aghband*",), alone=False),
    )


def test_bad_entities_are_reported_with_file_entry_and_field(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
[[topics.entities]]
id = "socar"
kind = "company"
state = "azerbaijan"
forms = ["SOCAR", "Baku"]

[[topics.entities]]
id = "socar"
kind = "institution"
state = ["iran", "turkey"]
counts = "sometimes"
forms = ["socar", "Ir*"]

[[topics.entities]]
id = "Bad Id"
kind = "person"
state = "iran"
forms = []
""",
    )
    head = f"{tmp_path / 'topics.toml'}: topic 'az-ir': "
    expected = [
        "entity #1 'socar', kind: must be one of",
        "entity #1 'socar', forms: 'Baku' is also in groups.azerbaijan",
        "entity #2 'socar', id: duplicate entity id 'socar'",
        "entity #2 'socar', state: names no group 'turkey'",
        "entity #2 'socar', counts: must be one of 'alone' or 'with-other'",
        "entity #2 'socar', forms: 'socar' is also in entity #1 'socar'",
        "entity #2 'socar', forms: 'Ir*': a stem needs at least 3 letters",
        "entity 'Bad Id', id: must be lower-case letters and digits",
        "entity 'Bad Id', forms: must not be empty",
    ]
    for text in expected:
        assert any(p.startswith(head + text) for p in problems), (text, problems)


def test_the_shipped_gazetteer_loads_and_covers_both_states_and_every_kind() -> None:
    (topic,) = load_topics(Path(__file__).resolve().parents[2] / "config" / "topics.toml")
    kinds = {e.kind for e in topic.entities}
    assert kinds == {"institution", "person", "place", "project", "epithet"}
    assert {g for e in topic.entities for g in e.groups} == {"azerbaijan", "iran"}
    assert any(not e.alone for e in topic.entities)


def test_a_hit_inside_a_longer_entity_hit_of_another_group_does_not_count() -> None:
    army = Entity("ir-army", "institution", ("iran",), ("ارتش",))
    foreign = Entity("az-army", "institution", ("azerbaijan",), ("ارتش جمهوری آذربایجان",))
    m = compile_topics(
        [
            Topic(
                id="az-ir",
                name="Azerbaijan–Iran",
                groups=(
                    TermGroup("azerbaijan", ("جمهوری آذربایجان", "ایران و آذربایجان")),
                    TermGroup("iran", ("ایران*",)),
                ),
                require=("azerbaijan", "iran"),
                entities=(army, foreign),
            )
        ]
    )
    assert not m.match("رزمایش ارتش جمهوری آذربایجان", "")  # Azerbaijan's army, not Iran's
    assert m.match("دیدار فرماندهان ارتش و ارتش جمهوری آذربایجان", "")  # both armies
    # Group terms do not swallow each other: this azerbaijan term keeps its Iran.
    assert m.match("همکاری ایران و آذربایجان", "")
