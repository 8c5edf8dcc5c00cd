"""The store: sources, their polling state, items and the topics they matched (SQLAlchemy async).

Every write is one transaction. `save_fetch` inserts only the items not seen before (unique per
source and key, `INSERT … ON CONFLICT DO NOTHING`), their topic matches and the source's new state,
then runs its hooks inside the same transaction (`FetchHooks`: stories, the outbox, the search
index, alerts), so that a later table (an outbox) is filled atomically with the items it refers
to. SQLAlchemy rows and errors never leave this
module: callers get the records of `bot.models` and `StoreError`.

The reads of the sources' polling state and the saves of polls that add no items (unchanged or
failed) are `bot.storage.source_state.SourceStates`, on the same access (`Store.states`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import BindParameter, Select, bindparam, exists, null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import MatchedItem, Source, StoredItem, Validators
from bot.storage.access import DbAccess
from bot.storage.retention_tables import retired_keys as retired_t
from bot.storage.rows import match_values, stored_items
from bot.storage.source_state import UNCLAIMED, SourceStates
from bot.storage.tables import item_topics as topics_t
from bot.storage.tables import items as items_t
from bot.storage.tables import source_state as state_t
from bot.storage.tables import sources as sources_t

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_KEYS_PER_QUERY = 500  # keys per IN list: well under every backend's limit on parameters
# A retired key still in its feed has its `last_seen` renewed at most this often (a write).
RETIRED_REFRESH = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What a successful fetch added: how many items were new, and which of them to announce."""

    new_items: int
    flagged: tuple[StoredItem, ...] = ()


@dataclass(frozen=True, slots=True)
class KnownKeys:
    """Which of a feed's keys the store knows: items it holds, or keys of items it removed."""

    keys: frozenset[str]
    # Retired keys due for a new `last_seen` (pass them to `save_fetch(refresh=...)`), so that
    # keys still in the feed outlive the window in which absent ones are pruned.
    refresh: tuple[str, ...] = ()


