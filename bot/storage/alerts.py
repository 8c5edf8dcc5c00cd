"""Personal alerts in the database: saved searches per chat, and pushing the items they match.

`AlertStore` keeps each chat's saved searches (`alerts`, numbered per chat in the order they were
saved). `AlertPush` is a `bot.storage.items.SavedHook`: inside `Store.save_fetch`'s transaction,
after the topic hooks, it asks the injected matcher (`bot.review.alerts.AlertIndex` in the bot)
which chats' alerts each new item satisfies, and for each (item, chat):
1. notes which alerts matched (`alert_hits`: the message says so);
2. gives an item no topic flagged its story (the injected `assign`, `StoryStore.assign`), so
   reports of one event are grouped as topic items are;
3. adds an outbox row as the topic hook does ("send", or "edit" when the chat already has the
   story's message), which the delivery worker paces and retries like any other; UNIQUE(item,
   chat) keeps it to one per item and chat, also when the item matched a topic the chat follows.

The matcher is rebuilt when the alerts change (their count and newest id, read in the same
transaction), so alerts saved by another process take effect at its next save.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import MatchedItem, StoredItem
from bot.storage.access import DbAccess
from bot.storage.chat_tables import DROPPED, EDIT, PENDING, SEND, chats, outbox
from bot.storage.items import Saved
from bot.storage.search_index import item_language
from bot.storage.search_tables import alert_hits, alerts
from bot.storage.story_tables import story_items


class AlertMatcher(Protocol):
    """(chat id, query text) of each alert an item satisfies."""

    def __call__(self, item: MatchedItem, lang: str | None) -> list[tuple[int, str]]: ...


AlertCompiler = Callable[[Sequence[tuple[int, int, str]]], AlertMatcher]
Assign = Callable[[AsyncConnection, Sequence[StoredItem], datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SavedAlert:
    """A chat's saved search: its number in the chat's list, and its text."""

    number: int
    id: int
    query: str


class AlertStore:
    """Adds, lists and removes chats' saved searches through an injected engine."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def add(
        self,
        chat_id: int,
        query: str,
        *,
        kind: str,
        title: str | None,
        now: datetime,
        limit: int,
    ) -> SavedAlert | None:
        """Save a search for the chat (the chat is registered, active); None at `limit`."""
        async with self._db.write(f"saving an alert of chat {chat_id}") as conn:
            known = await conn.scalar(select(chats.c.active).where(chats.c.chat_id == chat_id))
            if known is None:
                await conn.execute(
                    self._db.insert(chats)
                    .values(
                        chat_id=chat_id,
                        kind=kind,
                        title=title,
                        active=True,
                        failures=0,
                        created=now,
                        updated=now,
                    )
                    .on_conflict_do_nothing()
                )
            elif not known:
                await conn.execute(
                    update(chats)
                    .where(chats.c.chat_id == chat_id)
                    .values(active=True, failures=0, first_failure=None, updated=now)
                )
            count = int(
                await conn.scalar(
                    select(func.count()).select_from(alerts).where(alerts.c.chat_id == chat_id)
                )
                or 0
            )
            if count >= limit:
                return None
            new_id = await conn.scalar(
                alerts.insert()
                .values(chat_id=chat_id, query=query, created=now)
                .returning(alerts.c.id)
            )
        return SavedAlert(count + 1, int(new_id or 0), query)

    async def saved(self, chat_id: int) -> list[SavedAlert]:
        """The chat's saved searches, numbered from 1 in the order they were saved."""
        query = select(alerts.c.id, alerts.c.query).where(alerts.c.chat_id == chat_id)
        async with self._db.read(f"reading the alerts of chat {chat_id}") as conn:
            rows = (await conn.execute(query.order_by(alerts.c.id))).all()
        return [SavedAlert(n, r.id, r.query) for n, r in enumerate(rows, start=1)]

    async def remove(self, chat_id: int, number: int) -> SavedAlert | None:
        """Remove the chat's alert `number` (as `saved` numbers them); None when there is none."""
        async with self._db.write(f"removing an alert of chat {chat_id}") as conn:
            rows = (
                await conn.execute(
                    select(alerts.c.id, alerts.c.query)
                    .where(alerts.c.chat_id == chat_id)
                    .order_by(alerts.c.id)
                )
            ).all()
            if not 1 <= number <= len(rows):
                return None
            row = rows[number - 1]
            await conn.execute(alerts.delete().where(alerts.c.id == row.id))
        return SavedAlert(number, row.id, row.query)

    async def counts(self) -> list[tuple[int, int]]:
        """(chat id, number of alerts) of every chat with any, by chat id (for operators)."""
        query = (
            select(alerts.c.chat_id, func.count())
            .group_by(alerts.c.chat_id)
            .order_by(alerts.c.chat_id)
        )
        async with self._db.read("counting alerts") as conn:
            return [(int(c), int(n)) for c, n in (await conn.execute(query)).all()]


