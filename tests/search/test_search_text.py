"""Migration 0015 (SQLite): the documents move out of FTS5 into `search_text`, which FTS5 indexes
as external content. Items indexed before it are found after it, deletions keep the two in step
(FTS5's own integrity check agrees), new saves are indexed, and a downgrade puts the text back."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, delete, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.review.query import parse_query
from bot.storage.engine import alembic_config, make_engine
from bot.storage.items import Store
from bot.storage.search import SearchHit, SearchStore
from bot.storage.search_index import backfill
from bot.storage.tables import items
from bot.topics.folding import normalize
from tests.search.archive import NOW, ROWS, fill, search_store

_HAS_TEXT = "SELECT count(*) FROM sqlite_master WHERE name = 'search_text'"
_CHECK = "INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)"


def move_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if revision == "0014" and connection.exec_driver_sql(_HAS_TEXT).scalar():
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


async def keys(engine: AsyncEngine, query: str) -> list[str]:
    hits: list[SearchHit] = await SearchStore(engine).search(parse_query(query, now=NOW))
    return [h.stored.item.key for h in hits]


async def scalar(engine: AsyncEngine, sql: str) -> object:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql))


async def test_documents_indexed_before_0015_are_found_after_it(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(move_to, "0014")
        await fill(Store(engine), ROWS[:-1])  # indexed as 0010 to 0014 did: FTS5 holds the text
        async with engine.begin() as conn:
            assert await conn.run_sync(backfill, normalize, at_0010=True) == len(ROWS) - 1
        assert await scalar(engine, _HAS_TEXT) == 0
        async with engine.begin() as conn:
            await conn.run_sync(move_to, "head")
            await conn.execute(text(_CHECK))
        assert await scalar(engine, "SELECT count(*) FROM search_text") == len(ROWS) - 1
        assert await keys(engine, "bridge") == ["en1", "en3"]
        assert await keys(engine, '"пограничную реку"') == ["ru1"]
        assert await keys(engine, "körpü") == ["az1"]
        async with engine.begin() as conn:  # an item deleted: its document leaves the index
            await conn.execute(delete(items).where(items.c.key == "en1"))
            await conn.execute(text(_CHECK))
        assert await keys(engine, "bridge") == ["en3"]
        assert await scalar(engine, "SELECT count(*) FROM search_text") == len(ROWS) - 2
        await fill(search_store(engine), ROWS[-1:])  # a new save is indexed by the new code
        assert await keys(engine, "سفیر") == ["fa2"]
        async with engine.begin() as conn:
            await conn.execute(text(_CHECK))
            await conn.run_sync(move_to, "0014")
        assert await scalar(engine, _HAS_TEXT) == 0
        matched = "SELECT count(*) FROM search_fts WHERE search_fts MATCH 'bridges OR سفیر'"
        assert await scalar(engine, matched) == 2  # en3 and fa2, in FTS5's own content again
        title = "SELECT title FROM search_fts WHERE search_fts MATCH 'سفیر'"
        assert await scalar(engine, title) == normalize("سفیر ايران در باکو")
    finally:
        await engine.dispose()
