"""Salience and role (issue 18): kind vetoes and their political override, another party's
entities, states in passing when the title is about other parties; the per-language word lists
of topics.toml and their validation; the evidence `explain` gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import Entity, KindVeto, Salience, TermGroup, Topic
from bot.topics.config import load_topics
from bot.topics.matcher import Matcher, compile_topics

SALIENCE = Salience(
    political=("summon*", "protest*", "aid", "вызвал*"),
    officials=("minist*", "ambassador*", "counterpart*", "министр*"),
    third_parties=("Lavrov", "EU"),
    home_places=("Tabriz",),
    background=("which", "amid", "after", "including", "котор*"),
    background_after=("fonunda",),
    aside=("also",),
    talk=("discuss*", "müzakirə*"),
)


def make(salience: Salience = SALIENCE) -> Matcher:
    return compile_topics(
        [
            Topic(
                id="az-ir",
                name="Azerbaijan–Iran",
                groups=(
                    TermGroup("azerbaijan", ("Azerbaijan*", "Baku", "Азербайдж*", "Azərbaycan*")),
                    TermGroup("iran", ("Iran*", "Tehran*", "Иран*")),
                ),
                require=("azerbaijan", "iran"),
                joint_terms=("trilateral", "sign"),
                list_terms=(
                    "Iran*",
                    "Azerbaijan*",
                    "Azərbaycan*",
                    "Israel*",
                    "Russia*",
                    "Tabriz",
                    "Turkmen*",
                    "Uzbek*",
                    "Pakistan*",
                    "Çin",
                    "Израил*",
                    "İsrail*",
                ),
                entities=(
                    Entity(
                        "customs",
                        "institution",
                        ("azerbaijan",),
                        ("State Customs Committee",),
                        alone=False,
                    ),
                    Entity(
                        "north", "epithet", ("azerbaijan",), ("northern neighbour",), alone=False
                    ),
                    Entity("socar", "institution", ("azerbaijan",), ("SOCAR",)),
                ),
                kind_vetoes=(
                    KindVeto("weather", ("earthquake*", "dust storm*")),
                    KindVeto("sports", ("football*", "match")),
                ),
                salience=salience,
            )
        ]
    )


def flagged(title: str, summary: str = "") -> bool:
    return bool(make().match(title, summary))


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("Earthquake in Iran felt in Azerbaijan", "No damage was reported.", False),
        ("Dust storm from Iran reaches Baku", "", False),
        ("Iran sends aid to Azerbaijan after earthquake", "", True),
        ("Baku summons Iran's ambassador over chants at football match", "", True),
        ("Azerbaijan beat Iran in a football friendly", "", False),
        ("Azerbaijan and Iran sign transit deal", "", True),
    ],
)
def test_a_kind_vetoes_the_item_unless_a_political_signal_stands_in_it(
    title: str, summary: str, expected: bool
) -> None:
    assert flagged(title, summary) is expected


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        # the other state only in a background clause of an item about other parties
        (
            "Israel and Azerbaijan sign defence deal",
            "The deal, which comes amid tensions with Iran, covers drones.",
            False,
        ),
        (
            "Израиль и Азербайджан подписали соглашение",
            "Документ, который касается дронов, раздражает Иран.",
            False,
        ),
        (
            "İsrail və Azərbaycan saziş imzalayıb",
            "Sənəd Iranla gərginlik fonunda imzalanıb.",
            False,
        ),
        # named as the subject of a sentence, or as an official, the state acts
        ("Israel and Azerbaijan sign defence deal", "Iran protested on Monday.", True),
        ("Russia and Iran sign gas deal", "SOCAR will carry the gas.", True),
        (
            "Russia and Iran sign gas deal",
            "Moscow also spoke with Azerbaijan's energy minister.",
            True,
        ),
        # "also" before a plain name: a side remark
        ("Russia and Iran sign gas deal", "Moscow is also talking to Azerbaijan.", False),
        # what other parties talk about, in any word order
        ("Lavrov and EU envoy discuss Iran and Azerbaijan", "", False),
        ("Çin və Pakistan diplomatları İran və Azərbaycan tranzitini müzakirə ediblər", "", False),
        # both states in the title, outside a background clause: the rule does not apply
        ("Russia, Iran and Azerbaijan sign trilateral corridor deal", "", True),
        # a home place is no other party
        ("Tabriz hosts Azerbaijani and Iranian officials", "", True),
    ],
)
def test_a_state_named_only_in_passing_does_not_make_the_item_relevant(
    title: str, summary: str, expected: bool
) -> None:
    assert flagged(title, summary) is expected, make().explain(title, summary)[0].lines()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Uzbekistan's State Customs Committee seizes Iranian saffron", False),
        ("State Customs Committee of Uzbekistan seizes Iranian saffron", False),
        ("State Customs Committee and Iran agree on data exchange", True),
        ("Iran and its northern neighbour Turkmenistan extend gas swap", True),  # known miss
        ("Tehran warns its northern neighbour against Israeli drones", True),
        (
            "Russia's northern neighbour? No: Iran criticises a reliable northern neighbour of "
            "Russia",
            False,
        ),
    ],
)
def test_an_entity_beside_another_partys_name_is_that_partys(title: str, expected: bool) -> None:
    assert flagged(title) is expected, make().explain(title, "")[0].lines()


def test_the_explanation_names_the_kind_the_lifting_signal_and_each_states_role() -> None:
    (veto,) = make().explain("Earthquake in Iran felt in Baku", "")
    assert veto.reason == "kind veto (weather): earthquake*"
    assert "  kind veto: weather: earthquake* in title: 'Earthquake'" in veto.lines()
    (lifted,) = make().explain("Iran sends aid to Azerbaijan after earthquake", "")
    assert lifted.matched
    assert lifted.political[0].text == "aid"
    assert any("lifted by political signal 'aid'" in line for line in lifted.lines())
    (passing,) = make().explain(
        "Israel and Azerbaijan sign defence deal", "It comes amid tensions with Iran."
    )
    assert passing.reason == "in passing: iran"
    assert "  role: iran: in passing (summary 'Iran' is background ('amid'))" in passing.lines()
    assert "  role: azerbaijan: acts (title 'Azerbaijan')" in passing.lines()


def test_without_word_lists_the_matcher_behaves_as_before() -> None:
    bare = make(Salience())
    assert bare.match(
        "Israel and Azerbaijan sign defence deal", "It comes amid tensions with Iran."
    )


# ------------------------------------------------------------------ topics.toml

HEAD = """
[[topics]]
id = "az-ir"
name = "Azerbaijan–Iran"
require = ["azerbaijan", "iran"]
[topics.groups]
azerbaijan = ["Azerbaijan*"]
iran = ["Iran*"]
"""


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "topics.toml"
    path.write_text(HEAD + text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_topics(path)
    return list(info.value.problems)


def test_word_lists_by_language_load_into_the_topic(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        HEAD
        + """