class AlertPush:
    """The SavedHook that pushes new items matching saved searches (see the module docstring)."""

    def __init__(
        self, db: AsyncEngine | DbAccess, compile_alerts: AlertCompiler, assign: Assign
    ) -> None:
        self._db = DbAccess.of(db)
        self._compile = compile_alerts
        self._assign = assign
        self._version: tuple[int, int] | None = None
        self._matcher: AlertMatcher | None = None

    async def _current(self, conn: AsyncConnection) -> AlertMatcher | None:
        found = (await conn.execute(select(func.count(), func.max(alerts.c.id)))).one()
        version = (int(found[0] or 0), int(found[1] or 0))
        if version != self._version:
            rows = (await conn.execute(select(alerts.c.id, alerts.c.chat_id, alerts.c.query))).all()
            self._matcher = self._compile([(r.id, r.chat_id, r.query) for r in rows])
            self._version = version
        return self._matcher if version[0] else None

    async def __call__(self, conn: AsyncConnection, saved: Saved) -> None:
        """Queue the new items that match a chat's alert (not a first sight's backlog)."""
        new, now = saved.new, saved.now
        if not saved.announce or not new:
            return
        matcher = await self._current(conn)
        if matcher is None:
            return
        hits: dict[tuple[int, int], list[str]] = {}
        matched: dict[int, MatchedItem] = {}
        for item_id, m in new:
            lang = item_language(m.item.language, m.item.title + " " + m.item.summary)
            for chat_id, text in matcher(m, lang):
                hits.setdefault((item_id, chat_id), []).append(text)
                matched[item_id] = m
        if not hits:
            return
        wanted = sorted({chat for _, chat in hits})
        open_chats = set(
            (
                await conn.scalars(
                    select(chats.c.chat_id).where(
                        chats.c.chat_id.in_(wanted),
                        chats.c.active.is_(True),
                        chats.c.mode != "digest",
                    )
                )
            ).all()
        )
        hits = {key: q for key, q in hits.items() if key[1] in open_chats}
        if not hits:
            return
        await conn.execute(
            self._db.insert(alert_hits).on_conflict_do_nothing(),
            [{"item_id": i, "chat_id": c, "queries": "\n".join(q)} for (i, c), q in hits.items()],
        )
        stories = await self._stories(conn, matched, now)
        for item_id, chat_id in sorted(hits):
            await self._enqueue(conn, item_id, chat_id, stories.get(item_id), now)

    async def _stories(
        self, conn: AsyncConnection, matched: dict[int, MatchedItem], now: datetime
    ) -> dict[int, int]:
        """Each matched item's story; items no topic flagged are given one first."""
        loose = [
            StoredItem(id=i, item=m.item, source_name=m.item.source_id, first_seen=now)
            for i, m in sorted(matched.items(), key=lambda p: (p[1].item.published, p[0]))
            if not m.matches
        ]
        if loose:
            await self._assign(conn, loose, now)
        found = await conn.execute(
            select(story_items.c.item_id, story_items.c.story_id).where(
                story_items.c.item_id.in_(sorted(matched))
            )
        )
        return {int(i): int(s) for i, s in found.all()}

    async def _enqueue(
        self, conn: AsyncConnection, item_id: int, chat_id: int, story: int | None, now: datetime
    ) -> None:
        kind = SEND
        if story is not None and story != item_id:
            posted = await conn.scalar(
                select(
                    exists().where(
                        outbox.c.chat_id == chat_id,
                        outbox.c.story_id == story,
                        outbox.c.kind == SEND,
                        outbox.c.status != DROPPED,
                    )
                )
            )
            kind = EDIT if posted else SEND
        row: dict[str, Any] = {
            "item_id": item_id,
            "chat_id": chat_id,
            "status": PENDING,
            "attempts": 0,
            "created": now,
            "updated": now,
            "kind": kind,
            "story_id": story,
        }
        await conn.execute(self._db.insert(outbox).values(**row).on_conflict_do_nothing())
