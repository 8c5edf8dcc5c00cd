"""Search over a small store in four languages, on SQLite and (with TEST_DATABASE_URL) PostgreSQL:
folding, inflection, phrases, exclusions, OR, filters, order, and the index following deletes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.review.query import parse_query
from bot.storage.items import Store
from bot.storage.search import SearchStore
from bot.storage.search_index import backfill
from bot.storage.tables import items
from bot.topics.folding import normalize
from tests.search.archive import NOW, fill, search_store


@pytest.fixture
async def archive(db_engine: AsyncEngine) -> SearchStore:
    await fill(search_store(db_engine))
    return SearchStore(db_engine)


async def keys(archive: SearchStore, query: str, **kwargs: object) -> list[str]:
    hits = await archive.search(parse_query(query, now=NOW), limit=50, **kwargs)  # type: ignore[arg-type]
    return [h.stored.item.key for h in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # English plurals both ways, case folded
        ("bridge", ["en1", "en3"]),
        ("BRIDGES", ["en1", "en3"]),
        # Russian: the nominative finds the other cases; an adjective its forms
        ("граница", ["ru2", "ru3"]),
        ("мост", ["ru1"]),
        ("иранский", ["ru2"]),
        ("дрон", ["ru3"]),
        # Azerbaijani: dotted/dotless i, a stem finds its suffixed forms, a suffixed form its stem
        ("körpü", ["az1"]),
        ("KÖRPÜ", ["az1"]),
        ("Bakı", ["az2"]),
        ("BAKIDA", ["az2"]),
        ("sərhəd", ["az1", "az2"]),
        # Persian: Arabic and Persian yeh meet, the ZWNJ plural is found from the singular
        ("ایران", ["fa2"]),
        ("ايران", ["fa2"]),
        ("پل", ["fa1"]),
        ("سفير", ["fa2"]),
    ],
)
async def test_words_match_across_case_letter_variants_and_inflection(
    archive: SearchStore, query: str, expected: list[str]
):
    assert sorted(await keys(archive, query)) == sorted(expected)


async def test_all_words_must_match_and_results_are_newest_first(archive: SearchStore):
    assert await keys(archive, "astara") == ["en1", "az1"]  # az1 is two hours older
    assert await keys(archive, "astara bridge") == ["en1"]
    assert await keys(archive, "Астара мост") == ["ru1"]


async def test_a_phrase_needs_its_words_in_order_and_side_by_side(archive: SearchStore):
    assert await keys(archive, '"border river"') == ["en1"]
    assert await keys(archive, '"river border"') == []
    assert await keys(archive, '"пограничную реку"') == ["ru1"]
    assert await keys(archive, "«реку пограничную»") == []


async def test_exclusions_leave_items_out(archive: SearchStore):
    assert await keys(archive, "bridge -corridor") == ["en1"]
    assert await keys(archive, 'граница -"обломки дронов"') == ["ru2"]


async def test_or_joins_alternatives(archive: SearchStore):
    assert await keys(archive, "drone OR дрон") == ["en2", "ru3"]
    assert await keys(archive, "debris OR обломки found") == ["en2"]


async def test_filters_narrow_by_source_language_time_and_flag(archive: SearchStore):
    assert await keys(archive, "astara source:report-az") == ["az1"]
    assert await keys(archive, "astara lang:az") == ["az1"]
    assert await keys(archive, "lang:fa") == ["fa1", "fa2"]
    assert await keys(archive, "граница since:10h") == ["ru2"]
    assert await keys(archive, "bridge until:2026-11-29") == ["en3"]
    assert await keys(archive, "iran OR иран OR ایران OR İran flagged:") == ["en1", "ru2", "az2"]


async def test_results_come_with_outlet_topics_and_a_relevance_order(archive: SearchStore):
    hits = await archive.search(parse_query("bridge", now=NOW), limit=5)
    first = hits[0].stored
    assert (first.source_name, first.topics) == ("APA (English)", ("azerbaijan-iran",))
    assert first.item.url == "https://apa-en.test/news/en1"
    ranked = await keys(archive, "bridges", sort="relevance")
    assert sorted(ranked) == ["en1", "en3"]


async def test_pages_follow_one_another(archive: SearchStore):
    query = parse_query("astara OR bridge OR мост", now=NOW)
    first = await archive.search(query, limit=2)
    second = await archive.search(query, limit=2, offset=2)
    assert [h.stored.item.key for h in first + second] == ["en1", "ru1", "az1", "en3"]


async def test_a_deleted_item_leaves_the_index_in_the_same_transaction(
    archive: SearchStore, db_engine: AsyncEngine
):
    async with db_engine.begin() as conn:
        await conn.execute(delete(items).where(items.c.key == "en1"))
    assert await keys(archive, "bridge") == ["en3"]
    async with db_engine.connect() as conn:
        table = "search_docs" if db_engine.dialect.name == "postgresql" else "search_fts"
        assert await conn.scalar(text(f"SELECT count(*) FROM {table}")) == 9  # noqa: S608


async def test_the_migration_indexes_items_stored_before_it(db_engine: AsyncEngine):
    # The store without the index hook stands for items stored before migration 0010.
    await fill(Store(db_engine))
    async with db_engine.begin() as conn:
        done = await conn.run_sync(backfill, normalize)
    assert done == 10
    assert await keys(SearchStore(db_engine), "körpü") == ["az1"]


async def test_share_counts_matches_among_the_newest_items(archive: SearchStore):
    assert await archive.share(parse_query("astara", now=NOW)) == (2, 10)
    assert await archive.share(parse_query("astara", now=NOW), sample=2) == (1, 2)
