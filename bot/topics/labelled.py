"""Labelled JSON Lines for `match --score`: `match`'s input records plus `label`, and the report.

A line is `{"id", "title", "summary", "lang", "source", …, "label": true|false}` (the shipped dev
set and `labels export` both write it). A label that is not a boolean ("borderline") is counted
and left out of the score; a line that is not a valid record is reported and the rest still run.
`report_lines` renders a `Score` for people, `report_json` for machines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.text.jsonlines import BadLine, records
from bot.topics.scoring import Judged, Outcome, Score

SHOWN = 20  # misses and false alarms listed in the text report (all of them in --json)


class _Labelled(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int
    title: str = ""
    summary: str = ""
    lang: str | None = Field(default=None, max_length=35)
    source: str = ""
    label: bool | str | None = None


@dataclass(frozen=True, slots=True)
class LabelledFile:
    """What a labelled file held: the items to score, the unscored ones, the bad lines."""

    items: tuple[Judged, ...]
    unscored: int  # labels that are not true/false (e.g. "borderline"), or missing
    bad: tuple[BadLine, ...]


def read_labelled(lines: Iterable[str]) -> LabelledFile:
    """The labelled items of the lines, in order."""
    items: list[Judged] = []
    unscored = 0
    bad: list[BadLine] = []
    for record in records(lines, _Labelled):
        if isinstance(record, BadLine):
            bad.append(record)
        elif isinstance(record.label, bool):
            items.append(
                Judged(
                    str(record.id),
                    record.title,
                    record.summary,
                    record.lang,
                    record.source,
                    record.label,
                )
            )
        else:
            unscored += 1
    return LabelledFile(tuple(items), unscored, tuple(bad))


def report_lines(score: Score, file: LabelledFile) -> list[str]:
    """The score for people: the three figures, the counts, then what it gets wrong."""
    out = [
        f"precision {score.precision:.2f}  recall {score.recall:.2f}  F1 {score.f1:.2f}",
        f"{score.total} labelled items: {score.true_positives + score.false_negatives} relevant, "
        f"{score.false_positives + score.true_negatives} not; "
        f"{score.true_positives + score.false_positives} flagged"
        + (f"; {file.unscored} without a true/false label, not scored" if file.unscored else ""),
    ]
    out += [f"line {b.line}: {b.error}" for b in file.bad]
    for title, wrong in (
        ("misses (marked relevant, not flagged)", score.misses),
        ("false alarms (flagged, marked not relevant)", score.false_alarms),
    ):
        out.append(f"{title}: {len(wrong) or 'none'}")
        for outcome in wrong[:SHOWN]:
            out += _outcome_lines(outcome)
        if len(wrong) > SHOWN:
            out.append(f"  … and {len(wrong) - SHOWN} more (see --json)")
    return out


def report_json(score: Score, file: LabelledFile) -> dict[str, Any]:
    """The score for machines: figures, counts, and every miss and false alarm."""
    return {
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "f1": round(score.f1, 4),
        "true_positives": score.true_positives,
        "false_positives": score.false_positives,
        "false_negatives": score.false_negatives,
        "true_negatives": score.true_negatives,
        "unscored": file.unscored,
        "bad_lines": [b.as_json() for b in file.bad],
        "misses": [_outcome_json(o) for o in score.misses],
        "false_alarms": [_outcome_json(o) for o in score.false_alarms],
    }


def _outcome_lines(outcome: Outcome) -> list[str]:
    item = outcome.item
    source = f" ({item.source})" if item.source else ""
    return [f"  {item.id}{source}: {item.title}", *(f"    {line}" for line in outcome.evidence)]


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    item = outcome.item
    return {
        "id": item.id,
        "title": item.title,
        "source": item.source,
        "label": item.relevant,
        "flagged": outcome.flagged,
        "evidence": list(outcome.evidence),
    }
