"""The operator edit log in the database: read it, append to it, mark an edit undone, compact it.

Edits that change the config go through `transaction()`, which serializes writers across every
process on the database (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock),
so a writer reads the log, checks its edit against it and appends without a race. SQLAlchemy rows
and errors stay here: callers get `ChangeRow` and `StoreError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.overlay_tables import config_changes as changes_t

# Any fixed 64-bit number, distinct from the migration lock's; held by every config writer.
_EDIT_LOCK_KEY = 0x6D72_6276_6564_6974


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One stored change: an edit (with `edit` data), an undo, or a recorded change."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    summary: str
    edit: dict[str, Any] | None
    before: Any
    after: Any
    undone: bool
    undoes: int | None


class OverlayTransaction:
    """Reads and writes of one serialized transaction (see `OverlayStore.transaction`)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def edits(self) -> list[ChangeRow]:
        """The active edits (not undone), oldest first."""
        return await _active_edits(self._conn)

    async def add(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        target: str,
        summary: str,
        edit: dict[str, Any] | None,
        before: Any,
        after: Any,
        undoes: int | None = None,
    ) -> int:
        """Append a change; its id."""
        values = {
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "summary": summary,
            "edit": edit,
            "before": before,
            "after": after,
            "undone": False,
            "undoes": undoes,
        }
        result = await self._conn.execute(
            insert(changes_t).values(values).returning(changes_t.c.id)
        )
        return int(result.scalar_one())

    async def all_changes(self) -> list[ChangeRow]:
        """Every change, edits, undos and records alike, oldest first."""
        rows = await self._conn.execute(select(changes_t).order_by(changes_t.c.id))
        return [_row(r) for r in rows]

    async def delete(self, change_ids: list[int]) -> None:
        """Remove changes (compaction: the caller has checked that the log means the same)."""
        for start in range(0, len(change_ids), 500):
            batch = change_ids[start : start + 500]
            await self._conn.execute(delete(changes_t).where(changes_t.c.id.in_(batch)))

    async def mark_undone(self, change_id: int) -> None:
        """Mark an edit undone: it is no longer replayed."""
        await self._conn.execute(
            update(changes_t).where(changes_t.c.id == change_id).values(undone=True)
        )


class OverlayStore:
    """The `config_changes` table through an injected engine (which it does not dispose)."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def edits(self) -> list[ChangeRow]:
        """The active edits (not undone), oldest first: what is replayed over the files."""
        async with self._db.read("reading operator edits") as conn:
            return await _active_edits(conn)

    async def version(self) -> int:
        """The newest change's id (0 when none): it grows with every edit, undo and record."""
        async with self._db.read("reading the operator edit version") as conn:
            return int(await conn.scalar(select(func.coalesce(func.max(changes_t.c.id), 0))) or 0)

    async def count(self) -> int:
        """How many changes the log holds."""
        async with self._db.read("counting operator changes") as conn:
            return int(await conn.scalar(select(func.count()).select_from(changes_t)) or 0)

    async def audit(self, n: int) -> list[ChangeRow]:
        """The newest `n` changes, newest first."""
        async with self._db.read("reading the audit trail") as conn:
            rows = await conn.execute(select(changes_t).order_by(changes_t.c.id.desc()).limit(n))
            return [_row(r) for r in rows]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[OverlayTransaction]:
        """A write transaction that no other config writer runs beside; committed on exit."""
        # SQLite's BEGIN IMMEDIATE already excludes other writers; PostgreSQL needs the lock.
        async with self._db.write("writing an operator edit") as conn:
            if self._db.dialect == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EDIT_LOCK_KEY}
                )
            yield OverlayTransaction(conn)


async def _active_edits(conn: AsyncConnection) -> list[ChangeRow]:
    rows = await conn.execute(
        select(changes_t)
        .where(changes_t.c.edit.is_not(None), changes_t.c.undone.is_(False))
        .order_by(changes_t.c.id)
    )
    return [r for r in map(_row, rows) if r.edit is not None]


def _row(row: Row[Any]) -> ChangeRow:
    edit = row.edit if isinstance(row.edit, dict) else None
    return ChangeRow(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        summary=row.summary,
        edit=edit,
        before=row.before,
        after=row.after,
        undone=bool(row.undone),
        undoes=row.undoes,
    )
