"""The desk's labels as data and as evidence: export/import lines, and an edit's impact on them.

Export lines are `match`'s input records (id, title, summary, lang, source, url, published) plus
`label` (the majority verdict; on a tie the latest vote's) and `votes` ({"relevant": n,
"not_relevant": m}) and the `topics` the item was pushed for. Chat ids, user ids and names are
written only `with_people` (a `people` list), so an export can be shared. Import reads the same
lines back; a line without `votes` counts as one vote of its `label` (the shipped dev set).

`edit_impact` runs the labelled items through the topics before and after an operator's edit
(`bot.topics.scoring.impact`); `impact_lines` says what it would do ("this edit would miss 2 items
the desk marked relevant: …"), for the Telegram reply and the CLI twin alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.storage.labels import LabelledItem, LabelStore, NewLabel, Vote
from bot.text.jsonlines import BadLine, records
from bot.topics.matcher import Matcher
from bot.topics.scoring import Impact, Judged, Outcome, impact

SHOWN = 3  # items named in an edit's impact
CHECKED = 2000  # labelled items an edit is checked against, the most recently labelled first


def judged(item: LabelledItem) -> Judged:
    """The labelled item as the scoring sees it (its majority verdict)."""
    return Judged(item.ref, item.title, item.summary, item.lang, item.source, item.relevant)


def export_line(item: LabelledItem, *, with_people: bool = False) -> dict[str, Any]:
    """One JSON Lines record of a labelled item (people only `with_people`)."""
    line: dict[str, Any] = {
        "id": item.ref,
        "title": item.title,
        "summary": item.summary,
        "lang": item.lang,
        "source": item.source,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
        "label": item.relevant,
        "votes": {"relevant": item.relevant_votes, "not_relevant": item.not_relevant_votes},
        "topics": list(item.topics),
    }
    if with_people:
        line["people"] = [
            {
                "who": v.who,
                "user_id": v.user_id,
                "name": v.user_name,
                "chat_id": v.chat_id,
                "label": v.relevant,
                "at": v.at.isoformat(),
            }
            for v in item.votes
        ]
    return line


class _Votes(BaseModel):
    relevant: int = Field(default=0, ge=0, le=10_000)
    not_relevant: int = Field(default=0, ge=0, le=10_000)


class _Person(BaseModel):
    model_config = ConfigDict(extra="ignore")

    who: str = Field(min_length=1, max_length=200)
    label: bool
    at: AwareDatetime
    user_id: int | None = None
    name: str | None = None
    chat_id: int | None = None


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int
    title: str = Field(default="", max_length=10_000)
    summary: str = Field(default="", max_length=100_000)
    lang: str | None = Field(default=None, max_length=35)
    source: str = ""
    url: str | None = None
    published: AwareDatetime | None = None
    label: bool | str | None = None
    votes: _Votes | None = None
    topics: list[str] = Field(default_factory=list)
    people: list[_Person] | None = None


def read_import(
    lines: Iterable[str], *, now: datetime
) -> tuple[list[NewLabel], list[BadLine], int]:
    """The labelled items of an export (or of the dev set), the bad lines, and how many lines
    were skipped because their label is not true/false (the dev set's "borderline")."""
    out: list[NewLabel] = []
    bad: list[BadLine] = []
    skipped = 0
    for number, record in enumerate(records(lines, _Line), start=1):
        if isinstance(record, BadLine):
            bad.append(record)
            continue
        if not isinstance(record.label, bool):
            skipped += 1
            continue
        votes = _votes(record, now, record.label)
        if not votes:
            bad.append(BadLine(number, "votes: no vote for relevant or not relevant"))
            continue
        out.append(
            NewLabel(
                ref=str(record.id)[:300],
                title=record.title,
                summary=record.summary,
                lang=record.lang,
                source=record.source,
                url=record.url,
                published=record.published.astimezone(UTC) if record.published else None,
                topics=tuple(record.topics),
                votes=votes,
                named=record.people is not None,
            )
        )
    return out, bad, skipped


def _votes(record: _Line, now: datetime, label: bool) -> tuple[Vote, ...]:
    if record.people is not None:
        return tuple(
            Vote(p.who, p.label, p.at.astimezone(UTC), p.user_id, p.name, p.chat_id)
            for p in record.people
        )
    counts = record.votes or _Votes(relevant=int(label), not_relevant=int(not label))
    verdicts = [True] * counts.relevant + [False] * counts.not_relevant
    return tuple(Vote(f"import:{n}", v, now) for n, v in enumerate(verdicts, start=1))


async def edit_impact(
    labels: LabelStore, before: Matcher, after: Matcher, *, limit: int = CHECKED
) -> Impact | None:
    """What replacing the topics of `before` by those of `after` does to the `limit` most
    recently labelled items (a reply must come within a second or so); None when nothing
    changed in the topics or nothing is labelled."""
    if before.topics == after.topics:
        return None
    found, total = await labels.texts(limit)
    if not found:
        return None
    result = impact(before, after, [judged(item) for item in found])
    return replace(result, of=total)


def impact_lines(found: Impact | None) -> list[str]:
    """The impact in words, one sentence a line ([] when there is nothing to say)."""
    if found is None:
        return []
    where = "Labelled items"
    if found.of > found.labelled:
        where = f"The {found.labelled:,} most recently labelled items (of {found.of:,})"
    if not found.changed:
        return [f"{where}: this edit changes none of the {found.labelled:,} verdicts."]
    out = [f"{where}: this edit changes {found.changed} of {found.labelled:,} verdicts."]
    misses, alarms = found.new_misses, found.new_false_alarms
    if misses:
        out.append(
            f"This edit would miss {_items(len(misses))} the desk marked relevant: "
            + _titles(misses)
        )
    if alarms:
        out.append(
            f"This edit would flag {_items(len(alarms))} the desk marked not relevant: "
            + _titles(alarms)
        )
    if found.put_right:
        out.append(f"It puts {_items(len(found.put_right))} right: " + _titles(found.put_right))
    return out


def _items(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def _titles(outcomes: Sequence[Outcome]) -> str:
    shown = "; ".join(f"“{o.item.title}” ({o.item.source})" for o in outcomes[:SHOWN])
    return shown + (f"; and {len(outcomes) - SHOWN} more" if len(outcomes) > SHOWN else "")
