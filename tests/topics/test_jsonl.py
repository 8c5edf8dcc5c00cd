"""`match` records are read exactly as the pipeline reads feed items: one cleaning path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from bot.feeds.parse import parse_feed
from bot.topics.config import load_topics
from bot.topics.jsonl import match_lines
from bot.topics.matcher import Matcher, compile_topics

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "topics.toml"


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    return compile_topics(load_topics(SHIPPED))


def _rss(title: str, summary: str) -> bytes:
    # The feed carries the raw strings as the text of its elements (escaped once for XML), so
    # after XML parsing the pipeline sees exactly what a `match` record holds.
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><guid>g</guid><title>{escape(title)}</title>"
        f"<description>{escape(summary)}</description></item></channel></rss>"
    ).encode()


CASES = [
    # Raw, "&ndash;" has a ";" that would end the enumeration's sentence, away from "signed".
    ("Azerbaijan, Iran and Russia &ndash; corridor memorandum signed", ""),
    ("<b>Azerbaijan</b> &amp; <i>Iran</i> open bridge", "<p>Officials met.</p>"),
    ("Farms in Iran, Azerbaijan and Russia &ndash; demand grows", "Prices rose."),
    ("Ã„zÉ™rbaycan Ä°ranla", "The post Baku and Tehran appeared first on Example News."),
]


@pytest.mark.parametrize(("title", "summary"), CASES)
def test_match_reads_an_item_like_the_pipeline(shipped: Matcher, title: str, summary: str) -> None:
    feed = parse_feed(
        _rss(title, summary), source_id="s", url="https://x.test/", now=datetime.now(UTC)
    )
    (item,) = feed.items
    pipeline = [m.topic_id for m in shipped.match(item.title, item.summary)]
    record = json.dumps({"id": 1, "title": title, "summary": summary})
    (out,) = match_lines(shipped, [record])
    assert out["topics"] == pipeline


def test_an_escaped_dash_does_not_split_a_sentence(shipped: Matcher) -> None:
    record = json.dumps({"id": 1, "title": CASES[0][0], "summary": ""})
    (out,) = match_lines(shipped, [record])
    assert out["topics"] == ["azerbaijan-iran"]
    # Read raw, the same title would be a roundup: that is what the cleaning prevents.
    assert not shipped.match(CASES[0][0], "")


def test_match_explains_each_topic_when_asked(shipped: Matcher) -> None:
    record = json.dumps(
        {
            "id": 7,
            "title": "Israel and Azerbaijan sign defence deal",
            "summary": "The deal, which comes amid tensions with Iran, covers drones.",
        }
    )
    (plain,) = match_lines(shipped, [record])
    assert "explain" not in plain
    (out,) = match_lines(shipped, [record], explain=True)
    assert out["topics"] == plain["topics"] == []
    lines = out["explain"]["azerbaijan-iran"]
    assert lines[0] == "azerbaijan-iran: no match (in passing: iran)"
    assert "  role: iran: in passing (summary 'Iran' is background ('which'))" in lines
