"""bot.operator.labels: export lines, reading them back, and an edit's impact in words."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.operator.labels import export_line, impact_lines, read_import
from bot.storage.labels import LabelledItem, Vote
from bot.topics.scoring import Impact, Judged, Outcome

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def outcome(n: int, relevant: bool) -> Outcome:
    return Outcome(Judged(f"x-{n}", f"Title {n}", "", "en", "APA", relevant), not relevant, ())


def test_impact_lines_name_the_first_few_items_turned_wrong() -> None:
    misses = tuple(outcome(n, True) for n in range(5))
    lines = impact_lines(Impact(40, misses, (outcome(9, False),)))
    assert lines[0] == "Labelled items: this edit changes 6 of 40 verdicts."
    assert lines[1] == (
        "This edit would miss 5 items the desk marked relevant: “Title 0” (APA); “Title 1” (APA); "
        "“Title 2” (APA); and 2 more"
    )
    assert lines[2] == "It puts 1 item right: “Title 9” (APA)"
    assert impact_lines(None) == []
    capped = impact_lines(Impact(2000, (), (), of=12000))
    assert capped == [
        "The 2,000 most recently labelled items (of 12,000): this edit changes none of the "
        "2,000 verdicts."
    ]


def test_an_export_line_reads_back_with_its_votes_and_without_people() -> None:
    item = LabelledItem(
        "apa/a1",
        "Title",
        "Text",
        "en",
        "APA",
        "https://apa.example/a1",
        NOW,
        ("azerbaijan-iran",),
        (Vote("telegram:5", False, NOW, 5, "@five", -100), Vote("telegram:6", False, NOW, 6)),
    )
    line = export_line(item)
    assert line["label"] is False
    assert line["votes"] == {"relevant": 0, "not_relevant": 2}
    assert "people" not in line
    [back], bad, skipped = read_import([json.dumps(line)], now=NOW)
    assert (bad, skipped) == ([], 0)
    assert [(v.who, v.relevant) for v in back.votes] == [("import:1", False), ("import:2", False)]
    assert not back.named
    named = export_line(item, with_people=True)
    [named_back], _, _ = read_import([json.dumps(named)], now=NOW)
    assert named_back.named
    person = named_back.votes[0]
    assert (person.who, person.user_id, person.chat_id) == ("telegram:5", 5, -100)


def test_lines_that_are_not_labels_are_reported_or_skipped() -> None:
    lines = [
        json.dumps({"id": "a", "title": "T", "label": "borderline"}),
        "{not json",
        json.dumps({"id": "b", "title": "T", "label": True, "votes": {"relevant": 0}}),
        json.dumps({"id": "c", "title": "T", "label": True}),
    ]
    found, bad, skipped = read_import(lines, now=NOW)
    assert [f.ref for f in found] == ["c"]
    assert [b.line for b in bad] == [2, 3]
    assert skipped == 1
