"""The shipped azerbaijan-iran topic against the labelled dev set: precision and recall 1.00."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics

REPO = Path(__file__).resolve().parents[2]
# shared/ beside the repo, or beside the directory of worktrees.
DEV_SET = (
    next(
        (
            p
            for p in (REPO.parent / "shared", REPO.parent.parent / "shared")
            if (p / "data" / "relevance-dev.jsonl").is_file()
        ),
        REPO.parent / "shared",
    )
    / "data"
    / "relevance-dev.jsonl"
)
TOPIC = "azerbaijan-iran"
TARGET = 1.0


def test_shipped_topic_reaches_precision_and_recall_targets_on_the_dev_set() -> None:
    if not DEV_SET.is_file():
        pytest.skip(f"labelled dev set not found at {DEV_SET} (expected shared/ beside the repo)")
    matcher = compile_topics(load_topics(REPO / "config" / "topics.toml"))
    false_pos: list[str] = []
    false_neg: list[str] = []
    true_pos = 0
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item["label"] == "borderline":
            continue
        flagged = any(
            m.topic_id == TOPIC
            for m in matcher.match(item["title"], item["summary"], item.get("lang"))
        )
        if flagged and item["label"]:
            true_pos += 1
        elif flagged:
            false_pos.append(item["id"])
        elif item["label"]:
            false_neg.append(item["id"])
    precision = true_pos / ((true_pos + len(false_pos)) or 1)
    recall = true_pos / ((true_pos + len(false_neg)) or 1)
    report = (
        f"precision {precision:.3f}, recall {recall:.3f}; "
        f"false positives: {false_pos or 'none'}; false negatives: {false_neg or 'none'}"
    )
    print(report)
    assert true_pos > 0, "no positive item matched: " + report
    assert precision >= TARGET, report
    assert recall >= TARGET, report
