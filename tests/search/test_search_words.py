"""The SQLite index's vocabulary: prefixes spelled out as the stored words they stand for find
exactly what FTS5's own prefix query finds, the vocabulary follows the index, and the limits keep
a prefix that stands for too much a prefix query."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.models import SearchPhrase, SearchQuery, SearchWord
from bot.review.query import parse_query
from bot.storage.items import Saved, Store
from bot.storage.search import SearchStore
from bot.storage.search_compile import fts_match
from bot.storage.search_index import SearchIndex, backfill
from bot.storage.search_verify import holds, loosen
from bot.storage.search_words import MAX_PHRASES, fill_from_index, spelled
from bot.topics.folding import normalize
from tests.search.archive import NOW, ROWS, fill, search_store

QUERIES = [
    "bridge", "bridges", "граница", "мост", "иранский", "körpü", "Bakı", "sərhəd", "ایران", "پل",
    "astara bridge", '"border river"', '"пограничную реку"', '"обломки дронов"', "drone OR дрон",
    "граница -\"обломки дронов\"", "bridge -corridor", "обломки", "nothing-like-this",
]  # fmt: skip


@pytest.fixture
async def sqlite_engine(db_engine: AsyncEngine) -> AsyncEngine:
    if db_engine.dialect.name != "sqlite":
        pytest.skip("the vocabulary is SQLite's (PostgreSQL's GIN index finds prefixes itself)")
    return db_engine


async def found(store: SearchStore, query: str) -> list[str]:
    hits = await store.search(parse_query(query, now=NOW), limit=50)
    return [h.stored.item.key for h in hits]


async def test_spelled_prefixes_find_what_fts5_prefixes_find(sqlite_engine: AsyncEngine):
    await fill(search_store(sqlite_engine))
    spelled_out, as_prefixes = SearchStore(sqlite_engine), SearchStore(sqlite_engine, max_forms=0)
    for query in QUERIES:
        expected = await found(as_prefixes, query)
        assert await found(spelled_out, query) == expected, query
    assert await found(spelled_out, "граница") == ["ru2", "ru3"]  # not vacuous
    assert await found(spelled_out, '"пограничную реку"') == ["ru1"]


async def test_the_vocabulary_holds_every_indexed_word_and_no_other(sqlite_engine: AsyncEngine):
    await fill(search_store(sqlite_engine), ROWS[:3])
    async with sqlite_engine.connect() as conn:
        words = set((await conn.execute(text("SELECT word FROM search_words"))).scalars())
    expected = {w for r in ROWS[:3] for w in (normalize(r[3]) + " " + normalize(r[4])).split()}
    assert words == expected
    assert "мост" not in words  # a word of an item not stored


async def test_the_migration_fills_the_vocabulary_from_the_index(sqlite_engine: AsyncEngine):
    # Items stored and indexed before migration 0013: the index has them, the vocabulary not.
    await fill(Store(sqlite_engine))
    async with sqlite_engine.begin() as conn:
        await conn.run_sync(backfill, normalize)
    assert await found(SearchStore(sqlite_engine), "körpü") == ["az1"]  # an empty vocabulary
    async with sqlite_engine.begin() as conn:
        added = await conn.run_sync(fill_from_index)
    assert added > 50
    assert await found(SearchStore(sqlite_engine), "körpü") == ["az1"]
    assert await found(SearchStore(sqlite_engine), '"пограничную реку"') == ["ru1"]


def prefix(stem: str) -> SearchWord:
    return SearchWord((stem,), prefix=True)


def test_a_phrase_is_spelled_out_only_within_the_limit():
    phrase = SearchPhrase((prefix("bord"), SearchWord(("river",))))
    out = spelled(phrase, {"bord": ("border", "borders")})
    assert out == SearchPhrase((SearchWord(("border", "borders")), SearchWord(("river",))))
    query = SearchQuery(clauses=((out,),))
    assert fts_match(query) == '({title body} : (("border" + "river" OR "borders" + "river")))'
    many = tuple(f"w{n}" for n in range(MAX_PHRASES + 1))
    assert spelled(phrase, {"bord": many}) == phrase  # too many phrases: FTS5's prefix
    assert spelled(phrase, {"bord": None}) == phrase  # too many words, or none stored
    assert spelled(SearchPhrase((prefix("bord"),)), {"bord": many}).words[0].forms == many


PHRASES = [
    '"border river"', '"пограничную реку"', '"обломки дронов"', '"drone debris"', '"new bridges"',
    '"bridges and roads"', '"границе с"', '"sərhəd məsələləri"', '"river border"', '"astara bridge"',
    '"border river" astara', 'граница -"обломки дронов"', '"обломки дронов" flagged:yes',
]  # fmt: skip


async def test_a_phrase_checked_on_its_candidates_finds_what_fts5_finds(
    sqlite_engine: AsyncEngine,
):
    await fill(search_store(sqlite_engine))
    checked = SearchStore(sqlite_engine, max_phrases=0)  # every phrase of prefixes: checked
    as_prefixes = SearchStore(sqlite_engine, max_forms=0)
    found = 0
    for query in PHRASES:
        everything = await found_page(as_prefixes, query, 50, 0)
        found += len(everything)
        for limit, offset in ((1, 0), (1, 1), (2, 0), (50, 0)):
            page = await found_page(checked, query, limit, offset)
            assert page == everything[offset : offset + limit], (query, limit, offset)
    assert found >= 6


async def found_page(store: SearchStore, query: str, limit: int, offset: int) -> list[str]:
    hits = await store.search(parse_query(query, now=NOW), limit=limit, offset=offset)
    return [h.stored.item.key for h in hits]


def test_loosen_splits_only_a_lone_phrase_too_large_to_spell():
    phrase = SearchPhrase((prefix("bord"), SearchWord(("river",))))
    known = {"bord": ("border", "borders")}
    loose = loosen(SearchQuery(clauses=((phrase,),)), known, max_phrases=1)
    assert loose is not None
    assert loose.query.clauses == (
        (SearchPhrase((SearchWord(("border", "borders")),)),),
        (SearchPhrase((SearchWord(("river",)),)),),
    )
    assert loose.phrases == (phrase.words,)
    assert loosen(SearchQuery(clauses=((phrase,),)), known, max_phrases=2) is None  # spelled
    alone = SearchPhrase((SearchWord(("x",)),))
    assert loosen(SearchQuery(clauses=((phrase, alone),)), known, max_phrases=1) is None  # OR
    assert holds(phrase.words, "the borders river")
    assert not holds(phrase.words, "river borders")
    assert not holds(phrase.words, "border the river")


async def segments(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(DISTINCT segid) FROM search_fts_idx")))


async def test_a_newest_first_fetch_is_written_as_one_segment(sqlite_engine: AsyncEngine):
    # en1..en3 get ascending ids but are ever older, so their rowids (sort keys) fall: inserted
    # in that order, each would make FTS5 write out a segment of its own.
    await fill(search_store(sqlite_engine), ROWS[:3])
    assert await segments(sqlite_engine) == 1
    assert await found(SearchStore(sqlite_engine), "bridge") == ["en1", "en3"]


class FailOnce:
    """A later hook of the same save that fails the first time: the transaction rolls back."""

    def __init__(self) -> None:
        self.failed = False

    async def __call__(self, conn: AsyncConnection, saved: Saved) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the save fails after the index has written its rows")


async def vocabulary(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(text("SELECT word FROM search_words"))).scalars())


async def test_only_committed_words_are_remembered_as_known(sqlite_engine: AsyncEngine):
    index = SearchIndex("sqlite", normalize)
    store = Store(sqlite_engine, on_saved=[index, FailOnce()])
    with pytest.raises(RuntimeError):
        await fill(store, ROWS[3:4])
    assert await vocabulary(sqlite_engine) == set()  # rolled back, with the index's rows
    await fill(store, ROWS[3:4])  # the same words again, by the same index
    assert "пограничную" in await vocabulary(sqlite_engine)
    assert await found(SearchStore(sqlite_engine), "пограничный") == ["ru1"]


async def test_a_committed_word_is_not_written_again_by_the_same_process(
    sqlite_engine: AsyncEngine,
):
    store = Store(sqlite_engine, on_saved=[SearchIndex("sqlite", normalize)])
    await fill(store, ROWS[3:4])  # ru1: "Мост через пограничную реку …"
    async with sqlite_engine.begin() as conn:  # were it written again, it would be back
        await conn.execute(text("DELETE FROM search_words WHERE word = 'мост'"))
    await fill(store, [("tass", "ru8", 1, "Новый мост на границе", "", "ru", False)])
    words = await vocabulary(sqlite_engine)
    assert "мост" not in words
    assert {"новыи", "границе"} <= words  # the fetch's new words are written
    another_process = Store(sqlite_engine, on_saved=[SearchIndex("sqlite", normalize)])
    await fill(another_process, [("tass", "ru9", 1, "Мост", "", "ru", False)])
    assert "мост" in await vocabulary(sqlite_engine)
