"""bot.telegram.replies: reading operators' arguments and building their answers (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.models import Source, SourceState, TermGroup, Topic
from bot.telegram.replies import (
    ArgumentError,
    command_rest,
    fit_blocks,
    health_text,
    split_args,
    terms_text,
)
from bot.telegram.replies import testmatch_text as render_testmatch
from bot.text.markup import utf16_len, visible_text
from bot.topics.matcher import compile_topics

BAKU = ZoneInfo("Asia/Baku")
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TOPIC = Topic(
    "az-ir",
    "Azerbaijan & Iran",
    (TermGroup("az", ("Baku", "South Caucasus")), TermGroup("ir", ("Tehran",))),
    ("az", "ir"),
    masks=("East Azerbaijan",),
    vetoes=("<football>",),
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("az-ir az Baku", ["az-ir", "az", "Baku"]),
        ('az-ir az "South Caucasus"', ["az-ir", "az", "South Caucasus"]),
        ("az-ir az “South Caucasus”", ["az-ir", "az", "South Caucasus"]),
        ("az-ir «Южный Кавказ»", ["az-ir", "Южный Кавказ"]),
        ("az-ir az Xi'an", ["az-ir", "az", "Xi'an"]),
        ("az-ir az C:\\path", ["az-ir", "az", "C:\\path"]),
        ("a   b\n c", ["a", "b", "c"]),
        ('t "" x', ["t", "x"]),
        ("t #hashtag", ["t", "#hashtag"]),
        ("", []),
    ],
)
def test_split_args_groups_double_quoted_words_only(text: str, words: list[str]) -> None:
    assert split_args(text) == words


@pytest.mark.parametrize("text", ['az "South Caucasus', "az „x", 'a "b" "c'])
def test_split_args_refuses_an_unclosed_quote_with_advice(text: str) -> None:
    with pytest.raises(ArgumentError, match="quote is not closed"):
        split_args(text)


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("/testmatch Baku\nand Tehran", "Baku\nand Tehran"),
        ("/testmatch@media_bot  Baku", "Baku"),
        ("/undo", ""),
        ("/testmatch\nBaku", "Baku"),
    ],
)
def test_command_rest_drops_the_command_word_and_keeps_lines(text: str, rest: str) -> None:
    assert command_rest(text) == rest


def test_fit_blocks_stops_within_one_message_and_counts_the_rest() -> None:
    blocks = ["𝔸" * 100 for _ in range(100)]  # two UTF-16 units each
    text = fit_blocks("head", blocks)
    assert utf16_len(visible_text(text)) <= 4096
    assert text.endswith("… and 80 more")


def test_health_text_shows_every_fact_escaped_and_fits() -> None:
    sources = [
        Source(f"s{n:03}", f"Outlet <{n}>", f"https://s{n}.test/rss", 600, enabled=n != 1)
        for n in range(200)
    ]
    states = {
        "s000": SourceState(
            "s000",
            last_attempt=T0,
            last_success=T0,
            consecutive_failures=3,
            last_error="HTTP 500 <oops>",
            next_poll=T0,
        )
    }
    text = health_text(sources, states, {}, tz=BAKU)
    assert text.startswith("<b>Sources</b>: 200, 1 paused, 1 failing")
    assert "⚠️ <b>Outlet &lt;0&gt;</b> <code>s000</code> · every 10m" in text
    assert "last success 27 Nov 2026, 14:00 +04 · next poll 27 Nov 2026, 14:00 +04" in text
    assert "last error: HTTP 500 &lt;oops&gt;" in text
    assert "more" in text.splitlines()[-1]
    assert utf16_len(visible_text(text)) <= 4096
    assert "⏸" not in text.split("\n")[2]  # paused ones come last
    assert health_text([], {}, {}, tz=BAKU).startswith("No sources")


def test_terms_text_lists_groups_masks_and_vetoes_escaped() -> None:
    text = terms_text(TOPIC)
    assert "<b>Azerbaijan &amp; Iran</b> <code>az-ir</code>" in text
    assert "<b>az</b> (required): <code>Baku</code>, <code>South Caucasus</code>" in text
    assert "Masks: <code>East Azerbaijan</code>" in text
    assert "Vetoes: <code>&lt;football&gt;</code>" in text


def test_testmatch_text_puts_matches_first_with_terms_by_group() -> None:
    other = Topic("energy", "Energy", (TermGroup("gas", ("gas",)),), ("gas",))
    matcher = compile_topics([other, TOPIC])
    title = "Baku and Tehran talk <oil>"
    text = render_testmatch(title, matcher.explain(title, ""))
    lines = text.splitlines()
    assert lines[0] == "<b>Test match</b> of “Baku and Tehran talk &lt;oil&gt;”"
    assert lines[1].startswith("✅ MATCH: <b>Azerbaijan &amp; Iran</b>")
    assert "    az: <code>Baku</code>" in lines
    assert "    ir: <code>Tehran</code>" in lines
    missed = render_testmatch("East Azerbaijan", matcher.explain("East Azerbaijan and Tehran", ""))
    assert "masked: <code>East Azerbaijan</code>" in missed
    assert "missing: az" in missed


def test_testmatch_text_shows_entity_evidence_like_terms() -> None:
    from bot.models import Entity

    crossing = Entity("astara-crossing", "place", ("az", "ir"), ("Astara crossing",), alone=False)
    irgc = Entity("irgc", "institution", ("ir",), ("IRGC",))
    matcher = compile_topics(
        [Topic(TOPIC.id, TOPIC.name, TOPIC.groups, TOPIC.require, entities=(crossing, irgc))]
    )
    text = render_testmatch("x", matcher.explain("IRGC visits Baku", ""))
    assert "    ir: <code>irgc (institution)</code>" in text.splitlines()
    weak = render_testmatch("x", matcher.explain("Astara crossing reopens", ""))
    assert "needs a second signal: <code>astara-crossing (place)</code>" in weak


def test_testmatch_text_shows_the_kind_and_each_states_role() -> None:
    from bot.models import KindVeto, Salience

    topic = Topic(
        TOPIC.id,
        TOPIC.name,
        TOPIC.groups,
        TOPIC.require,
        list_terms=("Israel*",),
        kind_vetoes=(KindVeto("weather", ("earthquake*",)),),
        salience=Salience(background=("amid",), political=("aid",)),
    )
    matcher = compile_topics([topic])
    vetoed = render_testmatch("x", matcher.explain("Earthquake near Tehran felt in Baku", ""))
    assert "kind veto (weather): earthquake*" in vetoed
    assert "    kind: <code>weather: Earthquake</code>" in vetoed.splitlines()
    title, summary = "Israel and Baku sign deal", "It comes amid tensions with Tehran."
    passing = render_testmatch("x", matcher.explain(title, summary))
    assert "❌ no match" in passing
    assert "    ir: in passing (summary 'Tehran' is background ('amid'))" in passing.splitlines()
