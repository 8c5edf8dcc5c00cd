"""The desk's relevance labels and the chats' feedback flag (SQLAlchemy async, same edge as store).

`LabelStore.record` stores one press of a relevance button: one label per (item, person), so a
second press changes the verdict (and its time) instead of adding a label; the item's text is
copied into the label, so labels outlive item retention. `labelled` reads the labels back grouped
by item, with each item's votes (majority by `LabelledItem.relevant`); `add` writes labels read
from a file (`labels import`); `prune` is `BOT_KEEP_LABELS_DAYS`. The chat's flag (`flag`,
`set_flag`) is kept by `bot.storage.feedback_flags.FeedbackFlags`, which the store builds. Rows
and SQLAlchemy errors stay here: callers get the records below and `StoreError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.chat_tables import SEND, SENT, outbox
from bot.storage.feedback_flags import ChatFlag, FeedbackFlags
from bot.storage.label_tables import labels
from bot.storage.tables import item_topics, items, sources

__all__ = ["ChatFlag", "LabelStore", "LabelledItem", "Marks", "NewLabel", "Vote", "item_ref"]


def item_ref(source_id: str, key: str) -> str:
    """The label's name for a stored item: stable for as long as its source keeps the key."""
    return f"{source_id}/{key}"


@dataclass(frozen=True, slots=True)
class Marks:
    """The verdicts on one item in one chat, after a press; `changed` is False for a repeat."""

    relevant: int
    not_relevant: int
    changed: bool = True


@dataclass(frozen=True, slots=True)
class Vote:
    """One person's verdict on an item."""

    who: str
    relevant: bool
    at: datetime
    user_id: int | None = None
    user_name: str | None = None
    chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class LabelledItem:
    """An item the desk judged, with its own copy of the text and every vote on it."""

    ref: str
    title: str
    summary: str
    lang: str | None
    source: str  # the outlet's name
    url: str | None
    published: datetime | None
    topics: tuple[str, ...]
    votes: tuple[Vote, ...]  # oldest first
    item_id: int | None = None
    source_id: str | None = None

    @property
    def relevant_votes(self) -> int:
        """Votes for relevant."""
        return sum(v.relevant for v in self.votes)

    @property
    def not_relevant_votes(self) -> int:
        """Votes for not relevant."""
        return sum(not v.relevant for v in self.votes)

    @property
    def relevant(self) -> bool:
        """The majority verdict; on a tie, the latest vote's."""
        yes, no = self.relevant_votes, self.not_relevant_votes
        if yes != no:
            return yes > no
        return max(self.votes, key=lambda v: v.at).relevant

    @property
    def latest(self) -> datetime:
        """When the newest vote was cast (or changed)."""
        return max(v.at for v in self.votes)


@dataclass(frozen=True, slots=True)
class NewLabel:
    """A labelled item read from a file: its text, and its votes (at least one)."""

    ref: str
    title: str
    summary: str
    lang: str | None
    source: str
    url: str | None
    published: datetime | None
    topics: tuple[str, ...]
    votes: tuple[Vote, ...]
    named: bool = False  # the votes carry people (`--with-people`), not just counts


