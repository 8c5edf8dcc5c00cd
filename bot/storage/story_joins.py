"""Which of some flagged items joined a story another outlet started, and that story's first
report: so the console can say "joins the story first reported by …" instead of printing a
second outlet's report as if it were news of its own.

Same edge as the other stores (rows and driver errors stay here; callers get `Joined` values
and `StoreError`). A story's id is its first report's item id (`bot.storage.story_tables`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.access import DbAccess
from bot.storage.story_tables import story_items
from bot.storage.tables import items, sources


@dataclass(frozen=True, slots=True)
class Joined:
    """The first report of the story an item joined."""

    source_name: str
    title: str


class StoryJoins:
    """Looks up, for items just stored, the stories they joined."""

    def __init__(self, db: AsyncEngine | DbAccess) -> None:
        self._db = DbAccess.of(db)

    async def first_reports(self, item_ids: Sequence[int]) -> dict[int, Joined]:
        """Item id → the first report of the story it joined, for the items that joined one
        (an item that started its story, or has none, is left out)."""
        if not item_ids:
            return {}
        first = items.alias("first")
        query = (
            select(story_items.c.item_id, sources.c.name, first.c.title)
            .join(first, first.c.id == story_items.c.story_id)
            .join(sources, sources.c.id == first.c.source_id)
            .where(
                story_items.c.item_id.in_(list(item_ids)),
                story_items.c.story_id != story_items.c.item_id,
            )
        )
        async with self._db.read("reading the stories new items joined") as conn:
            rows = (await conn.execute(query)).all()
        return {r.item_id: Joined(r.name, r.title) for r in rows}