[topics.kind_vetoes.weather]
en = ["earthquake*"]
fa = ["زلزله*"]
[topics.salience.political]
ru = ["протест*"]
az = ["etiraz*"]
""",
        encoding="utf-8",
    )
    (topic,) = load_topics(path)
    assert topic.kind_vetoes == (KindVeto("weather", ("earthquake*", "زلزله*")),)
    assert topic.salience.political == ("протест*", "etiraz*")
    assert compile_topics([topic]).match("Earthquake in Iran felt in Azerbaijan", "") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[topics.kind_vetoes.weather]\nde = ['Erdbeben']\n",
            "kind_vetoes.weather, key 'de': must be one of 'en', 'ru', 'az' or 'fa'",
        ),
        (
            "[topics.kind_vetoes.Weather]\nen = ['storm']\n",
            "kind_vetoes, key 'Weather': must be lower-case letters and digits",
        ),
        (
            "[topics.kind_vetoes.weather]\nen = ['st*']\n",
            "kind_vetoes.weather.en: 'st*': a stem needs at least 3 letters before '*'",
        ),
        (
            "[topics.salience.political]\nen = ['ban', 'Ban']\n",
            "salience.political.en: duplicate term 'Ban'",
        ),
        (
            "[topics.salience.political]\nen = ['ban']\naz = ['ban']\n",
            "salience.political.az: duplicate term 'ban' (also in en)",
        ),
        (
            "[topics.salience.politics]\nen = ['ban']\n",
            "salience.politics: unknown field",
        ),
        (
            "[topics.salience.aside]\nen = 'also'\n",
            "salience.aside.en: must be a list",
        ),
    ],
)
def test_a_bad_word_list_is_one_clear_line_naming_its_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    problems = problems_of(tmp_path, text)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(tmp_path / "topics.toml")) for p in problems)


def test_the_shipped_topic_has_every_word_list_in_all_four_languages() -> None:
    import tomllib

    raw = tomllib.loads(
        (Path(__file__).resolve().parents[2] / "config" / "topics.toml").read_text("utf-8")
    )["topics"][0]
    assert set(raw["kind_vetoes"]) == {"weather", "sports", "brands", "origin"}
    for kind, by_language in raw["kind_vetoes"].items():
        assert set(by_language) == {"en", "ru", "az", "fa"}, kind
    for role in ("political", "officials", "third_parties", "home_places", "background", "talk"):
        assert set(raw["salience"][role]) == {"en", "ru", "az", "fa"}, role
    (topic,) = load_topics(Path(__file__).resolve().parents[2] / "config" / "topics.toml")
    assert len(topic.entities) >= 150


def _script(form: str) -> str:
    first = form[0]
    if "\u0400" <= first <= "\u04ff":
        return "cyrillic"
    if "\u0600" <= first <= "\u06ff":
        return "arabic"
    return "latin"  # English and Azerbaijani


def test_every_shipped_entity_has_forms_in_the_latin_cyrillic_and_persian_scripts() -> None:
    (topic,) = load_topics(Path(__file__).resolve().parents[2] / "config" / "topics.toml")
    short = [
        e.id
        for e in topic.entities
        if {_script(f) for f in e.forms} != {"latin", "cyrillic", "arabic"}
    ]
    assert not short, short
