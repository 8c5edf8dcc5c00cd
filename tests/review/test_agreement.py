"""Two signatures: what agrees, and which clear conflicts keep look-alike events apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.review.agreement import compare
from bot.review.lexicon import Lexicon
from bot.review.signature import Signature, sign
from bot.topics.folding import FoldCache

T0 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
LEXICON = Lexicon.build()


def _sign(title: str, summary: str = "") -> Signature:
    return sign(title, summary, T0, LEXICON, FoldCache())


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        # the same ministers, a call and a meeting
        ("Bayramov, Araghchi hold phone talks", "Bayramov receives Araghchi in Baku", "act"),
        # the same act, other people
        (
            "Velayati warns against Zangezur corridor",
            "Baghaei comments on Zangezur corridor",
            "people",
        ),
        # the same wording, other figures
        ("Trade reaches $412 million", "Trade reaches $57 million", "money"),
        ("Second round of consular talks", "First round of consular talks", "round"),
        ("Aliyev, Pezeshkian talk on Monday", "Aliyev, Pezeshkian talk on Wednesday", "day"),
        # one crossing, two events; two openings, two places
        ("Bridge opened at Aghband", "Border market opened at Astara", "place"),
        # the same ministers, two subjects
        (
            "Shahbazov, Paknejad discuss gas swap",
            "Shahbazov, Paknejad discuss power grid",
            "subject",
        ),
        (
            "Ministers discuss 2 new projects",
            "Ministers sign 8 documents at 17th session",
            "numbers",
        ),
    ],
)
def test_look_alikes_conflict(a: str, b: str, conflict: str) -> None:
    found = compare(_sign(a), _sign(b), LEXICON)
    assert any(c.startswith(conflict) for c in found.conflicts), found


def test_rewordings_agree_without_conflict() -> None:
    a = _sign(
        "Azerbaijan and Iran sign agreement on new Astara road bridge",
        "Rashad Nabiyev and Iran's roads minister Farzaneh Sadegh signed it. It is 180 m long.",
    )
    b = _sign(
        "Баку и Тегеран подписали соглашение о мосте в Астаре",
        "Соглашение подписали Рашад Набиев и Фарзане Садег; строительство займет 18 месяцев.",
    )
    found = compare(a, b, LEXICON)
    assert found.conflicts == ()
    assert found.acts
    assert {"person az-nabiyev", "person ir-sadegh", "place astara"} <= set(found.agreed)
    # The numbers differ (a length, a duration) but neither title carries one: no conflict.
    assert found.strength >= 3


def test_a_compatible_act_agrees_and_an_unknown_one_does_not_conflict() -> None:
    signing = _sign("Aliyev and Pezeshkian sign 6 documents")
    meeting = _sign("Aliyev meets Pezeshkian")
    assert compare(signing, meeting, LEXICON).acts
    unknown = compare(_sign("Aliyev, Pezeshkian"), meeting, LEXICON)
    assert not unknown.acts
    assert unknown.conflicts == ()


def test_a_name_counts_only_when_rare() -> None:
    a = _sign("Memorandum signed", "Mohammad Zafarghandi signed it.")
    b = _sign("Меморандум подписан", "Его подписал Мохаммад Зафарганди.")
    assert "name zfrgnd" in compare(a, b, LEXICON).agreed
    assert "name zfrgnd" not in compare(a, b, LEXICON, rare=lambda key: False).agreed
