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

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import SearchQuery, StoredItem
from bot.storage.access import DbAccess
from bot.storage.rows import stored_items
from bot.storage.search_compile import fts_match, pair_keys, tsquery
from bot.storage.search_tables import ID_BITS, ID_MASK, key_bound
from bot.storage.search_verify import CHUNK, CHUNKS, Loosened, holds, loosen
from bot.storage.search_words import MAX_FORMS, MAX_PHRASES, expand, lookup, spell
from bot.storage.story_tables import story_items
from bot.storage.tables import item_topics, items, sources

Sort = Literal["newest", "relevance"]
SORTS: tuple[Sort, ...] = ("newest", "relevance")
_NO_END = (1 << 62) - 1
WINDOW = 1000  # newest documents PostgreSQL checks one by one before it asks its index
RECENT_DAYS = 14  # of documents PostgreSQL's index is asked for before all of them
_TEXTS = text("SELECT item_id, title, body FROM search_text WHERE item_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One found item, with the story it belongs to (None: not part of one)."""

    stored: StoredItem
    story_id: int | None


class SearchStore:
    """Runs parsed queries against the full-text index, through an injected engine."""

    def __init__(
        self,
        db: AsyncEngine | DbAccess,
        *,
        max_forms: int = MAX_FORMS,
        max_phrases: int = MAX_PHRASES,
        window: int = WINDOW,
    ) -> None:
        self._db = DbAccess.of(db)
        # SQLite: a prefix standing for more words stays a prefix query; a phrase standing for
        # more exact phrases is checked on its candidates (bot.storage.search_verify).
        self._max_forms, self._max_phrases = max_forms, max_phrases
        self._window = window  # PostgreSQL: see _newest_postgres

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
                known = await lookup(conn, query, self._max_forms)
                loose = loosen(query, known, self._max_phrases) if sort == "newest" else None
                found = await self._verified(conn, loose, limit, offset) if loose else None
                if found is not None:
                    return await _hits(conn, found)
                query = spell(query, known, self._max_phrases)
            if self._db.dialect == "postgresql" and sort == "newest":
                ids = await self._newest_postgres(conn, query, limit, max(0, offset))
            else:
                sql, params = self._ids_sql(query, sort)
                params |= {"n": limit, "off": max(0, offset)}
                ids = list((await conn.execute(text(sql), params)).scalars().all())
            return await _hits(conn, ids)

    async def _verified(
        self, conn: AsyncConnection, loose: Loosened, limit: int, offset: int
    ) -> list[int] | None:
        """SQLite: a page of the newest candidates that hold the loosened phrases (see
        `bot.storage.search_verify`); None when CHUNKS chunks did not decide it."""
        # Newest first, each chunk below the last one's oldest key. The text is read from
        # search_text by item id (FTS5 would look its columns up by sort key, unindexed).
        sql, params = self._ids_sql(loose.query, "newest", columns="rowid")
        params |= {"n": CHUNK, "off": 0}
        found: list[int] = []
        for _ in range(CHUNKS):
            keys = (await conn.execute(text(sql), params)).scalars().all()
            ids = [key & ID_MASK for key in keys]
            texts = {r.item_id: r for r in await conn.execute(_TEXTS, {"ids": ids})} if ids else {}
            for item_id in ids:
                doc = texts.get(item_id)
                if doc is not None and all(
                    holds(p, doc.title) or holds(p, doc.body) for p in loose.phrases
                ):
                    found.append(item_id)
                    if len(found) == offset + limit:
                        return found[offset:]
            if len(keys) < CHUNK:
                return found[offset:]  # every candidate seen
            params["hi"] = keys[-1]
        return None

    async def _newest_postgres(
        self, conn: AsyncConnection, query: SearchQuery, limit: int, offset: int
    ) -> list[int]:
        """A page of the newest matches on PostgreSQL, in two tries.

        Its planner cannot tell how many documents a phrase (or a set of common words) matches,
        and each wrong guess costs hundreds of milliseconds: walking the newest documents when
        matches are rare, or reading every match from the GIN index when they are common. So:
        1. the newest documents, `window` (WINDOW) more than the page reaches, are checked one
           by one (a few ms): a common query fills its page there;
        2. else the index is asked, for a phrase by its word-pair keys only (exact entries, which
           the index finds fast), and the few documents they name are checked in full: those
           of the last RECENT_DAYS first, then all.
        """
        params: dict[str, Any] = {
            "q": tsquery(query),
            "lo": key_bound(query.since) if query.since else 0,
            "hi": key_bound(query.until) if query.until else _NO_END,
            "n": limit,
            "off": offset,
            "window": self._window + limit + offset,
        }
        flagged = " AND item_id IN (SELECT item_id FROM item_topics)" if query.flagged else ""
        first = (
            "SELECT item_id FROM (SELECT item_id, doc, sort_key FROM search_docs "  # noqa: S608
            "WHERE sort_key >= :lo AND sort_key < :hi ORDER BY sort_key DESC LIMIT :window) AS s "
            f"WHERE doc @@ CAST(:q AS tsquery){flagged} "
            "ORDER BY sort_key DESC LIMIT :n OFFSET :off"
        )
        ids = list((await conn.execute(text(first), params)).scalars().all())
        if len(ids) == limit:
            return ids
        # Rare among the newest: the index's candidates, checked as the heap scan reads them,
        # then ordered (the CTE keeps the planner from walking the newest again).
        index_match, check = "doc @@ CAST(:q AS tsquery)", ""
        keys = pair_keys(query)
        if keys is not None:
            # ts_match_vq is @@ as a function: the planner does not take it to the index.
            index_match = "doc @@ CAST(:keys AS tsquery)"
            check = " AND ts_match_vq(doc, CAST(:q AS tsquery))"
            params["keys"] = keys
        sql = (
            "WITH found AS MATERIALIZED (SELECT item_id, sort_key FROM search_docs "  # noqa: S608
            f"WHERE {index_match}{check} AND sort_key >= :from AND sort_key < :hi{flagged}) "
            "SELECT item_id FROM found ORDER BY sort_key DESC LIMIT :n OFFSET :off"
        )
        # The index's candidates of the last RECENT_DAYS first (the planner ANDs the GIN bitmap
        # with the sort_key range, so older candidates are not read), then of every day.
        newest = await conn.scalar(
            text("SELECT max(sort_key) FROM search_docs WHERE sort_key < :hi"), params
        )
        recent = ((int(newest or 0) >> ID_BITS) - RECENT_DAYS * 1440) << ID_BITS
        for start in ([recent] if recent > params["lo"] else []) + [params["lo"]]:
            params["from"] = start
            ids = list((await conn.execute(text(sql), params)).scalars().all())
            if len(ids) == limit:
                break
        return ids

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

    def _ids_sql(
        self, query: SearchQuery, sort: Sort, *, columns: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The SQL of a page of ids (or of `columns`) and its parameters."""
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
        sql = f"SELECT {columns or item} FROM {table} WHERE {where} ORDER BY {order} LIMIT :n OFFSET :off"  # noqa: S608
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
