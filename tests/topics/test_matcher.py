"""Topic matching: stems, phrases, masks, vetoes, enumerations, explanations, compile errors."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.models import TermGroup, TermHit, Topic
from bot.topics.matcher import (
    LIST,
    MASK,
    VETO,
    Enumeration,
    Matcher,
    compile_topics,
    parse_term,
)


def topic(
    *,
    az: tuple[str, ...] = (
        "Azerbaijan*",
        "Азербайдж*",
        "Azərbaycan*",
        "Baku",
        "Republic of Azerbaijan",
    ),
    ir: tuple[str, ...] = ("Iran*", "Иран*", "ایران*", "Tehran*"),
    masks: tuple[str, ...] = (),
    vetoes: tuple[str, ...] = (),
    list_terms: tuple[str, ...] = (),
    list_min: int = 3,
    joint_terms: tuple[str, ...] = (),
    topic_id: str = "az-ir",
) -> Topic:
    return Topic(
        id=topic_id,
        name="Azerbaijan–Iran",
        groups=(TermGroup("azerbaijan", az), TermGroup("iran", ir)),
        require=("azerbaijan", "iran"),
        masks=masks,
        vetoes=vetoes,
        list_terms=list_terms,
        list_min=list_min,
        joint_terms=joint_terms,
    )


def matched(matcher: Matcher, title: str, summary: str = "") -> bool:
    return bool(matcher.match(title, summary))


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Azerbaijan and Iran sign deal", True),
        ("Azerbaijani and Iranian ministers meet", True),
        ("Азербайджан и Иран подписали соглашение", True),
        ("Азербайджано-иранских отношений", True),
        ("Ираном и Азербайджаном", True),
        ("Azərbaycanın İranla ticarəti", True),
        ("AZƏRBAYCAN VƏ İRAN", True),
        ("Tehran–Baku bus route", True),
        ("Iranian-Azerbaijani venture", True),
        ("صادرات برق ايران به باکو", False),  # باکو is not a term of this topic
        # Whole words only: a term is not found inside another word.
        ("Bakunin and Iran", False),
        ("Azerbaijan and Miran", False),
        ("Azerbaijan alone", False),
    ],
)
def test_stems_and_whole_words_match_inflected_forms(title: str, expected: bool) -> None:
    assert matched(compile_topics([topic()]), title) is expected


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("Republic of Azerbaijan", "the Republic of Azerbaijan said", True),
        ("Republic of Azerbaijan", "Republic of Azerbaijan", True),
        ("Republic of Azerbaijan", "republic, of Azerbaijan", False),  # punctuation breaks it
        ("Republic of Azerbaijan", "Republic of Armenia and Azerbaijan", False),
        ("Западн* Азербайджан*", "провинции Западный Азербайджан", True),
        ("Западн* Азербайджан*", "в Западном Азербайджане", True),
        ("Западн* Азербайджан*", "западные страны и Азербайджан", False),
        ("Baku-Tbilisi-Ceyhan", "the Baku–Tbilisi–Ceyhan pipeline", True),
        ("Baku-Tbilisi-Ceyhan", "Baku Tbilisi Ceyhan", True),
        ("علی‌اف", "الهام علی‌اف گفت", True),
        ("علی‌اف", "الهام عليأف", True),
        ("İran*", "IRANIAN", True),
        ("Iran", "Iranian", False),  # no star: whole word only
    ],
)
def test_phrases_match_word_by_word_with_stems(term: str, text: str, expected: bool) -> None:
    t = Topic(id="t", name="t", groups=(TermGroup("g", (term,)),), require=("g",))
    assert matched(compile_topics([t]), text) is expected


def test_match_reports_which_terms_of_which_groups_matched_in_which_field() -> None:
    result = compile_topics([topic()]).match(
        "Azerbaijan expels two Iranian diplomats", "Baku declared them persona non grata."
    )
    assert len(result) == 1
    assert result[0].topic_id == "az-ir"
    assert set(result[0].hits) == {
        TermHit("azerbaijan", "Azerbaijan*", "title", "Azerbaijan"),
        TermHit("iran", "Iran*", "title", "Iranian"),
        TermHit("azerbaijan", "Baku", "summary", "Baku"),
    }
    assert result[0].terms_by_group() == {"azerbaijan": ["Azerbaijan*", "Baku"], "iran": ["Iran*"]}


def test_a_group_may_match_in_the_title_and_the_other_in_the_summary() -> None:
    m = compile_topics([topic()])
    assert matched(m, "Baku marathon draws runners", "Runners from Iran took part.")


MASKS = ("East Azerbaijan*", "West Azerbaijan*", "Западн* Азербайджан*", "Şərqi Azərbaycan*")


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("Floods hit East Azerbaijan province", "Iran's crisis agency responded.", False),
        ("Iran, Turkey open crossing in West Azerbaijan", "", False),
        ("В провинции Западный Азербайджан Ирана", "", False),
        ("ŞƏRQİ AZƏRBAYCAN OSTANINDA", "İranın şimal-qərbində", False),
        # A masked phrase hides only itself: the Republic named elsewhere still counts.
        ("Nakhchivan, Iran's West Azerbaijan province", "Azerbaijani officials agreed", True),
    ],
)
def test_masked_phrases_do_not_count(title: str, summary: str, expected: bool) -> None:
    m = compile_topics([topic(masks=MASKS)])
    assert matched(m, title, summary) is expected


def test_explanation_lists_masked_phrases() -> None:
    (expl,) = compile_topics([topic(masks=MASKS)]).explain("Floods in East Azerbaijan", "Iran")
    assert expl.masked == (TermHit(MASK, "East Azerbaijan*", "title", "East Azerbaijan"),)
    assert expl.missing == ("azerbaijan",)
    assert not expl.matched


def test_any_veto_term_blocks_the_match_and_is_explained() -> None:
    m = compile_topics([topic(vetoes=("Eurovision", "song contest"))])
    assert matched(m, "Azerbaijan and Iran sign deal")
    assert not matched(m, "Azerbaijan and Iran at the Song Contest")
    (expl,) = m.explain("Eurovision: Azerbaijan gives Iran 12 points", "")
    assert expl.vetoes == (TermHit(VETO, "Eurovision", "title", "Eurovision"),)
    assert expl.reason == "veto: Eurovision"
    assert not expl.matched


def test_a_veto_inside_a_masked_phrase_does_not_fire() -> None:
    m = compile_topics([topic(masks=("song contest winner",), vetoes=("song contest",))])
    assert matched(m, "Azerbaijan and Iran honour song contest winner")


NAMES = (
    "Iran*",
    "Azerbaijan*",
    "Russia*",
    "Turk*",
    "Georgia*",
    "Kazakh*",
    "Ital*",
    "South Korea",
    "Korea*",
    "Иран*",
    "Росси*",
    "Турци*",
    "İran*",
    "Türkiyə*",
    "Gürcüstan*",
    "Özbəkistan*",
    "ایران*",
    "روسیه*",
    "ترکیه*",
)


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        # An Iran mention that only stands in a list of three or more names is incidental.
        (
            "Azerbaijani pianist wins Vienna competition",
            "Finalists from Iran, South Korea and Italy.",
            False,
        ),
        ("В Баку прошел фестиваль", "Среди гостей были туристы из России, Турции и Ирана.", False),
        ("Bakıda festival", "Türkiyə, Gürcüstan, İran və Özbəkistan mətbəxləri.", False),
        ("جشنواره در باکو", "مهمانانی از ایران، روسیه و ترکیه", False),
        ("Baku hosts forum", "Guests from Iran & Russia & Turkey attended.", False),
        # Two names are not an enumeration.
        ("Baku hosts forum", "Guests from Iran and Russia attended.", True),
        # A dash, a semicolon or a non-joining word between names breaks the list.
        ("Baku hosts forum", "Iran–Russia–Turkey talks were mentioned.", True),
        ("Baku hosts forum", "Iran; Russia and Turkey sent guests.", True),
        ("Baku hosts forum", "Iran sent guests, Russia and Turkey did not.", True),
        # The same item with Iran outside the list matches.
        ("Azerbaijan and Iran sign deal", "Observers from Iran, Russia and Turkey attended.", True),
    ],
)
def test_a_mention_inside_an_enumeration_does_not_count(
    title: str, summary: str, expected: bool
) -> None:
    m = compile_topics(
        [topic(list_terms=NAMES, az=("Azerbaijan*", "Baku", "Баку", "Bakıda", "باکو"))]
    )
    assert matched(m, title, summary) is expected


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Caspian caviar prices soar", "Farms in Iran, Azerbaijan and Russia cannot keep up."),
        (
            "Passport index: Azerbaijan among movers",
            "Georgia, Kazakhstan, Azerbaijan and Iran changed positions.",
        ),
    ],
)
def test_an_enumeration_naming_every_required_group_is_a_roundup(title: str, summary: str) -> None:
    m = compile_topics([topic(list_terms=NAMES)])
    assert not matched(m, title, summary)
    (expl,) = m.explain(title, summary)
    assert expl.roundup
    assert expl.reason.startswith("roundup")


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Azerbaijan, Iran open new border bridge",
            "Guests from Iran, Azerbaijan and Russia came.",
        ),
        ("Iran thanks Azerbaijan", "Farms in Iran, Azerbaijan and Russia cannot keep up."),
    ],
)
def test_a_list_is_no_roundup_when_both_states_are_also_named_outside_it(
    title: str, summary: str
) -> None:
    m = compile_topics([topic(list_terms=NAMES)])
    (expl,) = m.explain(title, summary)
    assert expl.matched, expl.lines()
    assert not expl.roundup
    assert expl.discounted  # the listed names still do not count themselves


JOINT = (
    "trilateral",
    "talks",
    "signed",
    "sign",
    "deal",
    "corridor*",
    "трехсторонн*",
    "подписа*",
    "соглашени*",
    "üçtərəfli*",
    "saziş*",
    "imzala*",
    "سه‌جانبه",
    "توافق*",
    "امضا*",
)
JOINT_NAMES = (*NAMES, "Азербайдж*", "Azərbaycan*", "Rusiya*", "جمهوری آذربایجان")
JOINT_AZ = ("Azerbaijan*", "Азербайдж*", "Azərbaycan*", "جمهوری آذربایجان", "Baku")


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        # A joint term in the enumeration's sentence: the listed countries act together.
        ("Azerbaijan, Iran and Russia sign corridor deal", "", True),
        ("Russia, Iran, Azerbaijan hold trilateral talks on the North–South corridor", "", True),
        ("Азербайджан, Иран и Россия подписали соглашение", "", True),
        ("Россия, Иран и Азербайджан провели трёхсторонние переговоры", "", True),
        ("Azərbaycan, İran və Rusiya üçtərəfli saziş imzalayıb", "", True),
        ("ایران، روسیه و جمهوری آذربایجان توافق‌نامه سه‌جانبه امضا کردند", "", True),
        ("Corridor talks", "Ministers of Iran, Azerbaijan and Russia signed a protocol.", True),
        # No joint term: still a roundup.
        (
            "Caspian caviar prices soar",
            "Farms in Iran, Azerbaijan and Russia cannot keep up with demand.",
            False,
        ),
        (
            "Passport index: Azerbaijan among biggest movers",
            "Georgia, Kazakhstan, Azerbaijan and Iran changed positions.",
            False,
        ),
        ("Цены на икру выросли", "Фермы в Иране, Азербайджане и России не справляются.", False),
        ("Kürü qiymətləri artıb", "İran, Azərbaycan və Rusiya fermaları çatdırmır.", False),
        ("قیمت خاویار", "مزارع ایران، جمهوری آذربایجان و روسیه پاسخگو نیستند", False),
        # A joint term counts only in the enumeration's own sentence and field.
        (
            "Caspian caviar prices soar",
            "Farms in Iran, Azerbaijan and Russia cannot keep up. Russia signed a deal with Egypt.",
            False,
        ),
        ("Egypt and Russia sign grain deal", "Exports to Iran, Azerbaijan and Turkey rose.", False),
        ("Caviar: Iran, Azerbaijan and Russia lag!", "Signed, the editors", False),
    ],
)
def test_a_joint_term_in_its_sentence_keeps_an_enumeration_from_being_a_roundup(
    title: str, summary: str, expected: bool
) -> None:
    m = compile_topics([topic(az=JOINT_AZ, list_terms=JOINT_NAMES, joint_terms=JOINT)])
    assert matched(m, title, summary) is expected, m.explain(title, summary)[0].lines()


def test_names_in_a_joint_enumeration_count_like_any_mention() -> None:
    summary = "Delegations of Iran, Russia and Turkey signed the declaration."
    assert not matched(compile_topics([topic(list_terms=NAMES)]), "Baku forum ends", summary)
    m = compile_topics([topic(list_terms=NAMES, joint_terms=JOINT)])
    assert matched(m, "Baku forum ends", summary)
    (expl,) = m.explain("Baku forum ends", summary)
    assert expl.enumerations == (
        Enumeration(
            "summary", "Iran, Russia and Turkey", ("Iran", "Russia", "Turkey"), ("signed",)
        ),
    )
    assert expl.discounted == ()
    assert TermHit("iran", "Iran*", "summary", "Iran") in expl.hits
    assert "(3 names; joint: 'signed')" in "\n".join(expl.lines())


def test_a_masked_joint_term_does_not_count() -> None:
    m = compile_topics([topic(list_terms=NAMES, joint_terms=JOINT, masks=("sign language",))])
    summary = "Iran, Azerbaijan and Russia use sign language interpreters"
    assert not matched(m, "Caspian forum", summary)
    assert matched(m, "Caspian forum", summary.replace("use sign language", "sign a deal with"))


def test_list_min_sets_the_enumeration_size() -> None:
    summary = "Guests from Iran and Russia attended."
    assert matched(compile_topics([topic(list_terms=NAMES, list_min=3)]), "Baku", summary)
    assert not matched(compile_topics([topic(list_terms=NAMES, list_min=2)]), "Baku", summary)


def test_explanation_shows_enumerations_and_discounted_mentions() -> None:
    m = compile_topics([topic(list_terms=NAMES)])
    (expl,) = m.explain("Azerbaijani pianist wins", "Finalists from Iran, South Korea and Italy.")
    assert expl.enumerations == (
        Enumeration("summary", "Iran, South Korea and Italy", ("Iran", "South Korea", "Italy")),
    )
    assert expl.discounted == (TermHit("iran", "Iran*", "summary", "Iran"),)
    assert expl.hits == (TermHit("azerbaijan", "Azerbaijan*", "title", "Azerbaijani"),)
    assert expl.hits_by_group() == {"azerbaijan": ["Azerbaijan*"]}
    assert expl.missing == ("iran",)
    assert expl.reason == "missing: iran"
    lines = "\n".join(expl.lines())
    assert "no match" in lines
    assert "'Iran, South Korea and Italy'" in lines
    assert "discounted iran" in lines
    assert all(h.group != LIST for h in expl.hits)


def test_explain_covers_every_topic_and_match_only_matched_ones() -> None:
    m = compile_topics([topic(topic_id="first"), topic(topic_id="second", ir=("Tehran",))])
    expl = m.explain("Azerbaijan and Iran sign deal", "")
    assert [(e.topic_id, e.matched) for e in expl] == [("first", True), ("second", False)]
    assert expl[1].missing == ("iran",)
    assert [t.topic_id for t in m.match("Azerbaijan and Iran sign deal", "")] == ["first"]
    assert m.match("Azerbaijan and Iran sign deal", "", language="en") == m.match(
        "Azerbaijan and Iran sign deal", ""
    )


def test_explanation_of_a_match_says_why() -> None:
    (expl,) = compile_topics([topic()]).explain("Baku and Tehran agree", "")
    assert expl.matched
    assert expl.reason == "every required group matched"
    assert expl.hits_by_group() == {"azerbaijan": ["Baku"], "iran": ["Tehran*"]}
    assert expl.lines()[0] == "az-ir: MATCH (every required group matched)"


def test_results_do_not_change_when_thousands_of_unrelated_terms_are_added() -> None:
    filler = [f"zz{n:05d}" + ("*" if n % 2 else "") for n in range(4000)]
    base = topic()
    small = compile_topics([base])
    az, ir = base.groups[0].terms, base.groups[1].terms
    large = compile_topics([topic(az=(*az, *filler[:2000]), ir=(*ir, *filler[2000:]))])
    for title in ["Azerbaijan and Iran", "Baku only", "Tehran and Baku", "Iranian zz0000"]:
        assert small.match(title, "") == large.match(title, "")
    (hit,) = large.match("Azerbaijan zz03001abc", "")
    assert hit.terms_by_group() == {"azerbaijan": ["Azerbaijan*"], "iran": ["zz03001*"]}


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("", "empty term"),
        ("   ", "empty term"),
        ("Ir*an", "'*' may only end a word"),
        ("Ir*", "at least 3 letters"),
        ("--", "no letters or digits"),
        ("Iran **", "'*' may only end a word"),
    ],
)
def test_terms_that_cannot_match_are_rejected(term: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_term(term)


def test_parse_term_folds_words_like_the_text() -> None:
    assert parse_term("İRAN–Azərbaycan*") == (("iran", False), ("azərbaycan", True))
    assert parse_term("Republic of Azerbaijan") == (
        ("republic", False),
        ("of", False),
        ("azerbaijan", False),
    )


def test_compile_topics_lists_every_bad_term() -> None:
    bad = topic(az=("Azerbaijan*", "A*"), masks=("",), vetoes=("x*y",), joint_terms=("si*",))
    with pytest.raises(ConfigError) as info:
        compile_topics([bad])
    assert len(info.value.problems) == 4
    assert info.value.problems[3].startswith("topic az-ir: joint_terms:")
    assert info.value.problems[0].startswith("topic az-ir: azerbaijan:")
