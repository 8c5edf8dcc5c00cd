"""Extractive summaries: lead sentence plus the sentences with matched terms, within the limit."""

from __future__ import annotations

import pytest

from bot.models import TermHit, TopicMatch
from bot.review.summary import cut_at_word, matched_terms, strip_markup, summarize

TERMS = (
    "Azerbaijan*",
    "Iran*",
    "Baku",
    "Tehran",
    "Азербайджан*",
    "Иран*",
    "Azərbaycan*",
    "İran*",
    "ایران",
    "آذربایجان",
    "باکو",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ministers met in Geneva on Monday. The weather was cold. Iran's envoy praised the talks. "
            "Markets were calm. Azerbaijan will host the next round in 2027.",
            "Ministers met in Geneva on Monday. Iran's envoy praised the talks. "
            "Azerbaijan will host the next round in 2027.",
        ),
        (
            "Министры встретились в Женеве. Погода была холодной. Посол Ирана т.е. глава миссии "
            "высоко оценил переговоры. Рынки были спокойны.",
            "Министры встретились в Женеве. Посол Ирана т.е. глава миссии высоко оценил переговоры.",
        ),
        (
            "Nazirlər Cenevrədə görüşüb. Hava soyuq idi. Azərbaycan növbəti raundu 2027-ci ildə keçirəcək.",
            "Nazirlər Cenevrədə görüşüb. Azərbaycan növbəti raundu 2027-ci ildə keçirəcək.",
        ),
        (
            "وزیران در ژنو دیدار کردند. هوا سرد بود. سفیر ایران از مذاکرات تمجید کرد؟ بازارها آرام بودند.",
            "وزیران در ژنو دیدار کردند. سفیر ایران از مذاکرات تمجید کرد؟",
        ),
    ],
    ids=["en", "ru", "az", "fa"],
)
def test_lead_plus_sentences_with_terms_in_reading_order(text: str, expected: str) -> None:
    assert summarize(title="Talks", summary=text, terms=TERMS) == expected


def test_article_text_is_preferred_over_the_feed_text() -> None:
    out = summarize(
        title="T", summary="Short teaser.", text="The article opens here. Baku agrees.", terms=TERMS
    )
    assert out == "The article opens here. Baku agrees."


def test_sentences_that_do_not_fit_are_skipped_whole_and_later_ones_may_still_fit() -> None:
    lead = "Lead sentence here."
    long = "Iran " + "x" * 300 + "."
    out = summarize(title="", summary=f"{lead} {long} Baku said yes.", terms=TERMS, limit=60)
    assert out == "Lead sentence here. Baku said yes."
    assert len(out) <= 60


@pytest.mark.parametrize("limit", [20, 37, 50, 80])
def test_a_long_lead_is_cut_at_a_word_boundary_with_an_ellipsis(limit: int) -> None:
    lead = (
        "Президент Азербайджана провёл переговоры с министром иностранных дел Ирана в Баку сегодня."
    )
    out = summarize(title="", summary=lead, terms=TERMS, limit=limit)
    assert len(out) <= limit
    assert out.endswith("…")
    head = out[:-1]
    assert lead.startswith(head)
    assert lead[len(head)] == " "  # the cut falls between words


def test_no_boilerplate_no_markup_no_repeated_title() -> None:
    summary = (
        "<p>Azerbaijan &amp; Iran sign a bridge deal</p><p>The deal was signed in <b>Baku</b>. "
        "Read more</p><p>The post Azerbaijan &amp; Iran sign deal appeared first on IFP News.</p>"
    )
    out = summarize(title="Azerbaijan & Iran sign a bridge deal", summary=summary, terms=TERMS)
    assert out == "The deal was signed in Baku."


@pytest.mark.parametrize(
    "tail", ["Читать далее", "Ətraflı", "ادامه مطلب", "Continue reading →", "[…]"]
)
def test_boilerplate_in_every_language_is_dropped(tail: str) -> None:
    out = summarize(title="", summary=f"Lead here. Iran spoke.\n{tail}", terms=TERMS)
    assert out == "Lead here. Iran spoke."


def test_without_terms_the_lead_alone_is_the_summary() -> None:
    assert summarize(title="", summary="One. Two. Three.", terms=()) == "One."


def test_empty_input_gives_an_empty_summary() -> None:
    assert summarize(title="x", summary="  ", text=None, terms=TERMS) == ""
    assert summarize(title="x", summary="Anything.", terms=TERMS, limit=0) == ""


def test_stems_and_phrases_follow_the_matcher_rules() -> None:
    text = "Lead. The Iranian side agreed. Irony aside. The South Caucasus is calm. Caucasus again."
    out = summarize(title="", summary=text, terms=("Iran*", "South Caucasus"), limit=300)
    assert out == "Lead. The Iranian side agreed. The South Caucasus is calm."


def test_matched_terms_are_distinct_in_first_seen_order() -> None:
    matches = (
        TopicMatch(
            "a",
            (TermHit("az", "Baku", "title", "Baku"), TermHit("ir", "Iran*", "summary", "Iranian")),
        ),
        TopicMatch("b", (TermHit("ir", "Iran*", "title", "Iran"),)),
    )
    assert matched_terms(matches) == ["Baku", "Iran*"]


def test_strip_markup_and_cut_at_word() -> None:
    assert strip_markup("a<br>b &lt; c &amp; <i>d</i>") == "a\nb < c & d"
    assert cut_at_word("alpha beta gamma", 12) == "alpha beta…"
    assert cut_at_word("短文本没有空格的句子", 5) == "短文本没…"
    assert cut_at_word("fits", 10) == "fits"
