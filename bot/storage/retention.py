"""Retention: old items leave the database in small batches; their keys stay while they matter.

One pass (`Retention.run`), in order:
1. unflagged items first seen more than `keep_days` ago are removed (their outbox rows with them);
2. flagged items (those with a topic match, which stories and `latest` refer to) likewise, but
   only when `keep_flagged_days` is set, after that many days;
3. retired keys are pruned once absent from their feed for longer than `keep_days`.

Each removed item leaves its key in `retired_keys`, which the pipeline consults with the item
rows (`Store.known_keys`): an item removed while still in its feed is not taken for new, nor
announced again. The pipeline renews a retired key's `last_seen` (at most daily) whenever a parsed
body still holds it. A key is pruned only when it is older than the window *and* was absent from
the source's last parsed body (`source_state.last_parsed` later than `last_seen` by more than twice
the renewal period): a feed that has answered 304 for months may still hold it.

Every batch is its own short write transaction (`batch_size` rows, default 500), and the pass
yields to other writers between batches, so the SQLite write lock is never held for long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import StoreError
from bot.storage.access import DbAccess
from bot.storage.items import RETIRED_REFRESH
from bot.storage.retention_tables import retired_keys as retired_t
from bot.storage.tables import item_topics as topics_t
from bot.storage.tables import items as items_t
from bot.storage.tables import source_state as state_t

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long items are kept; `keep_days` 0 keeps everything, `keep_flagged_days` None keeps
    flagged items for ever."""

    keep_days: int = 180
    keep_flagged_days: int | None = None
    batch_size: int = 500


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one pass removed, and the longest single write transaction it took."""

    items_removed: int = 0
    flagged_removed: int = 0
    keys_pruned: int = 0
    batches: int = 0
    longest_batch: float = 0.0  # seconds


class Retention:
    """Runs retention passes on an injected engine (which it does not dispose)."""

    def __init__(self, db: AsyncEngine | DbAccess, policy: RetentionPolicy) -> None:
        self._db = DbAccess.of(db)
        self._policy = policy

    async def run(self, now: datetime) -> RetentionReport:
        """One pass; safe to interrupt between batches and to run again."""
        policy = self._policy
        if policy.keep_days <= 0:
            return RetentionReport()
        totals = _Totals()
        flagged = exists().where(topics_t.c.item_id == items_t.c.id)
        cutoff = now - timedelta(days=policy.keep_days)
        await self._remove_items(~flagged, cutoff, now, totals, "unflagged")
        if policy.keep_flagged_days is not None:
            flagged_cutoff = now - timedelta(days=policy.keep_flagged_days)
            await self._remove_items(flagged, flagged_cutoff, now, totals, "flagged")
        await self._prune_keys(cutoff, totals)
        report = totals.report()
        log.info(
            "retention: removed %d item(s) and %d flagged, pruned %d key(s) in %d batch(es); "
            "longest write %.3fs",
            report.items_removed,
            report.flagged_removed,
            report.keys_pruned,
            report.batches,
            report.longest_batch,
        )
        return report

    async def daily(
        self,
        clock: Callable[[], datetime],
        *,
        first_delay: float = 600.0,
        period: float = 86400.0,
        on_pass: Callable[[RetentionReport], object] | None = None,
    ) -> None:
        """Run a pass `first_delay` seconds from now (after start-up's polls), then every `period`,
        until cancelled; a failed pass is logged and tried again at the next. `on_pass` hears of
        each pass that completed."""
        await asyncio.sleep(first_delay)
        while True:
            try:
                report = await self.run(clock())
                if on_pass is not None:
                    on_pass(report)
            except StoreError as exc:
                log.warning("retention pass failed (tried again in %.0fs): %s", period, exc)
            await asyncio.sleep(period)

    async def _remove_items(
        self, which: Any, cutoff: datetime, now: datetime, totals: _Totals, kind: str
    ) -> None:
        after = 0  # keyset by id: kept rows are never scanned twice
        while True:
            query: Select[Any] = (
                select(items_t.c.id, items_t.c.source_id, items_t.c.key)
                .where(items_t.c.id > after, items_t.c.first_seen < cutoff, which)
                .order_by(items_t.c.id)
                .limit(self._policy.batch_size)
            )
            started = time.perf_counter()
            async with self._db.write(f"removing old {kind} items") as conn:
                rows = (await conn.execute(query)).all()
                if rows:
                    await self._retire(conn, rows, now)
                    ids = [row.id for row in rows]
                    await conn.execute(delete(items_t).where(items_t.c.id.in_(ids)))
            if not rows:
                return
            totals.batch(time.perf_counter() - started)
            if kind == "flagged":
                totals.flagged += len(rows)
            else:
                totals.items += len(rows)
            after = rows[-1].id
            await asyncio.sleep(0)  # let queued writers (a fetch's save) take the lock

    async def _retire(self, conn: AsyncConnection, rows: Any, now: datetime) -> None:
        stmt = self._db.insert(retired_t).on_conflict_do_nothing(
            index_elements=[retired_t.c.source_id, retired_t.c.key]
        )
        await conn.execute(
            stmt, [{"source_id": r.source_id, "key": r.key, "last_seen": now} for r in rows]
        )

    async def _prune_keys(self, cutoff: datetime, totals: _Totals) -> None:
        last: tuple[str, str] = ("", "")  # keyset: keys still in their feed are passed over once
        while True:
            query: Select[Any] = (
                select(
                    retired_t.c.source_id,
                    retired_t.c.key,
                    retired_t.c.last_seen,
                    state_t.c.last_parsed,
                )
                .outerjoin(state_t, state_t.c.source_id == retired_t.c.source_id)
                .where(
                    retired_t.c.last_seen < cutoff,
                    tuple_(retired_t.c.source_id, retired_t.c.key) > tuple_(*last),
                )
                .order_by(retired_t.c.source_id, retired_t.c.key)
                .limit(self._policy.batch_size)
            )
            started = time.perf_counter()
            async with self._db.write("pruning retired item keys") as conn:
                rows = (await conn.execute(query)).all()
                gone = [(r.source_id, r.key) for r in rows if _absent(r.last_seen, r.last_parsed)]
                if gone:
                    await conn.execute(
                        delete(retired_t).where(
                            tuple_(retired_t.c.source_id, retired_t.c.key).in_(gone)
                        )
                    )
            if not rows:
                return
            totals.batch(time.perf_counter() - started)
            totals.keys += len(gone)
            last = (rows[-1].source_id, rows[-1].key)
            await asyncio.sleep(0)


def _absent(last_seen: datetime, last_parsed: datetime | None) -> bool:
    """True when the source's last parsed body did not hold the key: a key still in the feed has
    its `last_seen` renewed at most every RETIRED_REFRESH (with as much again for clock slop)."""
    return last_parsed is not None and last_parsed - last_seen > 2 * RETIRED_REFRESH


@dataclass(slots=True)
class _Totals:
    items: int = 0
    flagged: int = 0
    keys: int = 0
    batches: int = 0
    longest: float = 0.0

    def batch(self, seconds: float) -> None:
        self.batches += 1
        self.longest = max(self.longest, seconds)

    def report(self) -> RetentionReport:
        return RetentionReport(self.items, self.flagged, self.keys, self.batches, self.longest)
