"""PostgreSQL's word-pair keys and its two tries at a page of the newest: the keys are a
necessary condition of every phrase (nothing is lost), the page is the same whichever try fills
it, and migration 0014 gives stored documents their keys."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import SearchPhrase, SearchWord
from bot.review.query import parse_query
from bot.storage.items import Store
from bot.storage.search import SearchStore
from bot.storage.search_compile import tsquery
from bot.storage.search_index import backfill
from bot.storage.search_pairs import add_pairs, phrase_pairs, word_keys
from bot.topics.folding import normalize
from tests.search.archive import NOW, ROWS, fill, search_store

PHRASES = [
    '"border river"', '"river border"', '"пограничную реку"', "«реку пограничную»",
    '"обломки дронов"', '"drone debris"', '"پل\u200cهای مرزی"', '"پل های مرزی"', '"سفیر ایران"',
    '"Bakıda İran"', '"opens the new"', '"в понедельник"', '"border river" OR "corridor in"',
    'граница -"обломки дронов"', '"new bridges" flagged:yes', '"astara" "bridge over"',
]  # fmt: skip
QUERIES = [*PHRASES, "bridge", "граница", "astara OR мост", "sərhəd -Bakı", "ایران", "nothing"]


@pytest.fixture
async def postgres_engine(db_engine: AsyncEngine) -> AsyncEngine:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("the word-pair keys are PostgreSQL's (FTS5 keeps positions in its index)")
    return db_engine


async def keys_of(store: SearchStore, query: str, limit: int = 50, offset: int = 0) -> list[str]:
    hits = await store.search(parse_query(query, now=NOW), limit=limit, offset=offset)
    return [h.stored.item.key for h in hits]


async def test_both_tries_give_the_same_pages(postgres_engine: AsyncEngine):
    await fill(search_store(postgres_engine))
    walk_first, index_only = SearchStore(postgres_engine), SearchStore(postgres_engine, window=0)
    relevance = 0
    for query in QUERIES:
        everything = await keys_of(index_only, query)
        relevance += len(everything)
        for limit, offset in ((1, 0), (2, 0), (2, 1), (3, 2), (50, 0)):
            expected = everything[offset : offset + limit]
            assert await keys_of(walk_first, query, limit, offset) == expected, (query, limit)
            assert await keys_of(index_only, query, limit, offset) == expected, (query, limit)
    assert relevance > 15  # the queries find things: the comparison is not of empty pages


async def test_the_keys_lose_no_match(postgres_engine: AsyncEngine):
    await fill(search_store(postgres_engine))
    sql = text("SELECT item_id FROM search_docs WHERE doc @@ CAST(:q AS tsquery) ORDER BY 1")
    found = 0
    async with postgres_engine.connect() as conn:
        for query in PHRASES:
            parsed = parse_query(query, now=NOW)
            asked = tsquery(parsed) != tsquery(parsed, keys=False)
            assert asked == (query != 'граница -"обломки дронов"'), query  # not to exclude
            plain = (await conn.execute(sql, {"q": tsquery(parsed, keys=False)})).scalars().all()
            keyed = (await conn.execute(sql, {"q": tsquery(parsed)})).scalars().all()
            assert keyed == plain, query
            found += len(plain)
    assert found >= 8


async def test_a_phrase_is_found_wherever_its_words_stand_together(postgres_engine: AsyncEngine):
    await fill(search_store(postgres_engine))
    store = SearchStore(postgres_engine, window=0)  # straight to the index and its keys
    assert await keys_of(store, '"border river"') == ["en1"]
    assert await keys_of(store, '"river border"') == []
    assert await keys_of(store, '"пограничную реку"') == ["ru1"]
    assert await keys_of(store, '"в понедельник"') == ["ru1"]  # a one-letter word
    assert await keys_of(store, '"پل\u200cهای مرزی"') == ["fa1"]  # Arabic script: 3-letter keys
    assert await keys_of(store, '"پل های مرزی"') == []  # without the joiner: three words
    assert await keys_of(store, '"opens the new"') == ["en1"]  # from the title into the body
    assert await keys_of(store, '"drone debris"') == ["en2"]


async def test_the_migration_gives_stored_documents_their_keys(postgres_engine: AsyncEngine):
    await fill(Store(postgres_engine))
    async with postgres_engine.begin() as conn:
        await conn.run_sync(backfill, normalize, at_0010=True)  # as migration 0010 left them
    async with postgres_engine.connect() as conn:
        keyed = "SELECT count(*) FROM search_docs WHERE doc @@ CAST(:k AS tsquery)"
        assert await conn.scalar(text(keyed), {"k": "'~погр~реку'"}) == 0
    async with postgres_engine.begin() as conn:
        assert await conn.run_sync(add_pairs) == len(ROWS)
    async with postgres_engine.connect() as conn:
        assert await conn.scalar(text(keyed), {"k": "'~погр~реку'"}) == 1
    store = SearchStore(postgres_engine, window=0)
    assert await keys_of(store, '"пограничную реку"') == ["ru1"]


def test_keys_are_the_first_letters_of_each_word_and_never_a_word():
    prefix = SearchWord(("пограничн",), prefix=True)
    whole = SearchWord(("реку",))
    assert phrase_pairs(SearchPhrase((prefix, whole))) == [["~погр~реку"]]
    assert word_keys(SearchWord(("مرز",), prefix=True)) == ["مرز"]  # Arabic script: three
    assert word_keys(SearchWord(("war", "wars"))) == ["war", "wars"]  # whole words, short too
    assert word_keys(SearchWord(("abc",), prefix=True)) is None  # shorter than its key
    assert phrase_pairs(SearchPhrase((SearchWord(("abc",), prefix=True), whole))) is None


async def test_older_matches_follow_the_recent_ones(postgres_engine: AsyncEngine):
    old = ("apa-en", "old", 24 * 40, "Border river crossing", "An older report.", "en", False)
    await fill(search_store(postgres_engine), [*ROWS, old])
    store = SearchStore(postgres_engine, window=0)  # the index: the last days, then all
    assert await keys_of(store, '"border river"', limit=2) == ["en1", "old"]
    assert await keys_of(store, '"border river"', limit=1) == ["en1"]
    assert await keys_of(store, '"border river"', limit=1, offset=1) == ["old"]
