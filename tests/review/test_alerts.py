"""bot.review.alerts: which saved searches an item matches, through the anchor-word index."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.models import Item, MatchedItem, TopicMatch
from bot.review.alerts import Alert, AlertIndex, alert_problem, compile_alerts
from bot.review.query import parse_query

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def item(
    title: str, summary: str = "", *, source: str = "apa", flagged: bool = False
) -> MatchedItem:
    return MatchedItem(
        Item(
            source_id=source,
            key="k",
            url="https://x.test/",
            title=title,
            summary=summary,
            published=NOW,
        ),
        (TopicMatch("t", ()),) if flagged else (),
    )


def matched(
    alerts: list[tuple[int, str]], entry: MatchedItem, lang: str | None = None
) -> list[str]:
    index = compile_alerts([(n, 100 + n, text) for n, text in alerts])
    return [text for _, text in index(entry, lang)]


@pytest.mark.parametrize(
    ("query", "title", "summary", "hit"),
    [
        ("körpü", "Astara körpüsünün tikintisi", "", True),
        ("граница", "Контроль на границе", "", True),
        ("ايران", "سفیر ایران", "", True),
        ("bridges", "A bridge opens", "", True),
        ('"border river"', "Bridge over the border river", "", True),
        ('"river border"', "Bridge over the border river", "", False),
        ("astara bridge", "Astara news", "a new bridge", True),  # title and body together
        ("astara -exercise", "Astara exercise", "", False),
        ("drone OR БПЛА", "БПЛА сбит", "", True),
        ("drone OR БПЛА", "Nothing here", "", False),
        ("astara source:tass", "Astara news", "", False),
        ("astara flagged:", "Astara news", "", False),
    ],
)
def test_an_alert_matches_like_the_search(query: str, title: str, summary: str, hit: bool):
    assert matched([(1, query)], item(title, summary)) == ([query] if hit else [])


def test_language_and_flag_filters():
    assert matched([(1, "astara lang:az")], item("Astara xəbər"), "az") == ["astara lang:az"]
    assert matched([(1, "astara lang:az")], item("Astara news"), "en") == []
    assert matched([(1, "astara flagged:")], item("Astara", flagged=True)) == ["astara flagged:"]


def test_each_chat_hears_of_its_own_alerts_once():
    index = compile_alerts([(1, 7, "astara"), (2, 7, "bridge"), (3, 8, "astara bridge")])
    found = index(item("Astara bridge opens", "The Astara bridge"), None)
    assert sorted(found) == [(7, "astara"), (7, "bridge"), (8, "astara bridge")]


def test_alerts_that_no_longer_parse_or_are_refused_are_skipped():
    index = compile_alerts([(1, 7, '"broken'), (2, 7, "the"), (3, 7, "astara")])
    assert index.size == 1


def test_an_alert_is_a_candidate_only_when_the_item_reaches_all_its_words():
    alerts = [Alert(n, n, parse_query(f"word{n:04d}x astara", now=NOW)) for n in range(1000)]
    index = AlertIndex(alerts)
    candidate = index.candidate(
        title="word0017x astara", body=[], source_id="s", lang=None, flagged=False
    )
    assert [a.id for a in index.match(candidate)] == [17]
    # "astara" alone reaches every alert's second requirement, none of them fully.
    lone = index.candidate(title="astara", body=[], source_id="s", lang=None, flagged=False)
    assert index.match(lone) == []
    # A phrase needs both its words before it is checked in order.
    phrase = AlertIndex([Alert(1, 1, parse_query('"border river"', now=NOW))])
    assert (
        phrase.match(
            phrase.candidate(title="river border", body=[], source_id="s", lang=None, flagged=False)
        )
        == []
    )


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("astara since:7d", "leave out since: and until:"),
        ("source:apa", "at least one word"),
        ("the", "almost every item"),
        ("и OR в", "almost every item"),
        ("və", "almost every item"),
        ("در", "almost every item"),
        ("astara", None),
        ('"the bridge"', None),
    ],
)
def test_alerts_refused_with_a_reason(query: str, problem: str | None):
    found = alert_problem(parse_query(query, now=NOW))
    assert (found is None) if problem is None else (problem in (found or ""))
