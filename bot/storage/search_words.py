"""The SQLite index's vocabulary: every word of the FTS5 table, so a prefix can be spelled out.

FTS5 answers a prefix query (`"мост"*`) by merging the posting lists of every word with that
prefix before it returns a row: 20–50 ms for a common word at 1,000,000 items, even when the
prefix stands for a single word. An exact word costs 0.2 ms, because its postings are read
lazily, newest first, and a page of ten stops the read. So `expand` looks the words a prefix
stands for up here and the query asks for them exactly; a prefix that stands for too many words
keeps FTS5's own prefix query. (fts5vocab lists the words too, but it reads each word's postings
to count them: as slow as the prefix query.)

`search_words` is written in the items' own transaction, beside the FTS5 row (`add_words`), so
the vocabulary never lacks a word the index holds. It only grows: a word whose items retention
removed costs an exact lookup that finds nothing. Because it only grows, the index writer
remembers the words its process has seen committed and writes only the others
(`SearchIndex`). PostgreSQL does not need it (its GIN index finds a prefix's entries in its own
sorted tree).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import SearchPhrase, SearchQuery, SearchWord

MAX_FORMS = 256  # words one prefix may be spelled out as (an OR of 256 words: ~7 ms at 1M items)
MAX_PHRASES = 512  # exact phrases a phrase of prefixes may be spelled out as (~45 ms at 1M items)

SCHEMA = "CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID"
# One statement per batch: SQLite loops over the JSON array itself (a third of the cost of
# executemany, which binds every word from Python).
_INSERT = text("INSERT OR IGNORE INTO search_words (word) SELECT value FROM json_each(:words)")
_LOOKUP = text(
    "SELECT word FROM search_words WHERE word >= :lo AND word < :hi ORDER BY word LIMIT :n"
)


def words_of(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """The distinct words of documents' title and body (already folded, space-separated)."""
    found: set[str] = set()
    for row in rows:
        found.update(row["title"].split())
        found.update(row["body"].split())
    return found


async def add_words(conn: AsyncConnection, words: Collection[str]) -> None:
    """Record words of documents being indexed, in the caller's transaction."""
    if words:
        await conn.execute(_INSERT, {"words": json.dumps(sorted(words), ensure_ascii=False)})


def fill_from_index(conn: Connection) -> int:
    """Record every title and body word the FTS5 table already holds (a migration's job)."""
    conn.execute(
        text("CREATE VIRTUAL TABLE temp.search_fts_cols USING fts5vocab(main, search_fts, col)")
    )
    try:
        done = conn.execute(
            text(
                "INSERT OR IGNORE INTO search_words (word) SELECT DISTINCT term "
                "FROM temp.search_fts_cols WHERE col IN ('title', 'body')"
            )
        )
        return int(done.rowcount or 0)
    finally:
        conn.execute(text("DROP TABLE temp.search_fts_cols"))


Known = Mapping[str, tuple[str, ...] | None]  # stem → the stored words it stands for


async def lookup(conn: AsyncConnection, query: SearchQuery, max_forms: int = MAX_FORMS) -> Known:
    """The stored words each prefix of the query stands for (None: left to FTS5)."""
    known: dict[str, tuple[str, ...] | None] = {}
    phrases = [p for clause in query.clauses for p in clause] + list(query.exclude)
    for word in (w for p in phrases for w in p.words if w.prefix):
        if word.forms[0] not in known:
            known[word.forms[0]] = await _forms(conn, word.forms[0], max_forms)
    return known


def spell(query: SearchQuery, known: Known, max_phrases: int = MAX_PHRASES) -> SearchQuery:
    """The query with its prefix words spelled out as the stored words they stand for. Pure."""
    if not known:
        return query
    return replace(
        query,
        clauses=tuple(
            tuple(spelled(p, known, max_phrases) for p in clause) for clause in query.clauses
        ),
        exclude=tuple(spelled(p, known, max_phrases) for p in query.exclude),
    )


async def expand(
    conn: AsyncConnection, query: SearchQuery, max_forms: int = MAX_FORMS
) -> SearchQuery:
    """The query with its prefix words spelled out (`lookup`, then `spell`)."""
    return spell(query, await lookup(conn, query, max_forms))


async def _forms(conn: AsyncConnection, stem: str, max_forms: int) -> tuple[str, ...] | None:
    """The stored words starting with `stem`; None for none (a vocabulary written by an older
    version may lack a word: FTS5 itself then says) or for more than `max_forms`."""
    rows = await conn.execute(_LOOKUP, {"lo": stem, "hi": stem + "\U0010ffff", "n": max_forms + 1})
    words = tuple(rows.scalars())
    return words if 0 < len(words) <= max_forms else None


def spelled(phrase: SearchPhrase, known: Known, max_phrases: int = MAX_PHRASES) -> SearchPhrase:
    """The phrase with each prefix word as its stored forms (`known`: stem → forms, None where a
    prefix is left to FTS5), unless that makes more than `max_phrases` exact phrases. Pure."""
    words = spelled_words(phrase, known)
    if words is None:
        return phrase
    if len(words) > 1 and math.prod(len(w.forms) for w in words) > max_phrases:
        return phrase
    return SearchPhrase(words)


def spelled_words(phrase: SearchPhrase, known: Known) -> tuple[SearchWord, ...] | None:
    """Each word of the phrase as whole words (a prefix as its stored forms); None when some
    prefix is left to FTS5. Pure."""
    forms = [known.get(w.forms[0]) if w.prefix else w.forms for w in phrase.words]
    if any(not f for f in forms):
        return None
    return tuple(SearchWord(f or ()) for f in forms)
