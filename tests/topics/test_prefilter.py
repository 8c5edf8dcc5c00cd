"""`Matcher.match` rejects most items from their raw words before building tokens and hits; that
shortcut must never change a verdict. `explain` always takes the full path, so the two must agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.models import TermGroup, Topic, TopicMatch
from bot.topics.config import load_topics
from bot.topics.matcher import Matcher, compile_topics
from tests.topics.test_relevance import DEV_SET

REPO = Path(__file__).resolve().parents[2]
HARD_KINDS = Path(__file__).resolve().parent / "data" / "hard-kinds.jsonl"
SALIENCE = Path(__file__).resolve().parent / "data" / "salience.jsonl"


def _full_path(matcher: Matcher, title: str, summary: str) -> tuple[TopicMatch, ...]:
    return tuple(
        TopicMatch(e.topic_id, e.hits) for e in matcher.explain(title, summary) if e.matched
    )


def _labelled() -> list[tuple[str, str]]:
    items = []
    for path in (HARD_KINDS, SALIENCE, DEV_SET):
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    items.append((str(item["title"]), str(item["summary"])))
    return items


def test_match_agrees_with_the_full_path_on_every_labelled_item() -> None:
    matcher = compile_topics(load_topics(REPO / "config" / "topics.toml"))
    items = _labelled()
    assert len(items) >= 290 + 385  # our own sets at least; the dev set when shared/ is beside us
    flagged = 0
    for title, summary in items:
        expected = _full_path(matcher, title, summary)
        assert matcher.match(title, summary) == expected, title
        # Title alone and summary alone change which words are present: agree there too.
        assert matcher.match(title, "") == _full_path(matcher, title, "")
        assert matcher.match("", summary) == _full_path(matcher, "", summary)
        flagged += bool(expected)
    assert 0 < flagged < len(items)  # both verdicts were exercised


def _topic(az: tuple[str, ...], ir: tuple[str, ...]) -> Matcher:
    groups = (TermGroup("azerbaijan", az), TermGroup("iran", ir))
    return compile_topics([Topic(id="t", name="t", groups=groups, require=("azerbaijan", "iran"))])


@pytest.mark.parametrize(
    ("title", "flagged"),
    [
        # "½" folds to "1⁄2": one raw run that is two words; the term "2" is its second.
        ("½ of Iran", True),
        ("Half of Iran", False),
        # A phrase whose first word is present but not the rest: past the shortcut, no hit.
        ("Iran and the Republic", False),
        ("Iran and the Republic of Azerbaijan", True),
        # Only one group's words: rejected by the shortcut, as by the full path.
        ("Tehran and Iran", False),
    ],
)
def test_words_that_fold_apart_and_partial_phrases_decide_alike(title: str, flagged: bool) -> None:
    matcher = _topic(("2", "Republic of Azerbaijan"), ("Iran*", "Tehran"))
    assert matcher.match(title, "") == _full_path(matcher, title, "")
    assert bool(matcher.match(title, "")) is flagged
