"""Reading the archive: the stored items a parsed query finds, newest first or most relevant.

Same edge as `bot.storage.items`: callers pass a `bot.models.SearchQuery` and get `SearchHit`s
(a `StoredItem` with its topics and its story) or `StoreError`; rows stay here. One query asks
the index for a page of ids (in the index's own order on SQLite FTS5 and on PostgreSQL's
sort_key b-tree, so a page of the newest costs about the same whatever matches), and a second
reads those items, their outlets, topics and stories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import SearchQuery, StoredItem
from bot.storage.access import DbAccess
from bot.storage.rows import stored_items
from bot.storage.search_compile import fts_match, tsquery
from bot.storage.search_tables import ID_MASK, key_bound
from bot.storage.search_words import MAX_FORMS, expand
from bot.storage.story_tables import story_items
from bot.storage.tables import item_topics, items, sources

Sort = Literal["newest", "relevance"]
SORTS: tuple[Sort, ...] = ("newest", "relevance")
_NO_END = (1 << 62) - 1


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One found item, with the story it belongs to (None: not part of one)."""

    stored: StoredItem
    story_id: int | None


class SearchStore:
    """Runs parsed queries against the full-text index, through an injected engine."""

    def __init__(self, db: AsyncEngine | DbAccess, *, max_forms: int = MAX_FORMS) -> None:
        self._db = DbAccess.of(db)
        self._max_forms = max_forms  # SQLite: a prefix standing for more stays a prefix query

    async def search(
        self, query: SearchQuery, *, limit: int = 10, offset: int = 0, sort: Sort = "newest"
    ) -> list[SearchHit]:
        """A page of the items the query finds, in `sort` order."""
        if limit <= 0:
            return []
        async with self._db.read("searching the archive") as conn:
            if self._db.dialect == "postgresql":
                # A prepared statement's generic plan cannot see how rare the words are and walks
                # the sort_key index past every row; a plan per query uses the GIN index.
                await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            else:
                query = await expand(conn, query, self._max_forms)
            sql, params = self._ids_sql(query, sort)
            params |= {"n": limit, "off": max(0, offset)}
            ids = list((await conn.execute(text(sql), params)).scalars().all())
            return await _hits(conn, ids)

    async def share(self, query: SearchQuery, *, sample: int = 1000) -> tuple[int, int]:
        """(found, of): how many of the newest `sample` stored items the query finds."""
        postgres = self._db.dialect == "postgresql"
        table, key = ("search_docs", "sort_key") if postgres else ("search_fts", "rowid")
        async with self._db.read("measuring a query") as conn:
            if not postgres:
                query = await expand(conn, query, self._max_forms)
            match, q = self._match(query)
            of = int(
                await conn.scalar(
                    text(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT :n) AS s"),  # noqa: S608
                    {"n": sample},
                )
                or 0
            )
            if of == 0:
                return 0, 0
            floor = await conn.scalar(
                text(f"SELECT {key} FROM {table} ORDER BY {key} DESC LIMIT 1 OFFSET :k"),  # noqa: S608
                {"k": of - 1},
            )
            found = await conn.scalar(
                text(f"SELECT count(*) FROM {table} WHERE {match} AND {key} >= :floor"),  # noqa: S608
                {"q": q, "floor": floor},
            )
        return int(found or 0), of

    def _match(self, query: SearchQuery) -> tuple[str, str]:
        if self._db.dialect == "postgresql":
            return "doc @@ CAST(:q AS tsquery)", tsquery(query)
        return "search_fts MATCH :q", fts_match(query)

    def _ids_sql(self, query: SearchQuery, sort: Sort) -> tuple[str, dict[str, Any]]:
        match, q = self._match(query)
        lo = key_bound(query.since) if query.since else 0
        hi = key_bound(query.until) if query.until else _NO_END
        params: dict[str, Any] = {"q": q, "lo": lo, "hi": hi}
        if self._db.dialect == "postgresql":
            item, key, table = "item_id", "sort_key", "search_docs"
            rank = "ts_rank(doc, CAST(:q AS tsquery)) DESC"
        else:
            item, key, table = f"({ID_MASK} & rowid)", "rowid", "search_fts"
            rank = "bm25(search_fts, 4.0, 1.0, 0.0)"  # title words weigh more; meta not at all
        where = f"{match} AND {key} >= :lo AND {key} < :hi"
        if query.flagged:
            where += f" AND {item} IN (SELECT item_id FROM item_topics)"  # noqa: S608
        order = f"{key} DESC" if sort == "newest" else f"{rank}, {key} DESC"
        sql = f"SELECT {item} FROM {table} WHERE {where} ORDER BY {order} LIMIT :n OFFSET :off"  # noqa: S608
        return sql, params


async def _hits(conn: AsyncConnection, ids: Sequence[int]) -> list[SearchHit]:
    """The items of `ids`, in that order, with outlets, topics and stories."""
    if not ids:
        return []
    rows = (
        await conn.execute(
            select(items, sources.c.name.label("source_name"), story_items.c.story_id)
            .join(sources, sources.c.id == items.c.source_id)
            .outerjoin(story_items, story_items.c.item_id == items.c.id)
            .where(items.c.id.in_(list(ids)))
        )
    ).all()
    matches = (
        await conn.execute(
            select(item_topics)
            .where(item_topics.c.item_id.in_(list(ids)))
            .order_by(item_topics.c.topic_id)
        )
    ).all()
    found = {
        row.id: SearchHit(stored, row.story_id)
        for row, stored in zip(rows, stored_items(rows, matches), strict=True)
    }
    return [found[i] for i in ids if i in found]
