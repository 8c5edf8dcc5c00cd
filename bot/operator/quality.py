"""`/quality` and the status page's figures: how the desk judges what the filter pushes.

Over a window (7 days by default): the labels received (votes cast or changed), the items pushed
to chats (sent as a new message, plus labelled items pushed before the window), the share of
them the desk marked not relevant (majority verdict), the same per outlet and per kind of
evidence that flags the item today (terms, entities, lists: `bot.topics.scoring.evidence_kinds`;
"not flagged now" for items today's configuration no longer flags), and the items most recently
marked not relevant. `lines` renders it; with `people` False no person's name appears (the status
page).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.labels import LabelledItem, LabelStore
from bot.text.durations import format_duration
from bot.topics.matcher import Matcher
from bot.topics.scoring import evidence_kinds

RECENT = 5  # items listed as most recently marked wrong
NOT_FLAGGED = "not flagged now"


@dataclass(frozen=True, slots=True)
class Share:
    """Of `base` items of one outlet or evidence kind, how many the desk marked not relevant."""

    name: str
    base: int
    not_relevant: int

    @property
    def share(self) -> float:
        """not_relevant / base (0 when there is no base)."""
        return self.not_relevant / self.base if self.base else 0.0


@dataclass(frozen=True, slots=True)
class Wrong:
    """An item the desk marked not relevant, and who (names only for operators)."""

    title: str
    source: str
    url: str | None
    at: datetime
    people: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Quality:
    """The window's figures."""

    days: float
    labels: int  # votes received in the window
    labelled: int  # items with a vote in the window
    pushed: int
    not_relevant: int
    by_source: tuple[Share, ...]  # base: items pushed from the outlet
    by_evidence: tuple[Share, ...]  # base: labelled items flagged by that kind
    recent_wrong: tuple[Wrong, ...]

    @property
    def share(self) -> float:
        """Of the pushed items, the share marked not relevant."""
        return self.not_relevant / self.pushed if self.pushed else 0.0


async def gather(
    labels: LabelStore, matcher: Matcher, *, now: datetime, window: timedelta
) -> Quality:
    """The figures of the `window` up to `now`, evidence judged by `matcher` (today's topics)."""
    since = now - window
    labelled = await labels.labelled(since=since)
    pushed = await labels.pushed(since)
    return summarize(labelled, pushed, matcher, days=window.total_seconds() / 86400)


def summarize(
    labelled: list[LabelledItem], pushed: dict[int, str], matcher: Matcher, *, days: float
) -> Quality:
    """The figures from the window's labelled items and pushed items (item id → outlet)."""
    outlets: dict[str, set[str]] = {}
    for item_id, source in pushed.items():
        outlets.setdefault(source, set()).add(f"#{item_id}")
    wrong_by_source: Counter[str] = Counter()
    base_by_kind: Counter[str] = Counter()
    wrong_by_kind: Counter[str] = Counter()
    for item in labelled:
        key = f"#{item.item_id}" if item.item_id is not None else item.ref
        outlets.setdefault(item.source, set()).add(key)
        kinds = evidence_kinds(matcher, item.title, item.summary) or (NOT_FLAGGED,)
        base_by_kind.update(kinds)
        if not item.relevant:
            wrong_by_source[item.source] += 1
            wrong_by_kind.update(kinds)
    by_source = sorted(
        (Share(name, len(keys), wrong_by_source[name]) for name, keys in outlets.items()),
        key=lambda s: (-s.not_relevant, -s.base, s.name),
    )
    wrong = sorted((i for i in labelled if not i.relevant), key=lambda i: i.latest, reverse=True)
    return Quality(
        days=days,
        labels=sum(len(i.votes) for i in labelled),
        labelled=len(labelled),
        pushed=sum(len(keys) for keys in outlets.values()),
        not_relevant=sum(wrong_by_source.values()),
        by_source=tuple(by_source),
        by_evidence=tuple(
            Share(kind, base_by_kind[kind], wrong_by_kind[kind])
            for kind in sorted(base_by_kind, key=lambda k: (-base_by_kind[k], k))
        ),
        recent_wrong=tuple(
            Wrong(
                i.title,
                i.source,
                i.url,
                i.latest,
                tuple(v.user_name or v.who for v in i.votes if not v.relevant),
            )
            for i in wrong[:RECENT]
        ),
    )


def lines(q: Quality, *, people: bool) -> list[str]:
    """The figures as plain text, one fact a line; names of people only when `people`."""
    out = [
        f"Last {_window(q.days)}: {q.labels} label(s) on {q.labelled} item(s).",
        f"Pushed: {q.pushed} item(s); marked not relevant: {q.not_relevant} ({q.share:.0%}).",
    ]
    if q.by_source:
        out.append("By outlet (not relevant / pushed):")
        out += [f"  {s.name}: {s.not_relevant}/{s.base} ({s.share:.0%})" for s in q.by_source]
    if q.by_evidence:
        out.append("By evidence (not relevant / labelled):")
        out += [f"  {s.name}: {s.not_relevant}/{s.base} ({s.share:.0%})" for s in q.by_evidence]
    if q.recent_wrong:
        out.append("Most recently marked not relevant:")
        for w in q.recent_wrong:
            by = f" — {', '.join(w.people)}" if people and w.people else ""
            out.append(f"  “{w.title}” ({w.source}){by}")
    return out


def _window(days: float) -> str:
    """ "7 days", or "12h" for a window that is not a whole number of days."""
    if days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    return format_duration(days * 86400)
