"""SQLite's search documents move out of FTS5 into `search_text`, keyed by item id, which FTS5
now indexes as external content (bot/storage/search_index.py, SQLITE_SCHEMA). FTS5's own content
table was keyed by the sort key, and a first sight's backlog wrote its ~1 KB rows at scattered
places: half of an item's FTS5 cost at ingest (issue 21 bounds the index at 10 % of it).

The words are the same: the documents are copied, not folded again, and indexed anew in sort-key
order. On a 1,000,000-item store this holds the text twice for a while and takes about as long
as indexing it did (benchmarks/README.md). PostgreSQL: nothing changes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

from bot.storage.search_index import SQLITE_SCHEMA, SQLITE_SCHEMA_0010, SQLITE_TRIGGERS
from bot.storage.search_tables import ID_MASK

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_INDEX_ALL = (
    "INSERT INTO search_fts (rowid, title, body, meta) "
    "SELECT sort_key, title, body, meta FROM search_text ORDER BY sort_key"
)


def upgrade() -> None:
    """Copy the documents into search_text and index them there (SQLite)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    text_table, external_fts = SQLITE_SCHEMA
    op.execute(text_table)
    op.execute(
        "INSERT INTO search_text (item_id, sort_key, title, body, meta) "  # noqa: S608
        f"SELECT rowid & {ID_MASK}, rowid, title, body, meta FROM search_fts "
        f"ORDER BY rowid & {ID_MASK}"
    )
    op.execute("DROP TRIGGER IF EXISTS search_fts_item_gone")
    op.execute("DROP TABLE search_fts")
    op.execute(external_fts)
    op.execute(_INDEX_ALL)  # before the triggers, which would index every row a second time
    for trigger in SQLITE_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    """Put the documents back into FTS5's own content (SQLite)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("search_fts_item_gone", "search_text_added", "search_text_gone"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE search_fts")
    for statement in SQLITE_SCHEMA_0010:
        op.execute(statement)
    op.execute(_INDEX_ALL)
    op.execute("DROP TABLE search_text")
