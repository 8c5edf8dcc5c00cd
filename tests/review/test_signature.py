"""Event signatures: one id per person, act, place and figure whatever the language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.models import Entity
from bot.review.lexicon import Lexicon
from bot.review.signature import Signature, sign
from bot.topics.folding import FoldCache

T0 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # a Tuesday
LEXICON = Lexicon.build()


def _sign(title: str, summary: str = "", lexicon: Lexicon = LEXICON) -> Signature:
    return sign(title, summary, T0, lexicon, FoldCache())


@pytest.mark.parametrize(
    "title",
    [
        "Azerbaijan's foreign minister arrives in Tehran",
        "Глава МИД Азербайджана прибыл в Тегеран",
        "Azərbaycanın xarici işlər naziri Tehrana gəlib",
        "وزیر امور خارجه جمهوری آذربایجان وارد تهران شد",
        "Jeyhun Bayramov arrives in Tehran",
        "Джейхун Байрамов прибыл в Тегеран",
        "جیحون بایرام‌اف وارد تهران شد",
    ],
)
def test_a_title_and_a_name_are_one_person_in_four_languages(title: str) -> None:
    sig = _sign(title)
    assert sig.people == {"az-bayramov"}
    assert sig.acts == {"visit"}


@pytest.mark.parametrize(
    ("title", "person"),
    [
        ("Iran's oil minister meets Azerbaijani deputy premier", {"ir-paknejad", "az-mustafayev"}),
        (
            "Министр нефти Ирана встретился с вице-премьером Азербайджана",
            {"ir-paknejad", "az-mustafayev"},
        ),
        # A title next to a name is that person's: no second person is guessed from it.
        ("Iranian Foreign Minister Abbas Araghchi meets Bayramov", {"ir-araghchi", "az-bayramov"}),
        # "İranın Azərbaycandakı səfiri": the ambassador *in* Azerbaijan is Iran's.
        ("İranın Azərbaycandakı səfiri XİN-ə çağırılıb", {"ir:ambassador"}),
        ("Azərbaycanın Tehrandakı səfiri İran XİN-ə çağırılıb", {"az:ambassador"}),
        # "Khamenei adviser" is the adviser, not Khamenei.
        ("Khamenei adviser warns against border changes", {"ir-velayati"}),
    ],
)
def test_titles_resolve_to_their_holder_or_their_role(title: str, person: set[str]) -> None:
    assert _sign(title).people == person


@pytest.mark.parametrize(
    ("title", "act"),
    [
        ("Azerbaijan, Iran sign gas memorandum", "agreement"),
        ("Gas memorandum inked by Azerbaijan and Iran", "agreement"),
        ("Газовый меморандум подписан", "agreement"),
        ("Qaz memorandumu imzalanıb", "agreement"),
        ("تفاهم‌نامه گازی امضا شد", "agreement"),
        ("Aras bridge inaugurated", "opening"),
        ("Мост через Аракс открыт", "opening"),
        ("Araz üzərində körpü istifadəyə verilib", "opening"),
        ("پل ارس افتتاح شد", "opening"),
        ("Aliyev receives Araghchi", "meeting"),
        ("Алиев принял Аракчи", "meeting"),
        ("Aliyev, Pezeshkian discuss corridor by phone", "call"),
        ("Iran summons Azerbaijani envoy", "protest"),
        ("Araghchi: Iran backs the peace deal", "statement"),  # a quote, not a signing
    ],
)
def test_acts_in_four_languages_active_and_passive(title: str, act: str) -> None:
    assert _sign(title).acts == {act}


@pytest.mark.parametrize(
    "text",
    [
        "Trade reached $512m",
        "Trade reached $512 million",
        "Товарооборот составил 512 млн долларов",
        "Ticarət dövriyyəsi 512 milyon dollar olub",
        "مبادلات تجاری به ۵۱۲ میلیون دلار رسید",
    ],
)
def test_quantities_are_unit_and_value(text: str) -> None:
    assert ("money", 512e6) in _sign(text).quantities


def test_decimal_commas_and_thousands_separators() -> None:
    assert ("tonnes", 1.9e6) in _sign("Перевезено 1,9 млн тонн").quantities
    assert ("vehicles", 95000) in _sign("Over 95,000 trucks crossed").quantities


@pytest.mark.parametrize(
    "title",
    [
        "Second round of talks",
        "Второй раунд переговоров",
        "Danışıqların ikinci raundu",
        "دور دوم مذاکرات",
    ],
)
def test_rounds(title: str) -> None:
    assert _sign(title).rounds == {2}


def test_days_named_resolve_against_the_publishing_time() -> None:
    assert _sign("Call held on Monday").days == {date(2026, 12, 7)}
    assert _sign("Звонок состоялся вчера").days == {date(2026, 12, 7)}
    assert _sign("Talks on December 3").days == {date(2026, 12, 3)}
    assert _sign("Переговоры 3 декабря").days == {date(2026, 12, 3)}


def test_unknown_names_meet_across_scripts() -> None:
    english = _sign("Health memorandum signed", "It was signed by Mohammad Zafarghandi.")
    persian = _sign("تفاهم‌نامه بهداشتی با حضور ظفرقندی امضا شد")
    russian = _sign("Подписан меморандум", "Его подписал Мохаммад Зафарганди.")
    assert "zfrgnd" in english.names
    assert english.shared_names(persian) == {"zfrgnd"}
    assert english.shared_names(russian) == {"mhmd", "zfrgnd"}
    # Two Persian reports share words, not names: those are left to the words.
    assert persian.shared_names(_sign("تفاهم‌نامه بهداشتی با حضور ظفرقندی امضا شد")) == set()


def test_gazetteer_entities_are_used_after_the_lexicon() -> None:
    entity = Entity("ir-mahan", "institution", ("iran",), ("Mahan Air", "ماهان"))
    lexicon = Lexicon.build([entity])
    assert _sign("Mahan Air opens a Baku route", lexicon=lexicon).gazetteer == {"g:ir-mahan"}
    # A lexicon person keeps their id even where a gazetteer form would also match.
    people = Entity("az-officials", "person", ("azerbaijan",), ("Bayramov*",))
    sig = _sign("Bayramov visits Tehran", lexicon=Lexicon.build([people]))
    assert sig.people == {"az-bayramov"}
    assert sig.gazetteer == set()


def test_signature_keys_find_a_report_from_any_language() -> None:
    en = set(_sign("Ilham Aliyev holds phone talk with Masoud Pezeshkian").keys())
    fa = set(_sign("گفتگوی تلفنی پزشکیان و علی‌اف").keys())
    assert "x:call:az-aliyev" in en & fa
