"""The shipped azerbaijan-iran topic against our own labelled items of issue 18's kinds.

tests/topics/data/salience.jsonl holds news-style items in English, Russian, Azerbaijani and
Persian, each with a `kind` (weather, sports, brand, origin, in-passing, third-country, epithet,
gazetteer), a `label` by the issue's labelling rule (each kind holds its look-alikes of the
other label: aid sent after a quake, a summons over chants at a match) and a `split`: "dev"
items were tuned on, "held-out" items were not (the second batch, ids "-bNN", was written after
the rules and scored before any fix). `python -m benchmarks.relevance` prints the table.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.topics.config import load_topics
from bot.topics.matcher import Matcher, compile_topics

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "salience.jsonl"
TOPIC = "azerbaijan-iran"
KINDS = (
    "weather",
    "sports",
    "brand",
    "origin",
    "in-passing",
    "third-country",
    "epithet",
    "gazetteer",
)
PER_KIND = 0.9  # each kind decided right at least this often
PRECISION, RECALL = 0.97, 0.96  # overall, the test thresholds


def _items() -> list[dict[str, object]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    return compile_topics(load_topics(REPO / "config" / "topics.toml"))


def _flagged(matcher: Matcher, item: dict[str, object]) -> bool:
    found = matcher.match(str(item["title"]), str(item["summary"]), str(item["lang"]))
    return any(m.topic_id == TOPIC for m in found)


def test_every_kind_has_25_items_in_all_four_languages_with_look_alikes_and_a_held_out_part() -> (
    None
):
    items = _items()
    kinds = Counter(str(i["kind"]) for i in items)
    assert set(kinds) == set(KINDS)
    assert min(kinds.values()) >= 25, kinds
    for kind in KINDS:
        mine = [i for i in items if i["kind"] == kind]
        assert {i["lang"] for i in mine} == {"en", "ru", "az", "fa"}, kind
        assert {i["label"] for i in mine} == {True, False}, kind  # the look-alikes
        assert {i["split"] for i in mine} == {"dev", "held-out"}, kind
    assert len({i["id"] for i in items}) == len(items)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_decided_right(shipped: Matcher, kind: str) -> None:
    items = [i for i in _items() if i["kind"] == kind]
    wrong = [i["id"] for i in items if _flagged(shipped, i) is not i["label"]]
    share = 1 - len(wrong) / len(items)
    assert share >= PER_KIND, f"{kind}: {share:.2f} right; wrong: {wrong}"


@pytest.mark.parametrize("split", ["dev", "held-out", None])
def test_precision_and_recall_reach_the_target(shipped: Matcher, split: str | None) -> None:
    tp = fp = fn = 0
    for item in _items():
        if split is not None and item["split"] != split:
            continue
        flagged = _flagged(shipped, item)
        tp += flagged and item["label"] is True
        fp += flagged and item["label"] is False
        fn += not flagged and item["label"] is True
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"{split or 'all'}: precision {precision:.3f}, recall {recall:.3f} ({tp}/{fp}/{fn})")
    # Each part is held to the bar with one item of slack (a part is a third of the set);
    # the whole set is held to it exactly.
    slack = 0.0 if split is None else 0.015
    assert precision >= PRECISION - slack
    assert recall >= RECALL - slack
