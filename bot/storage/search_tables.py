"""The archive search's tables: saved searches (alerts), which alert matched an item for a chat,
and the full-text index, which lives outside SQLAlchemy's metadata.

`alerts` and `alert_hits` are ordinary tables on `bot.storage.tables.metadata` (migration 0010).
The index is backend-specific and so is not declared here (autogenerate and the schema check skip
it through `outside_metadata`):
- SQLite: `search_text` (item_id, sort_key, title, body, meta: the folded words), indexed by
  `search_fts`, an FTS5 table over it as external content (the `ascii` tokenizer, which keeps
  every non-ASCII letter, over words the bot has already folded), its rowid the item's
  `sort_key` (migration 0015; before it, FTS5 held the text itself); triggers keep the index in
  step with search_text and delete an item's document in the same statement that deletes the
  item; and `search_words`, its vocabulary (`bot.storage.search_words`, migration 0013).
- PostgreSQL: `search_docs` (item_id → items ON DELETE CASCADE, sort_key, doc tsvector built
  with the 'simple' configuration) with a GIN index on doc and a b-tree on sort_key.

`sort_key` orders by publication: the minute of `published` shifted left 32 bits, or'd with the
item id (unique while ids stay below 2^32), so "newest first" is the index's own order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from bot.storage.tables import UTCDateTime, metadata

ID_BITS = 32
ID_MASK = (1 << ID_BITS) - 1

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, ForeignKey("chats.chat_id", ondelete="CASCADE"), nullable=False),
    Column("query", Text, nullable=False),  # as the user wrote it; parsed again when loaded
    Column("created", UTCDateTime, nullable=False),
    Index(None, "chat_id", "id"),
)

alert_hits = Table(
    "alert_hits",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("chat_id", BigInteger, ForeignKey("chats.chat_id", ondelete="CASCADE"), nullable=False),
    Column("queries", Text, nullable=False),  # the matching alerts' queries, one a line
    PrimaryKeyConstraint("item_id", "chat_id"),
)


def outside_metadata(name: str | None) -> bool:
    """True for the search index's tables (FTS5 and its shadow tables, search_docs …)."""
    return bool(name) and (
        str(name).startswith("search_fts") or name in ("search_docs", "search_words", "search_text")
    )


def schema_object(name: str | None, type_: str, parents: object) -> bool:
    """Alembic's `include_name`: leave the search index's tables out of schema comparisons."""
    del parents
    return not (type_ == "table" and outside_metadata(name))


def sort_key(published: datetime, item_id: int) -> int:
    """The index order of an item: its publication minute, then its id."""
    minute = max(0, int(published.timestamp()) // 60)
    return (minute << ID_BITS) | (item_id & ID_MASK)


def key_bound(moment: datetime) -> int:
    """The lowest sort key of items published at `moment`'s minute or later."""
    return max(0, int(moment.timestamp()) // 60) << ID_BITS
