"""bot.text.cut, the one cutter and abbreviation list, and where the copies it replaced differed.

Issue 16 (docs/decisions.md) merged two abbreviation lists (messages' `trim` and the sentence
splitter), two word-cutters (`trim` and the review summary's) and two boilerplate lists; each
test here pins the behaviour that was kept.
"""

from __future__ import annotations

import pytest

from bot.review.sentences import split_sentences
from bot.review.summary import strip_markup, summarize
from bot.text.clean import strip_boilerplate
from bot.text.cut import ELLIPSIS, cut_at_word, is_abbreviation, trim


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        # The splitter's longer list: "U.K." holds a sentence together in messages too.
        (
            "The minister of the U.K. met the envoy in Baku on Monday.",
            30,
            "The minister of the U.K. met…",
        ),
        # "no" is an abbreviation only before a number, so "he said no." ends a sentence.
        ("Asked about it he said no. Then he left the room.", 30, "Asked about it he said no."),
        ("See page No. 5 of the report for the figures on gas.", 20, "See page No. 5 of…"),
    ],
)
def test_trim_and_the_splitter_share_one_abbreviation_list(
    text: str, limit: int, expected: str
) -> None:
    assert trim(text, limit) == expected


def test_the_splitter_uses_the_same_rule() -> None:
    assert split_sentences("He said no. Then he left. See No. 5 of the U.K. report.") == [
        "He said no.",
        "Then he left.",
        "See No. 5 of the U.K. report.",
    ]
    assert is_abbreviation("J. Smith", 1)
    assert not is_abbreviation("he said no. Then", 10)


def test_the_summary_cut_never_splits_a_grapheme() -> None:
    # The summary's own cutter used to slice "👍🏽" between the hand and its skin tone.
    assert cut_at_word("xxx👍🏽yyyyyyyyyy", 5) == "xxx" + ELLIPSIS


def test_a_word_end_that_keeps_too_little_gives_way_to_a_hard_cut() -> None:
    # The summary's cutter used to return "a…" here, dropping nearly everything.
    assert cut_at_word("a " + "b" * 30, 20) == "a " + "b" * 17 + ELLIPSIS


def test_an_over_long_lead_sentence_is_cut_by_the_same_cutter() -> None:
    lead = "Baku " + "x" * 40 + " and Tehran signed the corridor deal on Monday"
    assert summarize(title="T", summary=lead, limit=30) == cut_at_word(lead, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Persian and Russian furniture the summary already dropped is stripped from feed text too.
        ("Baku and Tehran signed the deal. ادامه مطلب", "Baku and Tehran signed the deal."),
        ("Baku and Tehran signed the deal. Читать полностью »", "Baku and Tehran signed the deal."),
        # "see more" ends ordinary sentences: it is not furniture.
        ("Officials expect to see more.", "Officials expect to see more."),
    ],
)
def test_one_furniture_list_for_feed_text(text: str, expected: str) -> None:
    assert strip_boilerplate(text) == expected


def test_one_furniture_list_for_summaries() -> None:
    # The Russian WordPress footer, stripped from feed text before, is now dropped as a sentence.
    text = "Baku signed. Сообщение Baku появились сначала на Site."
    assert summarize(title="T", summary=text) == "Baku signed."


def test_the_summary_strips_markup_as_the_pipeline_does() -> None:
    # Escaped markup (a double-escaped feed) is removed, not shown; paragraphs stay lines.
    assert strip_markup("&lt;p&gt;Baku&lt;/p&gt;&lt;p&gt;Tehran&lt;/p&gt;") == "Baku\nTehran"
    assert strip_markup("<script>x()</script><p>Baku</p>") == "Baku"
