"""The full-text index: one document per stored item, written in the transaction that stores it.

`SearchIndex` is a `bot.storage.items.SavedHook`: `Store.save_fetch` calls it with every new
item (flagged or not) inside its transaction, so an item is never stored without its document.
Removal needs no code: on SQLite a trigger on `items` deletes the FTS5 row in the statement that
deletes the item (retention's batches, a source's cascade), on PostgreSQL `search_docs` cascades.

A document has three fields: the folded words of the title; of the feed text, the review summary
and the article page when one was fetched; and meta words (the source and the language, see
`bot.storage.search_compile`). Folding is injected (`fold`: text → its folded words joined by
spaces, `bot.topics.folding.normalize` in the bot), as storage does not know the topics wing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import MatchedItem
from bot.storage.items import Saved
from bot.storage.search_compile import lang_token, source_token
from bot.storage.search_tables import sort_key
from bot.storage.search_words import add_words

Fold = Callable[[str], str]
ARTICLE_CHARS = 50_000  # of an article page's text are indexed; the rest adds little

SQLITE_SCHEMA = (
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
    "INSERT INTO search_fts (rowid, title, body, meta) VALUES (:key, :title, :body, :meta)"
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
        self._insert = _INSERT_POSTGRES if dialect == "postgresql" else _INSERT_SQLITE
        self._vocabulary = dialect == "sqlite"  # see bot.storage.search_words
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

    async def __call__(self, conn: AsyncConnection, saved: Saved) -> None:
        """Index the new items inside the store's transaction (a backlog too)."""
        if saved.new:
            rows = self.rows(saved.new)
            await conn.execute(self._insert, rows)
            if self._vocabulary:
                await add_words(conn, rows)


def backfill(conn: Connection, fold: Fold, batch: int = 2000, *, pairs: bool = True) -> int:
    """Index every stored item (the migration's job for items stored before the index); how many.

    `pairs=False` is for migration 0010, which runs before PostgreSQL has `search_pairs`."""
    insert = _INSERT_SQLITE
    if conn.dialect.name == "postgresql":
        insert = _INSERT_POSTGRES if pairs else _INSERT_POSTGRES_0010
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
        conn.execute(insert, params)
        done += len(rows)
        after = rows[-1].id


def _aware(value: Any) -> datetime:
    """A raw SELECT gives SQLite's naive UTC text or datetime; make it an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment: datetime = value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
