"""The full-text index: one document per stored item, written in the transaction that stores it.

`SearchIndex` is a `bot.storage.items.SavedHook`: `Store.save_fetch` calls it with every new
item (flagged or not) inside its transaction, so an item is never stored without its document.
Removal needs no code: on SQLite a trigger on `items` deletes the document (`search_text`, whose
own trigger takes it out of FTS5) in the statement that deletes the item (retention's batches, a
source's cascade); on PostgreSQL `search_docs` cascades.

A document has three fields: the folded words of the title; of the feed text, the review summary
and the article page when one was fetched; and meta words (the source and the language, see
`bot.storage.search_compile`). Folding is injected (`fold`: text → its folded words joined by
spaces; `bot.review.searchwords.folder()` in the bot, the words of `bot.topics.folding.normalize`
reached faster), as storage does not know the topics wing.

Ingest cost (issue 21 bounds it at 10 % of a first sight's CPU): a fetch's documents go in by
ascending rowid, and on SQLite only the vocabulary words this process has not yet seen committed
are written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import MatchedItem
from bot.storage.items import Committed, Saved
from bot.storage.search_compile import lang_token, source_token
from bot.storage.search_tables import sort_key
from bot.storage.search_words import add_words, words_of

Fold = Callable[[str], str]
ARTICLE_CHARS = 50_000  # of an article page's text are indexed; the rest adds little
KNOWN_WORDS = 200_000  # vocabulary words one process remembers (~20 MB); then it starts over

# SQLite (migration 0015): the documents' text is `search_text`, keyed by item id, and FTS5 indexes
# it as external content under the sort key (`content_rowid`); triggers keep the two in step.
# FTS5's own content table would be keyed by the sort key: a first sight's backlog spreads over
# it, and writing ~1 KB rows at scattered places was half of an item's FTS5 cost. Never read
# search_fts's columns: FTS5 would look each row up by sort_key, which has no index (nothing
# else needs one); read search_text by item id.
SQLITE_SCHEMA = (
    """CREATE TABLE search_text (
        item_id INTEGER PRIMARY KEY,
        sort_key INTEGER NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        meta TEXT NOT NULL
    )""",
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, meta, tokenize = 'ascii', "
    "content = 'search_text', content_rowid = 'sort_key')",
)
SQLITE_TRIGGERS = (
    # An external content table's row is taken out of the index by its indexed values.
    """CREATE TRIGGER search_text_gone AFTER DELETE ON search_text BEGIN
        INSERT INTO search_fts (search_fts, rowid, title, body, meta)
            VALUES ('delete', old.sort_key, old.title, old.body, old.meta);
    END""",
    """CREATE TRIGGER search_fts_item_gone AFTER DELETE ON items BEGIN
        DELETE FROM search_text WHERE item_id = old.id;
    END""",
)
# What migration 0010 made on SQLite (FTS5 with its own content, a trigger), which 0015 replaces.
SQLITE_SCHEMA_0010 = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, meta, tokenize = 'ascii')",
    # The rowid is the item's sort key (bot.storage.search_tables.sort_key), worked out again.
    """CREATE TRIGGER search_fts_item_gone AFTER DELETE ON items BEGIN
        DELETE FROM search_fts WHERE rowid =
            (max(0, CAST(strftime('%s', old.published) AS INTEGER) / 60) << 32)
            | (old.id & 4294967295);
    END""",
)
POSTGRES_SCHEMA = (
    """CREATE TABLE search_docs (
        item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
        sort_key BIGINT NOT NULL,
        doc TSVECTOR NOT NULL
    )""",
    "CREATE INDEX ix_search_docs_doc ON search_docs USING GIN (doc)",
    "CREATE INDEX ix_search_docs_sort_key ON search_docs (sort_key)",
)
_INSERT_SQLITE = text(
    "INSERT INTO search_text (item_id, sort_key, title, body, meta) "
    "VALUES (:id, :key, :title, :body, :meta)"
)
_INSERT_SQLITE_TEXT = (  # the same, for the DB-API (qmark parameters)
    "INSERT INTO search_text (item_id, sort_key, title, body, meta) VALUES (?, ?, ?, ?, ?)"
)
# Then indexed in one statement, in sort-key order: FTS5 writes its pending terms out as a new
# segment whenever a rowid is not above the transaction's last one (feeds list their newest item
# first: inserted as they came, a backlog cost half as much again, in segments automerge then
# merged), and also for every row inserted by a trigger on search_text.
_INDEX_SQLITE = text(
    "INSERT INTO search_fts (rowid, title, body, meta) "
    "SELECT sort_key, title, body, meta FROM search_text "
    "WHERE item_id IN (SELECT value FROM json_each(:ids)) ORDER BY sort_key"
)
_DOC = (
    "setweight(to_tsvector('simple', :title), 'A') || "
    "setweight(to_tsvector('simple', :body), 'B') || "
    "setweight(to_tsvector('simple', :meta), 'D')"
)
# With the word-pair keys of bot.storage.search_pairs (migration 0014); without them before it.
_INSERT_POSTGRES = text(  # built from constants only
    "INSERT INTO search_docs (item_id, sort_key, doc) "  # noqa: S608
    f"SELECT :id, :key, d || search_pairs(d) FROM (SELECT {_DOC} AS d) AS made "
    "ON CONFLICT (item_id) DO NOTHING"
)
_INSERT_SQLITE_0010 = text(
    "INSERT INTO search_fts (rowid, title, body, meta) VALUES (:key, :title, :body, :meta)"
)
_INSERT_POSTGRES_0010 = text(
    f"INSERT INTO search_docs (item_id, sort_key, doc) VALUES (:id, :key, {_DOC}) "  # noqa: S608
    "ON CONFLICT (item_id) DO NOTHING"
)


def item_language(language: str | None, text_: str) -> str | None:
    """The item's language code ("ru" of "ru-RU"); when the feed gives none, a guess by script
    (Persian letters: fa, Cyrillic: ru, ə: az); None when unknown."""
    if language:
        return language.split("-")[0].split("_")[0].strip().lower() or None
    found = _SCRIPT.search(text_)
    if found is None:
        return None
    ch = found.group()
    return "fa" if ch >= "\u0600" else "ru" if ch >= "\u0400" else "az"


_SCRIPT = re.compile("[\u0600-\u06ff\u0400-\u04ffəƏ]")


def document(
    fold: Fold,
    *,
    item_id: int,
    source_id: str,
    title: str,
    summary: str,
    published: datetime,
    language: str | None,
    review_summary: str | None = None,
    article: str | None = None,
) -> dict[str, Any]:
    """The index row of one item (the parameters of both backends' INSERT)."""
    body = [summary]
    if review_summary and review_summary != summary:
        body.append(review_summary)
    if article:
        body.append(article[:ARTICLE_CHARS])
    meta = [source_token(source_id)]
    lang = item_language(language, title + " " + summary)
    if lang:
        meta.append(lang_token(lang))
    return {
        "id": item_id,
        "key": sort_key(published, item_id),
        "title": fold(title),
        "body": " ".join(fold(part) for part in body),
        "meta": " ".join(meta),
    }


class SearchIndex:
    """Writes the documents of new items (a SavedHook); `fold` gives a text's folded words."""

    def __init__(self, dialect: str, fold: Fold) -> None:
        self._insert = _INSERT_POSTGRES  # on PostgreSQL (SQLite: search_text, then FTS5)
        self._sqlite = dialect == "sqlite"  # FTS5 after search_text, and the vocabulary
        # Words this process knows the committed vocabulary holds (it only grows): news repeats
        # its words, and an INSERT OR IGNORE of a fetch's hundreds of words cost a third of the
        # index's CPU. Learnt only after a commit, so a rolled-back fetch teaches nothing.
        self._known: set[str] = set()
        self._fold = fold

    def rows(self, new: Sequence[tuple[int, MatchedItem]]) -> list[dict[str, Any]]:
        """The documents of newly stored items."""
        return [
            document(
                self._fold,
                item_id=item_id,
                source_id=m.item.source_id,
                title=m.item.title,
                summary=m.item.summary,
                published=m.item.published,
                language=m.item.language,
                review_summary=m.review_summary,
                article=m.article,
            )
            for item_id, m in new
        ]

    async def __call__(self, conn: AsyncConnection, saved: Saved) -> Committed | None:
        """Index the new items inside the store's transaction (a backlog too); the callback
        records the vocabulary's new words as known once the transaction has committed."""
        if not saved.new:
            return None
        rows = self.rows(saved.new)
        if not self._sqlite:
            await conn.execute(self._insert, rows)
            return None
        # The DB-API's own executemany: SQLAlchemy's handling of a text()'s parameters, row by
        # row, cost a quarter of writing the text (6 µs an item).
        await conn.exec_driver_sql(_INSERT_SQLITE_TEXT, [_text_row(row) for row in rows])
        await conn.execute(_INDEX_SQLITE, item_ids(rows))
        fresh = words_of(rows) - self._known
        if not fresh:
            return None
        await add_words(conn, fresh)
        return partial(self._learn, fresh)

    def _learn(self, words: set[str]) -> None:
        """The words are in the committed vocabulary: skip them from now on (bounded memo)."""
        if len(self._known) + len(words) > KNOWN_WORDS:
            self._known.clear()
        self._known.update(words)


def _text_row(row: dict[str, Any]) -> tuple[int, int, str, str, str]:
    return (row["id"], row["key"], row["title"], row["body"], row["meta"])


def item_ids(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The parameters of _INDEX_SQLITE: the documents' item ids."""
    return {"ids": json.dumps([row["id"] for row in rows])}


def backfill(conn: Connection, fold: Fold, batch: int = 2000, *, at_0010: bool = False) -> int:
    """Index every stored item (the migration's job for items stored before the index); how many.

    `at_0010` writes the index as migration 0010 made it: on PostgreSQL without the word-pair
    keys (`search_pairs` comes with 0014), on SQLite into FTS5's own content (0015 moved it)."""
    postgres = conn.dialect.name == "postgresql"
    if at_0010:
        insert = _INSERT_POSTGRES_0010 if postgres else _INSERT_SQLITE_0010
    else:
        insert = _INSERT_POSTGRES if postgres else _INSERT_SQLITE
    after, done = 0, 0
    while True:
        rows = conn.execute(
            text(
                "SELECT id, source_id, title, summary, published, language, review_summary "
                "FROM items WHERE id > :after ORDER BY id LIMIT :n"
            ),
            {"after": after, "n": batch},
        ).all()
        if not rows:
            return done
        params = [
            document(
                fold,
                item_id=r.id,
                source_id=r.source_id,
                title=r.title,
                summary=r.summary,
                published=_aware(r.published),
                language=r.language,
                review_summary=r.review_summary,
            )
            for r in rows
        ]
        params.sort(key=itemgetter("key"))  # ascending rowids: see _INDEX_SQLITE
        conn.execute(insert, params)
        if insert is _INSERT_SQLITE:
            conn.execute(_INDEX_SQLITE, item_ids(params))
        done += len(rows)
        after = rows[-1].id


def _aware(value: Any) -> datetime:
    """A raw SELECT gives SQLite's naive UTC text or datetime; make it an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment: datetime = value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
