"""Compaction of the operator edit log: old edits folded into their net effect (pure).

The log grows with every edit and undo, and every change replays it. `plan` picks the rows that can
go without changing what the log means; the caller deletes them and logs one "compact" row that
says what went. The newest `keep_recent` changes are never touched, so `/undo` walks back through
recent edits exactly as before; the rules only look at the older rows, among themselves:

1. an undone edit goes with its undo row, when both are old (neither is replayed);
2. an old edit goes when a newer old edit sets the same thing (the last one wins when replayed):
   pause/resume of one source, its interval, one term of a topic's group (spelling folded as
   topics.toml folds it), one mask or veto of a topic;
3. every old edit of a source goes when a newer old edit removes that source (the removal
   undoes them all, whatever the files say).

Folding may move a term within its group (remove-then-add appends it; the folded log leaves it
where the files have it): order carries no meaning to the matcher, so configs are compared with
`unordered`, which sorts terms, masks and vetoes.

Old records (changes made elsewhere, such as a channel added) stay: they are the audit trail, not
edits. Unreadable edits stay too: nothing is known of what they set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.models import TermGroup, Topic
from bot.operator.edits import (
    AddMask,
    AddSource,
    AddTerm,
    AddVeto,
    Edit,
    PauseSource,
    RemoveMask,
    RemoveSource,
    RemoveTerm,
    RemoveVeto,
    ResumeSource,
    SetInterval,
    from_json,
)
from bot.storage.overlay import ChangeRow
from bot.topics.folding import normalize

KEEP_RECENT = 50  # changes never compacted: the reach of /undo after a compaction
AUTO_COMPACT_AT = 500  # changes in the log past which an edit compacts it


@dataclass(frozen=True, slots=True)
class Compaction:
    """The rows to delete, and why; empty when nothing can go."""

    remove: tuple[int, ...] = ()
    superseded: int = 0  # edits overridden by a newer old edit
    undone: int = 0  # undone edits (each removed with its undo row)
    upto: int = 0  # the newest row that was considered

    @property
    def summary(self) -> str:
        """One line for the audit trail."""
        return (
            f"compacted changes up to #{self.upto}: {self.superseded} edit(s) superseded by later "
            f"ones and {self.undone} undone edit(s) with their undo rows folded away"
        )


def plan(rows: Sequence[ChangeRow], *, keep_recent: int = KEEP_RECENT) -> Compaction:
    """What can go from `rows` (the whole log, oldest first) while keeping the newest ones."""
    old = list(rows[: max(0, len(rows) - keep_recent)])
    if not old:
        return Compaction()
    old_ids = {row.id for row in old}
    undo_of = {row.undoes: row.id for row in rows if row.undoes is not None}
    remove: list[int] = []
    undone = 0
    for row in old:
        if row.edit is not None and row.undone:
            undo_row = undo_of.get(row.id)
            if undo_row is None or undo_row in old_ids:
                remove.append(row.id)
                undone += 1
                if undo_row is not None:
                    remove.append(undo_row)
    superseded = _superseded([r for r in old if r.edit is not None and not r.undone])
    remove += superseded
    return Compaction(tuple(sorted(remove)), len(superseded), undone, old[-1].id)


def _superseded(active: Sequence[ChangeRow]) -> list[int]:
    """Ids of active edits that a newer one among `active` makes irrelevant (rules 2 and 3)."""
    seen: set[tuple[str, ...]] = set()
    removed_sources: set[str] = set()
    out: list[int] = []
    for row in reversed(active):  # newest first: the edit that wins is met before those it beats
        edit = _edit(row)
        if edit is None:
            continue
        source = edit.id if isinstance(edit, _SOURCE_EDITS) else None
        key = _slot(edit)
        if (source is not None and source in removed_sources) or (key is not None and key in seen):
            out.append(row.id)
            continue
        if key is not None:
            seen.add(key)
        if isinstance(edit, RemoveSource):
            removed_sources.add(edit.id)
    return out


_SOURCE_EDITS = (AddSource, RemoveSource, PauseSource, ResumeSource, SetInterval)


def _edit(row: ChangeRow) -> Edit | None:
    try:
        return from_json(row.edit) if row.edit is not None else None
    except ValueError:
        return None


def _slot(edit: Edit) -> tuple[str, ...] | None:
    """What an edit sets, such that the last edit of a slot decides it; None: not foldable."""
    match edit:
        case PauseSource() | ResumeSource():
            return ("enabled", edit.id)
        case SetInterval():
            return ("interval", edit.id)
        case AddTerm() | RemoveTerm():
            return ("term", edit.topic, edit.group, _fold(edit.term))
        case AddMask() | RemoveMask():
            return ("mask", edit.topic, _fold(edit.phrase))
        case AddVeto() | RemoveVeto():
            return ("veto", edit.topic, _fold(edit.term))
    return None


def _fold(term: str) -> str:
    # As bot.operator.edits folds terms when it finds them in a topic.
    return normalize(term.strip().replace("*", " *"))


def unordered(topics: Sequence[Topic]) -> tuple[Topic, ...]:
    """The topics with terms, masks and vetoes sorted: equal when they match the same way."""
    return tuple(
        replace(
            t,
            groups=tuple(TermGroup(g.name, tuple(sorted(g.terms))) for g in t.groups),
            masks=tuple(sorted(t.masks)),
            vetoes=tuple(sorted(t.vetoes)),
        )
        for t in topics
    )