class LabelStore:
    """Reads and writes labels and the chats' feedback flag through an injected engine."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)
        self._flags = FeedbackFlags(self._db)

    # --- the chats' flag (`FeedbackFlags`) --------------------------------------------------------

    async def flag(self, chat_id: int) -> ChatFlag:
        """The chat's stored feedback flag, and whether the chat is known at all."""
        return await self._flags.flag(chat_id)

    async def set_flag(self, chat_id: int, on: bool | None, *, now: datetime) -> bool:
        """Turn the chat's buttons on or off (None: back to the default); False if unknown."""
        return await self._flags.set_flag(chat_id, on, now=now)

    # --- presses ---------------------------------------------------------------------------------

    async def record(
        self,
        item_id: int,
        *,
        relevant: bool,
        user_id: int,
        user_name: str | None,
        chat_id: int,
        now: datetime,
    ) -> Marks | None:
        """Store one press (a repeat changes the verdict); the chat's marks on the item after it.

        None when the item is no longer stored (retention removed it): nothing is recorded.
        """
        who = f"telegram:{user_id}"
        async with self._db.write(f"recording a label on item {item_id}") as conn:
            row = (
                await conn.execute(
                    select(items, sources.c.name.label("source_name"))
                    .join(sources, sources.c.id == items.c.source_id)
                    .where(items.c.id == item_id)
                )
            ).first()
            if row is None:
                return None
            ref = item_ref(row.source_id, row.key)
            before = await conn.scalar(
                select(labels.c.relevant).where(labels.c.item_ref == ref, labels.c.who == who)
            )
            topics = (
                await conn.scalars(
                    select(item_topics.c.topic_id)
                    .where(item_topics.c.item_id == item_id)
                    .order_by(item_topics.c.topic_id)
                )
            ).all()
            vote = Vote(who, relevant, now, user_id, user_name, chat_id)
            await self._upsert(conn, [_press_row(row, ref, list(topics), vote)])
            marks = await self._marks(conn, item_id, chat_id)
        return Marks(*marks, changed=before is None or bool(before) != relevant)

    async def marks(self, chat_id: int, item_id: int) -> Marks:
        """The verdicts on the item in the chat (what its message's buttons show)."""
        async with self._db.read(f"reading the labels of item {item_id}") as conn:
            return Marks(*await self._marks(conn, item_id, chat_id))

    @staticmethod
    async def _marks(conn: AsyncConnection, item_id: int, chat_id: int) -> tuple[int, int]:
        found = await conn.execute(
            select(labels.c.relevant, func.count())
            .where(labels.c.item_id == item_id, labels.c.chat_id == chat_id)
            .group_by(labels.c.relevant)
        )
        counts = {bool(relevant): int(n) for relevant, n in found.all()}
        return counts.get(True, 0), counts.get(False, 0)

    async def _upsert(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        stmt = self._db.insert(labels).values(rows)
        changing = ("relevant", "item_id", "user_id", "user_name", "chat_id", "updated")
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[labels.c.item_ref, labels.c.who],
                set_={name: stmt.excluded[name] for name in changing},
            )
        )

    # --- labels as data --------------------------------------------------------------------------

    async def labelled(
        self, *, since: datetime | None = None, topic: str | None = None
    ) -> list[LabelledItem]:
        """Every labelled item (only votes cast since `since`; only items pushed for `topic`),
        oldest label first."""
        query = select(labels).order_by(labels.c.item_ref, labels.c.updated, labels.c.id)
        if since is not None:
            query = query.where(labels.c.updated >= since)
        async with self._db.read("reading labels") as conn:
            rows = (await conn.execute(query)).all()
        groups: dict[str, list[Any]] = {}
        for row in rows:
            groups.setdefault(row.item_ref, []).append(row)
        out = [_labelled(ref, group) for ref, group in groups.items()]
        if topic is not None:
            out = [item for item in out if topic in item.topics]
        return sorted(out, key=lambda item: (item.latest, item.ref))

    async def texts(self, limit: int | None = None) -> tuple[list[LabelledItem], int]:
        """The `limit` most recently labelled items (all without one) with only what judging
        them needs (text, outlet, votes), and how many items are labelled in all: the light read
        behind an edit's impact, which runs on every operator edit of the topics."""
        query = select(
            labels.c.item_ref,
            labels.c.who,
            labels.c.relevant,
            labels.c.updated,
            labels.c.source_name,
            labels.c.title,
            labels.c.summary,
            labels.c.lang,
        ).order_by(labels.c.item_ref, labels.c.updated, labels.c.id)
        if limit is not None:
            newest = (
                select(labels.c.item_ref)
                .group_by(labels.c.item_ref)
                .order_by(func.max(labels.c.updated).desc(), labels.c.item_ref)
                .limit(limit)
            )
            query = query.where(labels.c.item_ref.in_(newest.scalar_subquery()))
        count = select(func.count(func.distinct(labels.c.item_ref)))
        async with self._db.read("reading labels") as conn:
            rows = (await conn.execute(query)).all()
            total = int(await conn.scalar(count) or 0)
        out: dict[str, tuple[Any, list[Vote]]] = {}
        for row in rows:
            votes = out.setdefault(row.item_ref, (row, []))[1]
            votes.append(Vote(row.who, bool(row.relevant), row.updated))
        found = [
            LabelledItem(
                ref, row.title, row.summary, row.lang, row.source_name, None, None, (), tuple(votes)
            )
            for ref, (row, votes) in out.items()
        ]
        return found, total

    async def add(self, new: Sequence[NewLabel], *, now: datetime) -> tuple[int, int]:
        """Write labels read from a file; (items written, items skipped).

        Votes with people replace those people's votes. Anonymous votes (counts only) replace
        the item's earlier imported votes, but an item that people have already labelled here is
        skipped: importing an export back into its own database must not count votes twice.
        """
        written = skipped = 0
        async with self._db.write(f"importing {len(new)} labelled item(s)") as conn:
            for label in new:
                whos = set(
                    (
                        await conn.scalars(
                            select(labels.c.who).where(labels.c.item_ref == label.ref)
                        )
                    ).all()
                )
                if not label.named:
                    if any(not w.startswith("import:") for w in whos):
                        skipped += 1
                        continue
                    await conn.execute(delete(labels).where(labels.c.item_ref == label.ref))
                rows = [_import_row(label, vote, now) for vote in label.votes]
                await self._upsert(conn, rows)
                written += 1
        return written, skipped

    async def prune(self, before: datetime) -> int:
        """Remove labels last changed before `before` (BOT_KEEP_LABELS_DAYS); how many."""
        async with self._db.write("removing old labels") as conn:
            result = await conn.execute(
                delete(labels).where(labels.c.updated < before).returning(labels.c.id)
            )
            return len(result.all())

    async def pushed(self, since: datetime) -> dict[int, str]:
        """Items delivered as a new message since `since`: item id → outlet name."""
        query = (
            select(outbox.c.item_id, sources.c.name)
            .join(items, items.c.id == outbox.c.item_id)
            .join(sources, sources.c.id == items.c.source_id)
            .where(outbox.c.status == SENT, outbox.c.kind == SEND, outbox.c.updated >= since)
            .distinct()
        )
        async with self._db.read("reading the items pushed to chats") as conn:
            return {item_id: name for item_id, name in (await conn.execute(query)).all()}


