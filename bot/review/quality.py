"""How well a grouping matches labelled events: pairwise precision and recall, same-language and
cross-language, and B-cubed. Pure: labels and assignments in, figures out.

Pairwise: every pair of reports the grouping puts in one story is a "found" pair; every pair the
labels put in one event is a "true" pair. Same-language pairs are those whose two reports share a
language; the others are cross-language. B-cubed averages, per report, the share of its story
that is its event (precision) and the share of its event that is its story (recall).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PairScore:
    """Pairwise counts and their precision and recall (1.0 when there is nothing to count)."""

    found: int
    true: int
    correct: int

    @property
    def precision(self) -> float:
        """Share of the found pairs that are true."""
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        """Share of the true pairs that were found."""
        return self.correct / self.true if self.true else 1.0


@dataclass(frozen=True, slots=True)
class Quality:
    """The figures of one grouping against its labels."""

    same: PairScore
    cross: PairScore
    bcubed_precision: float
    bcubed_recall: float

    def lines(self) -> list[str]:
        """The figures as printable lines."""
        out = []
        for name, s in (("same-language", self.same), ("cross-language", self.cross)):
            out.append(
                f"{name:>14}: precision {s.precision:.3f} ({s.correct}/{s.found}), "
                f"recall {s.recall:.3f} ({s.correct}/{s.true})"
            )
        out.append(
            f"{'B-cubed':>14}: precision {self.bcubed_precision:.3f}, "
            f"recall {self.bcubed_recall:.3f}"
        )
        return out


def quality(
    events: Mapping[str, Hashable], stories: Mapping[str, Hashable], langs: Mapping[str, str]
) -> Quality:
    """Score `stories` (report → story) against `events` (report → event); `langs` per report."""
    counts = {True: [0, 0, 0], False: [0, 0, 0]}  # same language → found, true, correct
    for a, b in itertools.combinations(sorted(events), 2):
        found = stories[a] == stories[b]
        true = events[a] == events[b]
        c = counts[langs[a] == langs[b]]
        c[0] += found
        c[1] += true
        c[2] += found and true
    story_members: dict[Hashable, set[str]] = {}
    event_members: dict[Hashable, set[str]] = {}
    for report in events:
        story_members.setdefault(stories[report], set()).add(report)
        event_members.setdefault(events[report], set()).add(report)
    precision = recall = 0.0
    for report in events:
        story, event = story_members[stories[report]], event_members[events[report]]
        both = len(story & event)
        precision += both / len(story)
        recall += both / len(event)
    n = len(events) or 1
    return Quality(
        same=PairScore(*counts[True]),
        cross=PairScore(*counts[False]),
        bcubed_precision=precision / n,
        bcubed_recall=recall / n,
    )
