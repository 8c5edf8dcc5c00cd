"""The stored edit log behind the live config: each change read, checked and written in one go.

`EditLog` turns an operator's edit, an undo or a compaction into rows of `bot.storage.overlay`:
inside one serialized transaction it reads the log as it is now (other processes' edits
included), replays it over the files it is given (`bot.operator.replay`), validates the result
with the files' own rules and appends the change with who, when, before and after. It also
records changes made elsewhere and reads the audit trail back. It holds no config:
`bot.operator.live.LiveConfig` keeps the config in force, takes one change at a time and tells
its listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import ConfigError
from bot.models import Source, Topic
from bot.operator.compaction import KEEP_RECENT, Compaction, plan
from bot.operator.edits import ConfigData, Edit, action, apply_edit, describe, snapshot, target
from bot.operator.edits import to_json as edit_to_json
from bot.operator.replay import comparable, edit_of, replay, validate
from bot.storage.overlay import OverlayStore


@dataclass(frozen=True)
class EditResult:
    """An accepted edit (or undo): what changed, the target before and after, its audit row."""

    summary: str
    before: Any
    after: Any
    audit_id: int


@dataclass(frozen=True)
class AuditEntry:
    """One change in the audit trail."""

    id: int
    actor: str
    at: datetime
    action: str
    target: str
    before: Any
    after: Any
    undone: bool
    summary: str = ""


@dataclass(frozen=True)
class Replayed:
    """The stored edits replayed over the files: raw data, its validated records, what was skipped."""

    data: ConfigData
    sources: tuple[Source, ...]
    topics: tuple[Topic, ...]
    stale: tuple[str, ...]  # stored edits the files no longer allow, with why
    edits: int  # active stored edits
    version: int  # the newest change id behind `data`


class EditLog:
    """Writes edits, undos, compactions and audit rows to the stored log, one transaction each."""

    def __init__(self, overlay: OverlayStore, *, clock: Callable[[], datetime]) -> None:
        self._overlay = overlay
        self._clock = clock

    async def replayed(self, base: ConfigData) -> Replayed:
        """The log as it is now over `base`; ConfigError if the result is not valid."""
        version = (
            await self._overlay.version()
        )  # first: an edit landing meanwhile is seen next time
        rows = await self._overlay.edits()
        data, stale = replay(base, rows)
        sources, topics = validate(data, "operator edits", "operator edits")
        return Replayed(data, sources, topics, stale, len(rows), version)

    async def add(self, base: ConfigData, edit: Edit, *, actor: str) -> tuple[Replayed, EditResult]:
        """Validate and store one edit over `base`; ConfigError (nothing stored) if refused."""
        async with self._overlay.transaction() as tx:
            rows = await tx.edits()  # the log as it is now, other processes' edits included
            before, stale = replay(base, rows)
            after = apply_edit(before, edit)
            sources, topics = validate(after, "operator edit", "operator edit")
            summary = describe(edit)
            snap_before, snap_after = snapshot(before, edit), snapshot(after, edit)
            change_id = await tx.add(
                at=self._clock(),
                actor=actor,
                action=action(edit),
                target=target(edit),
                summary=summary,
                edit=edit_to_json(edit),
                before=snap_before,
                after=snap_after,
            )
        replayed = Replayed(after, sources, topics, stale, len(rows) + 1, change_id)
        return replayed, EditResult(summary, snap_before, snap_after, change_id)

    async def undo(self, base: ConfigData, *, actor: str) -> tuple[Replayed, EditResult]:
        """Mark the newest active edit undone and log the undo; ConfigError when none is left."""
        async with self._overlay.transaction() as tx:
            rows = await tx.edits()
            if not rows:
                raise ConfigError(["nothing to undo: no operator edit is in force"])
            last = rows[-1]
            before, _ = replay(base, rows)
            after, stale = replay(base, rows[:-1])
            sources, topics = validate(after, "undo", "undo")
            edit = edit_of(last)
            snap_before = snapshot(before, edit) if edit else last.after
            snap_after = snapshot(after, edit) if edit else last.before
            summary = f"undo #{last.id} ({last.summary})"
            await tx.mark_undone(last.id)
            change_id = await tx.add(
                at=self._clock(),
                actor=actor,
                action="undo",
                target=last.target,
                summary=summary,
                edit=None,
                before=snap_before,
                after=snap_after,
                undoes=last.id,
            )
        replayed = Replayed(after, sources, topics, stale, len(rows) - 1, change_id)
        return replayed, EditResult(summary, snap_before, snap_after, change_id)

    async def compact(
        self, base: ConfigData, *, actor: str, keep_recent: int = KEEP_RECENT
    ) -> tuple[Compaction, int | None]:
        """Fold old edits into their net effect; the plan and the id of its audit row (None:
        nothing could go, nothing written). ConfigError if the folded log would replay differently.
        """
        async with self._overlay.transaction() as tx:
            rows = await tx.all_changes()
            result = plan(rows, keep_recent=keep_recent)
            if not result.remove:
                return result, None
            gone = set(result.remove)
            active = [r for r in rows if r.edit is not None and not r.undone]
            kept = [r for r in active if r.id not in gone]
            # Compared as the bot sees them: raw data may differ in keys that restate a
            # default (a pause then a resume leaves `enabled = true` behind).
            if comparable(base, active) != comparable(base, kept):
                raise ConfigError(
                    ["compaction refused: the compacted log would replay differently"]
                )
            await tx.delete(sorted(gone))
            change_id = await tx.add(
                at=self._clock(),
                actor=actor,
                action="compact",
                target="edit log",
                summary=result.summary,
                edit=None,
                before=len(rows),
                after=len(rows) - len(gone) + 1,
            )
        return result, change_id

    async def record(self, *, actor: str, action: str, target: str, before: Any, after: Any) -> int:
        """Log a change made elsewhere (a channel added) in the audit trail; not undoable."""
        async with self._overlay.transaction() as tx:
            return await tx.add(
                at=self._clock(),
                actor=actor,
                action=action,
                target=target,
                summary=f"{action} {target}",
                edit=None,
                before=before,
                after=after,
            )

    async def audit(self, n: int = 10) -> list[AuditEntry]:
        """The newest `n` changes, newest first."""
        return [
            AuditEntry(
                r.id, r.actor, r.at, r.action, r.target, r.before, r.after, r.undone, r.summary
            )
            for r in await self._overlay.audit(n)
        ]
