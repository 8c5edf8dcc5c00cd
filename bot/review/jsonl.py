"""`stories` command's record format: JSON Lines of items in, `{"id", "story"}` lines out, same order.

Items are grouped in published order (ties by input order) with the bot's own `Grouper`, so a
story's id is the id of its earliest report. A line without `published` is dated like the line
before it (lines before the first dated one, like that one; with no dates at all, every line is
at one moment). A line that is not a valid record prints `{"line": N, "error": …}` in its place
and takes no part in the grouping, as for `match`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, NaiveDatetime

from bot.review.lexicon import Lexicon
from bot.review.stories import Grouper, Reason, Rules
from bot.text.jsonlines import BadLine, ItemLine
from bot.text.jsonlines import records as read_records

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Record(ItemLine):
    source: str | None = None
    published: AwareDatetime | NaiveDatetime | None = None
    url: str | None = None


def story_lines(
    lines: Iterable[str],
    rules: Rules | None = None,
    *,
    lexicon: Lexicon | None = None,
    explain: bool = False,
) -> list[dict[str, Any]]:
    """One result per non-blank line, in input order: `{"id", "story"}` or `{"line", "error"}`.

    `explain`: each result also carries `"why"`, one entry per earlier report compared with
    it: that report's id and story, the verdict, and the signature parts that agreed or
    conflicted."""
    out: list[dict[str, Any]] = []
    records: list[tuple[int, _Record]] = []  # (position in `out`, record)
    for record in read_records(lines, _Record):
        if isinstance(record, BadLine):
            out.append(record.as_json())
            continue
        records.append((len(out), record))
        out.append({"id": record.id})
    times = _dates([r.published for _, r in records])
    order = sorted(range(len(records)), key=lambda n: (times[n], n))
    grouper = Grouper(rules or Rules()) if lexicon is None else Grouper(rules or Rules(), lexicon)
    for n in order:
        _, record = records[n]
        why: list[Reason] | None = [] if explain else None
        story = grouper.add(
            n,
            title=record.title,
            summary=record.summary,
            published=times[n],
            url=record.url,
            lang=record.lang,
            why=why,
        )
        assert isinstance(story, int)  # noqa: S101  (keys are the positions given above)
        out[records[n][0]]["story"] = records[story][1].id
        if why is not None:
            out[records[n][0]]["why"] = [_reason(r, records) for r in why]
    return out


def _reason(reason: Reason, records: list[tuple[int, _Record]]) -> dict[str, Any]:
    """One `--explain` entry: the compared report and its story by their ids."""
    candidate, story = reason.candidate, reason.story
    assert isinstance(candidate, int)  # noqa: S101  (the keys are positions, as above)
    assert isinstance(story, int)  # noqa: S101
    out: dict[str, Any] = {
        "with": records[candidate][1].id,
        "story": records[story][1].id,
        "joins": reason.score is not None,
        "verdict": reason.verdict,
    }
    if reason.agreed:
        out["agreed"] = list(reason.agreed)
    if reason.conflicts:
        out["conflicts"] = list(reason.conflicts)
    return out


def _dates(given: list[datetime | None]) -> list[datetime]:
    """Aware UTC times, undated lines filled from the line before (see the module docstring)."""
    known = [_utc(d) for d in given if d is not None]
    last = known[0] if known else _EPOCH
    out = []
    for d in given:
        if d is not None:
            last = _utc(d)
        out.append(last)
    return out


def _utc(moment: datetime) -> datetime:
    # A time without a zone is read as UTC, as feeds' naive times are.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