class FlaggedHook(Protocol):
    """Runs inside `save_fetch`'s transaction with the items it flagged (e.g. to fill an outbox)."""

    async def __call__(
        self, conn: AsyncConnection, flagged: Sequence[StoredItem], now: datetime
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Saved:
    """What one `save_fetch` stored, for its `SavedHook`s."""

    new: Sequence[tuple[int, MatchedItem]]  # every new item (flagged or not) with its id
    now: datetime
    announce: bool  # False: a first sight's backlog, not announced


Committed = Callable[[], None]  # called once the transaction has committed, never if it failed


class SavedHook(Protocol):
    """Runs inside `save_fetch`'s transaction, after the other hooks, with every new item
    (flagged or not) and its id: the search index, alerts (which skip a backlog, `announce`
    False). It may return a `Committed` callback: a memo of what is now durable (the search
    index's known words) must not learn it from a transaction that might still fail, and
    SQLAlchemy's `commit` event fires before the database has committed."""

    async def __call__(self, conn: AsyncConnection, saved: Saved) -> Committed | None: ...


_WANTED: BindParameter[str] = bindparam("keys", expanding=True)
# Which of a feed's keys the store knows: held items, and keys of items retention removed.
_KNOWN_KEYS = (
    select(retired_t.c.key, retired_t.c.last_seen)
    .where(retired_t.c.source_id == bindparam("source_id"), retired_t.c.key.in_(_WANTED))
    .union_all(
        select(items_t.c.key, null()).where(
            items_t.c.source_id == bindparam("source_id"), items_t.c.key.in_(_WANTED)
        )
    )
)
_REFRESH_RETIRED = (
    update(retired_t)
    .where(retired_t.c.source_id == bindparam("sid"), retired_t.c.key == bindparam("rkey"))
    .values(last_seen=bindparam("seen"))
)


class FetchHooks:
    """The hooks `Store.save_fetch` runs inside its transaction, in order: `on_matched` (stories)
    with every new matched item, `on_flagged` (the outbox) with those announced, `on_saved`
    (search index, alerts) with every new item."""

    def __init__(
        self,
        *,
        on_flagged: Sequence[FlaggedHook],
        on_matched: Sequence[FlaggedHook],
        on_saved: Sequence[SavedHook],
    ) -> None:
        self._on_flagged = tuple(on_flagged)
        # Run first, with every new matched item, announced or not (a first sight's backlog
        # still belongs to stories).
        self._on_matched = tuple(on_matched)
        self._on_saved = tuple(on_saved)

    async def run(
        self, conn: AsyncConnection, source_id: str, saved: Saved
    ) -> tuple[tuple[StoredItem, ...], list[Committed]]:
        """Run every hook on the fetch's new items: the flagged ones announced (else none), and
        the callbacks to call once the transaction has committed."""
        flagged: tuple[StoredItem, ...] = ()
        if (saved.announce or self._on_matched) and any(m.matches for _, m in saved.new):
            flagged = await self._flagged(conn, source_id, saved)
        committed = []
        for saved_hook in self._on_saved:
            callback = await saved_hook(conn, saved)
            if callback is not None:
                committed.append(callback)
        return flagged, committed

    async def _flagged(
        self, conn: AsyncConnection, source_id: str, saved: Saved
    ) -> tuple[StoredItem, ...]:
        """The new matched items to announce, after the hooks have run on them.

        `on_matched` hooks (stories) see every new matched item, also a first sight's backlog;
        `on_flagged` hooks (the outbox) only those that are announced.
        """
        new, now = saved.new, saved.now
        name = await conn.scalar(select(sources_t.c.name).where(sources_t.c.id == source_id))
        flagged = tuple(
            StoredItem(
                id=item_id,
                item=m.item,
                source_name=name or source_id,
                first_seen=now.astimezone(UTC),
                matches=m.matches,
                review_summary=m.review_summary,
            )
            # Oldest first, so that announcements read in the order things happened.
            for item_id, m in sorted(new, key=lambda pair: (pair[1].item.published, pair[0]))
            if m.matches
        )
        for hook in self._on_matched:
            await hook(conn, flagged, now)
        if not saved.announce:
            return ()
        for hook in self._on_flagged:
            await hook(conn, flagged, now)
        return flagged


class Store:
    """Sources, items and their matches, through the shared `DbAccess` (writers of every store
    queue on its one SQLite lock; a bare engine gets an access of its own)."""

    def __init__(
        self,
        db: AsyncEngine | DbAccess,
        *,
        on_flagged: Sequence[FlaggedHook] = (),
        on_matched: Sequence[FlaggedHook] = (),
        on_saved: Sequence[SavedHook] = (),
        batch_size: int = 500,
    ) -> None:
        self._db = DbAccess.of(db)
        self._hooks = FetchHooks(on_flagged=on_flagged, on_matched=on_matched, on_saved=on_saved)
        self._batch_size = batch_size
        # The sources' polling state: its reads, and the saves of polls that store no items.
        self.states = SourceStates(self._db)
        # Built once: a statement executed for many rows is compiled once and then found in
        # SQLAlchemy's cache, where one built per call (`.values([...])`) is compiled every time.
        insert_items = self._db.insert(items_t).on_conflict_do_nothing(
            index_elements=[items_t.c.source_id, items_t.c.key]
        )
        self._insert_items = insert_items.returning(items_t.c.id, items_t.c.key)
        state = self._db.insert(state_t)
        self._upsert_fetched = state.on_conflict_do_update(
            index_elements=[state_t.c.source_id],
            set_={
                **{n: state.excluded[n] for n in _FETCHED_STATE},
                "items_seen": state_t.c.items_seen + state.excluded.items_seen,
            },
        )
        # One statement for many rows (a `.values([...])` per call compiles every time: ~0.3 ms
        # a source at start-up with thousands of sources).
        sync = self._db.insert(sources_t)
        changed = (
            (sources_t.c.name != sync.excluded.name)
            | (sources_t.c.url != sync.excluded.url)
            | (sources_t.c.enabled != sync.excluded.enabled)
        )
        self._sync_source = sync.on_conflict_do_update(
            index_elements=[sources_t.c.id],
            set_={n: sync.excluded[n] for n in ("name", "url", "enabled", "updated")},
            where=changed,
        )

    async def sync_sources(
        self, configured: Sequence[Source], *, now: datetime | None = None
    ) -> None:
        """Record the configured sources; sources no longer configured are kept, disabled."""
        now = now or datetime.now(UTC)
        rows = {
            s.id: {"id": s.id, "name": s.name, "url": s.url, "enabled": s.enabled}
            for s in configured
        }
        async with self._db.write("syncing sources") as conn:
            for batch in _batches(list(rows.values()), self._batch_size):
                await conn.execute(
                    self._sync_source, [{**r, "created": now, "updated": now} for r in batch]
                )
            await conn.execute(
                update(sources_t)
                .where(sources_t.c.id.not_in(list(rows)), sources_t.c.enabled.is_(True))
                .values(enabled=False, updated=now)
            )

    async def known_keys(self, source_id: str, keys: Sequence[str], *, now: datetime) -> KnownKeys:
        """Which of `keys` the store already has for the source (an index-only read)."""
        known: set[str] = set()
        refresh: list[str] = []
        stale = now - RETIRED_REFRESH
        async with self._db.read(f"reading the known items of {source_id}") as conn:
            for batch in _batches(list(dict.fromkeys(keys)), _KEYS_PER_QUERY):
                rows = await conn.execute(_KNOWN_KEYS, {"source_id": source_id, "keys": batch})
                for key, retired_seen in rows:
                    known.add(key)
                    if retired_seen is not None and retired_seen < stale:
                        refresh.append(key)
        return KnownKeys(frozenset(known), tuple(refresh))

    async def save_fetch(
        self,
        source_id: str,
        *,
        items: Sequence[MatchedItem],
        validators: Validators,
        now: datetime,
        next_poll: datetime,
        announce: bool,
        refresh: Sequence[str] = (),
    ) -> SaveResult:
        """Store a good fetch in one transaction; `flagged`: new matched items, if `announce`.

        `refresh`: retired keys seen in the feed again (see `KnownKeys.refresh`).
        """
        unique: dict[str, MatchedItem] = {}
        for matched in items:
            if matched.item.source_id != source_id:
                raise ValueError(f"item of {matched.item.source_id!r} saved under {source_id!r}")
            unique.setdefault(matched.item.key, matched)
        # Key order: concurrent writers on PostgreSQL then lock the unique index in the same order.
        ordered = [unique[key] for key in sorted(unique)]
        async with self._db.write(f"saving the fetch of {source_id}") as conn:
            ids: dict[str, int] = {}
            for batch in _batches(ordered, self._batch_size):
                rows = [_item_row(m, now) for m in batch]
                result = await conn.execute(self._insert_items, rows)
                ids.update({key: item_id for item_id, key in result.all()})
            new = [(ids[m.item.key], m) for m in ordered if m.item.key in ids]
            matches = [
                match_values(item_id, m, now) for item_id, matched in new for m in matched.matches
            ]
            if matches:
                await conn.execute(topics_t.insert(), matches)
            if refresh:
                await conn.execute(
                    _REFRESH_RETIRED,
                    [{"sid": source_id, "rkey": key, "seen": now} for key in refresh],
                )
            state = {
                "source_id": source_id,
                "etag": validators.etag,
                "last_modified": validators.last_modified,
                "body_hash": validators.body_hash,
                "last_attempt": now,
                "last_success": now,
                "consecutive_failures": 0,
                "last_error": None,
                "next_poll": next_poll,
                "last_parsed": now,
                "items_seen": len(new),
                **UNCLAIMED,
            }
            await conn.execute(self._upsert_fetched, state)
            saved = Saved(new, now, announce)
            flagged, committed = await self._hooks.run(conn, source_id, saved)
        for callback in committed:  # the write block has exited: the COMMIT has succeeded
            callback()
        return SaveResult(new_items=len(new), flagged=flagged)

    async def latest(self, n: int, *, topics: Sequence[str] | None = None) -> list[StoredItem]:
        """The newest `n` flagged items (by published, then first seen), of `topics` if given."""
        if n <= 0 or (topics is not None and not topics):
            return []
        flagged = exists().where(topics_t.c.item_id == items_t.c.id)
        if topics is not None:
            flagged = flagged.where(topics_t.c.topic_id.in_(list(topics)))
        query: Select[Any] = (
            select(items_t, sources_t.c.name.label("source_name"))
            .join(sources_t, sources_t.c.id == items_t.c.source_id)
            .where(flagged)
            .order_by(items_t.c.published.desc(), items_t.c.first_seen.desc(), items_t.c.id.desc())
            .limit(n)
        )
        async with self._db.read("reading the latest items") as conn:
            rows = (await conn.execute(query)).all()
            found = select(topics_t).where(topics_t.c.item_id.in_([r.id for r in rows]))
            if topics is not None:
                found = found.where(topics_t.c.topic_id.in_(list(topics)))
            match_rows = (await conn.execute(found.order_by(topics_t.c.topic_id))).all()
        return stored_items(rows, match_rows)


# The state columns a good fetch sets (and `items_seen`, which it adds to).
_FETCHED_STATE = (
    "etag",
    "last_modified",
    "body_hash",
    "last_attempt",
    "last_success",
    "consecutive_failures",
    "last_error",
    "next_poll",
    "last_parsed",
    "claimed_by",
    "claim_expires",
)


def _batches(rows: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _item_row(matched: MatchedItem, now: datetime) -> dict[str, Any]:
    item = matched.item
    return {
        "source_id": item.source_id,
        "key": item.key,
        "url": item.url,
        "title": item.title,
        "summary": item.summary,
        "published": item.published,
        "first_seen": now,
        "language": item.language,
        "guid": item.guid,
        "review_summary": matched.review_summary,
    }
