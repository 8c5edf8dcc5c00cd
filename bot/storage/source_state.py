"""The polling state of sources: reading it, and saving the polls that add no items.

`SourceStates` takes the shared database access (`bot.storage.items.Store` builds one on its own
access and offers it as `Store.states`); it owns the reads of `source_state` (`source_state`,
`source_states`) and the writes of a poll that stored nothing: an unchanged feed (`save_not_modified`, group-committed
with the other unchanged feeds of the moment) and a failure (`save_failure`). A good fetch writes
its state in `Store.save_fetch`, in the same transaction as its items. `state_from_row` maps one
`source_state` row to a `SourceState` (also used by `bot.storage.leases`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import StoreError
from bot.models import SourceState, Validators
from bot.storage.access import DbAccess
from bot.storage.tables import source_state as state_t

_MAX_ERROR = 2000  # characters of a failure reason kept on the source
# Every save of a poll's outcome ends the claim on the source (bot.storage.leases.SourceClaims).
UNCLAIMED: dict[str, Any] = {"claimed_by": None, "claim_expires": None}


@dataclass(slots=True)
class _Unchanged:
    """A source-state update waiting for the next group commit."""

    source_id: str
    values: dict[str, Any]
    done: bool = False
    error: StoreError | None = None


class SourceStates:
    """Reads of the sources' polling state, and the saves of polls that stored no items."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)
        self._unchanged: list[_Unchanged] = []  # saves waiting for the next group commit
        self._unchanged_lock = asyncio.Lock()
        # One upsert per set of columns, built once: building a statement (and its cache key)
        # for every group commit cost as much as the commit.
        self._upserts: dict[tuple[str, ...], Any] = {}

    async def source_state(self, source_id: str) -> SourceState:
        """What is known of a source; a default state when it was never polled."""
        async with self._db.read(f"reading the state of {source_id}") as conn:
            row = (
                await conn.execute(select(state_t).where(state_t.c.source_id == source_id))
            ).first()
        return state_from_row(row) if row is not None else SourceState(source_id=source_id)

    async def source_states(self) -> dict[str, SourceState]:
        """The state of every source polled at least once, by source id."""
        async with self._db.read("reading source states") as conn:
            rows = (await conn.execute(select(state_t))).all()
        return {row.source_id: state_from_row(row) for row in rows}

    async def save_not_modified(
        self,
        source_id: str,
        *,
        now: datetime,
        next_poll: datetime,
        validators: Validators | None = None,
    ) -> None:
        """Record an unchanged feed (304, or the same body): a success that adds nothing."""
        values: dict[str, Any] = {
            "last_attempt": now,
            "last_success": now,
            "consecutive_failures": 0,
            "last_error": None,
            "next_poll": next_poll,
            **UNCLAIMED,
        }
        if validators is not None:
            values.update(
                etag=validators.etag,
                last_modified=validators.last_modified,
                body_hash=validators.body_hash,
            )
        # Group commit: unchanged feeds are most polls, and one transaction each costs more than
        # the poll itself; concurrent calls share one, each returning once its row is committed.
        entry = _Unchanged(source_id, values)
        self._unchanged.append(entry)
        async with self._unchanged_lock:
            if not entry.done:
                batch, self._unchanged = self._unchanged, []
                try:
                    action = f"saving the state of {len(batch)} unchanged source(s)"
                    async with self._db.write(action) as conn:
                        await self._upsert_unchanged(conn, batch)
                except BaseException as exc:
                    error = exc if isinstance(exc, StoreError) else StoreError(repr(exc))
                    for pending in batch:
                        pending.done, pending.error = True, error
                    raise
                for pending in batch:
                    pending.done = True
        if entry.error is not None:
            raise entry.error

    async def save_failure(
        self, source_id: str, *, error: str, now: datetime, next_poll: datetime
    ) -> int:
        """Record a failed poll; returns how many polls in a row have now failed."""
        values = {
            "last_attempt": now,
            "last_error": error[:_MAX_ERROR],
            "next_poll": next_poll,
            **UNCLAIMED,
        }
        stmt = self._db.insert(state_t).values(
            source_id=source_id, consecutive_failures=1, items_seen=0, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[state_t.c.source_id],
            set_={**values, "consecutive_failures": state_t.c.consecutive_failures + 1},
        )
        async with self._db.write(f"saving the failure of {source_id}") as conn:
            failures = await conn.scalar(stmt.returning(state_t.c.consecutive_failures))
        return int(failures or 0)

    async def _upsert_unchanged(self, conn: AsyncConnection, batch: Sequence[_Unchanged]) -> None:
        # One statement per set of columns, executed for many rows: building and compiling an
        # upsert per row cost more than the write itself. The same row as `save_fetch`'s, with no items.
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for pending in batch:
            row = {"source_id": pending.source_id, "items_seen": 0, **pending.values}
            by_columns.setdefault(tuple(pending.values), []).append(row)
        for columns, rows in by_columns.items():
            stmt = self._upserts.get(columns)
            if stmt is None:
                stmt = self._db.insert(state_t)
                stmt = self._upserts[columns] = stmt.on_conflict_do_update(
                    index_elements=[state_t.c.source_id],
                    set_={name: stmt.excluded[name] for name in columns},
                )
            await conn.execute(stmt, rows)


def state_from_row(row: Row[Any]) -> SourceState:
    """One `source_state` row as a `SourceState`."""
    return SourceState(
        source_id=row.source_id,
        validators=Validators(
            etag=row.etag, last_modified=row.last_modified, body_hash=row.body_hash
        ),
        last_attempt=row.last_attempt,
        last_success=row.last_success,
        consecutive_failures=row.consecutive_failures,
        last_error=row.last_error,
        next_poll=row.next_poll,
        items_seen=row.items_seen,
    )