def _labelled(ref: str, rows: list[Any]) -> LabelledItem:
    last = rows[-1]  # the newest copy of the text
    item_id = next((r.item_id for r in reversed(rows) if r.item_id is not None), None)
    return LabelledItem(
        ref=ref,
        title=last.title,
        summary=last.summary,
        lang=last.lang,
        source=last.source_name,
        url=last.url,
        published=last.published,
        topics=tuple(last.topics or ()),
        votes=tuple(
            Vote(r.who, bool(r.relevant), r.updated, r.user_id, r.user_name, r.chat_id)
            for r in rows
        ),
        item_id=item_id,
        source_id=last.source_id,
    )


def _import_row(label: NewLabel, vote: Vote, now: datetime) -> dict[str, Any]:
    return {
        "item_ref": label.ref,
        "who": vote.who,
        "relevant": vote.relevant,
        "item_id": None,
        "source_id": None,
        "source_name": label.source,
        "title": label.title,
        "summary": label.summary,
        "lang": label.lang,
        "url": label.url,
        "published": label.published,
        "topics": list(label.topics),
        "user_id": vote.user_id,
        "user_name": vote.user_name,
        "chat_id": vote.chat_id,
        "created": now,
        "updated": vote.at,
    }


def _press_row(item: Any, ref: str, topics: list[str], vote: Vote) -> dict[str, Any]:
    """The label row of a press on a stored item (`item`: its row with `source_name`)."""
    return {
        "item_ref": ref,
        "who": vote.who,
        "relevant": vote.relevant,
        "item_id": item.id,
        "source_id": item.source_id,
        "source_name": item.source_name,
        "title": item.title,
        "summary": item.summary,
        "lang": item.language,
        "url": item.url,
        "published": item.published,
        "topics": topics,
        "user_id": vote.user_id,
        "user_name": vote.user_name,
        "chat_id": vote.chat_id,
        "created": vote.at,
        "updated": vote.at,
    }
