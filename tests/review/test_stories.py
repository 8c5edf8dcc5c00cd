"""Grouping reports into stories: rewritten reports of one event join, different events never do."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.review.evidence import canonical_link, skeleton, stem
from bot.review.jsonl import story_lines
from bot.review.stories import Grouper, Rules

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "events.jsonl"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _events() -> list[dict[str, str]]:
    return [json.loads(line) for line in EVENTS.read_text(encoding="utf-8").splitlines()]


def _grouped() -> dict[str, str]:
    """id → story id, as `stories` gives them for the labelled corpus."""
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    return {out["id"]: out["story"] for out in story_lines(lines)}


def _pairs(labels: dict[str, str]) -> set[frozenset[str]]:
    return {
        frozenset((a, b))
        for a, b in itertools.combinations(sorted(labels), 2)
        if labels[a] == labels[b]
    }


def test_different_events_are_never_merged() -> None:
    """Precision 1.0 over every pair of the labelled corpus, hard negatives included."""
    events = {e["id"]: e["event"] for e in _events()}
    found = _pairs(_grouped())
    truth = _pairs(events)
    wrong = sorted(tuple(sorted(p)) for p in found - truth)
    assert wrong == []
    # And the grouping is not trivially "everything alone": within one language nearly every
    # true pair is found (across languages only names plus numbers, or one link, join them).
    lang = {e["id"]: e["lang"] for e in _events()}
    same = {p for p in truth if len({lang[i] for i in p}) == 1}
    recall = len(found & same) / len(same)
    assert recall >= 0.9, recall


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("call-1a", "call-2a"),  # two phone calls between the same presidents, a day apart
        ("call-1b", "call-2b"),
        ("gas-a", "rail-a"),  # one template, same ministers: gas one day, rail the same day
        ("gas-b", "rail-b"),
        ("summon-ir", "summon-az"),  # an envoy summoned by one side, then by the other
        ("summon-ir2", "summon-az"),
        ("trade-a", "trade2-a"),  # the same wording, other figures
        ("commission-en", "commission2-ru"),  # the same names the same day, other numbers
        ("bridge-fa", "border-fa"),  # Persian: a bridge opened, a border market reopened
    ],
)
def test_hard_negatives_stay_apart(a: str, b: str) -> None:
    story = _grouped()
    assert story[a] != story[b]


@pytest.mark.parametrize(
    ("members", "lang"),
    [
        (("call-1a", "call-1b", "call-1c"), "en"),
        (("gas-a", "gas-b"), "en"),
        (("rail-a", "rail-b"), "en"),
        (("summon-ir", "summon-ir2"), "en"),
        (("call-1-ru", "call-1-ru2"), "ru"),
        (("visit-ru", "visit-ru2"), "ru"),
        (("trade-az", "trade-az2"), "az"),
        (("bridge-fa", "bridge-fa2"), "fa"),
        (("commission-en", "commission-ru", "commission-az"), "en, ru, az: names and numbers"),
        (("visit-a", "syndic"), "the same article under another address form"),
    ],
)
def test_rewritten_reports_of_one_event_are_one_story(members: tuple[str, ...], lang: str) -> None:
    story = _grouped()
    assert len({story[m] for m in members}) == 1, (lang, [story[m] for m in members])


def test_story_id_is_the_earliest_report_whatever_the_input_order() -> None:
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    out = story_lines(reversed(lines))
    story = {o["id"]: o["story"] for o in out}
    assert story["call-1c"] == "call-1a"  # 09:10, before 10:02 and 11:30
    assert [o["id"] for o in out] == [json.loads(line)["id"] for line in reversed(lines)]


def test_equal_times_tie_by_input_order() -> None:
    line = {"title": "Iran summons Azerbaijani ambassador over border incident", "summary": ""}
    rows = [json.dumps({**line, "id": i, "published": "2026-12-01T10:00:00Z"}) for i in ("b", "a")]
    assert [o["story"] for o in story_lines(rows)] == ["b", "b"]


def _add(grouper: Grouper, key: str, when: datetime, **extra: str) -> object:
    return grouper.add(
        key,
        title=extra.get("title", "Aliyev and Pezeshkian open the Aghband bridge on the Aras"),
        summary=extra.get("summary", "Ilham Aliyev and Masoud Pezeshkian opened the bridge."),
        published=when,
        url=extra.get("url"),
    )


def test_reports_further_apart_than_the_window_are_never_grouped() -> None:
    grouper = Grouper(Rules(window=timedelta(hours=48)))
    assert _add(grouper, "a", T0, url="https://x.az/1") == "a"
    # Even the same link: beyond the window it is not the same story any more.
    assert _add(grouper, "b", T0 + timedelta(hours=49), url="https://x.az/1") == "b"


def test_a_story_never_outgrows_the_window_by_chaining() -> None:
    grouper = Grouper(Rules(window=timedelta(hours=48), near_gap=timedelta(hours=48)))
    assert _add(grouper, "a", T0) == "a"
    assert _add(grouper, "b", T0 + timedelta(hours=40)) == "a"
    # 40 h after b, but 80 h after the story's first report.
    assert _add(grouper, "c", T0 + timedelta(hours=80)) == "c"


def test_a_shorter_window_from_the_settings_applies() -> None:
    grouper = Grouper(Rules(window=timedelta(hours=2)))
    _add(grouper, "a", T0, url="https://x.az/1")
    assert _add(grouper, "b", T0 + timedelta(hours=3), url="https://x.az/1") == "b"


def test_same_link_joins_across_languages() -> None:
    grouper = Grouper()
    _add(grouper, "a", T0, url="https://apa.az/news/1")
    assert _add(grouper, "b", T0, url="http://www.apa.az/news/1/", title="Алиев", summary="") == "a"


def test_many_unrelated_reports_in_between_do_not_hide_a_rewrite() -> None:
    grouper = Grouper()
    _add(grouper, "first", T0)
    for n in range(2000):
        grouper.add(
            n,
            title=f"Filler item {n} about Azerbaijan and Iran number {n}",
            summary=f"Routine report {n} on Azerbaijan and Iran, word{n} term{n}.",
            published=T0 + timedelta(seconds=n),
        )
    later = _add(
        grouper,
        "second",
        T0 + timedelta(hours=1),
        title="Pezeshkian, Aliyev open Aghband bridge over the Aras river",
        summary="Masoud Pezeshkian and Ilham Aliyev opened the Aghband bridge on the Aras.",
    )
    assert later == "first"


def test_a_report_joins_the_story_it_resembles_most_not_the_first_that_passes() -> None:
    """Both stories pass for the third report; the closer one wins though the other is met first."""
    grouper = Grouper()
    title = "Caspian ferry line resumes cargo shipments to Alat port"
    # Their numbers differ, so the two are two stories.
    close = "The ferry carried 7 wagons of grain."
    loose = "The ferry carried 5 wagons of grain, timber, cement, cotton and steel pipes."
    assert _add(grouper, "close", T0, title=title, summary=close) == "close"
    assert _add(grouper, "loose", T0 + timedelta(minutes=5), title=title, summary=loose) == "loose"
    # The newer, looser report shares as many keys, so it is compared first.
    third = "The ferry carried wagons of grain."
    assert _add(grouper, "third", T0 + timedelta(minutes=10), title=title, summary=third) == "close"


def test_reports_that_share_only_names_never_join_however_alike() -> None:
    grouper = Grouper()
    text = {"title": "Aliyev, Pezeshkian", "summary": "Presidents Aliyev and Pezeshkian."}
    assert _add(grouper, "a", T0, **text) == "a"
    assert _add(grouper, "b", T0 + timedelta(minutes=1), **text) == "b"


def test_old_reports_leave_the_index() -> None:
    grouper = Grouper(Rules(window=timedelta(hours=1)))
    for n in range(50):
        _add(grouper, str(n), T0 + timedelta(hours=2 * n))
    assert len(grouper) <= 2
    assert grouper.story_of("0") is None
    assert grouper.story_of("49") == "49"


def test_reloading_a_stored_story_keeps_it() -> None:
    grouper = Grouper()
    assert grouper.add("x", title="t", summary="", published=T0, story="s") == "s"
    assert grouper.add("x", title="other", summary="", published=T0) == "s"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("summoned", "summo"), ("summons", "summo"), ("swaps", "swap"), ("railways", "railw")],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize("spelling", ["pezeshkian", "пезешкиан", "pezeskian"])
def test_names_meet_across_scripts(spelling: str) -> None:
    assert skeleton(spelling) == "pzskn"


def test_canonical_link() -> None:
    assert canonical_link("https://www.Apa.az/x/") == "apa.az/x"
    assert canonical_link("  ") is None
