"""The SQLite search index's vocabulary (bot/storage/search_words.py), filled from the index.

A prefix query is then spelled out as the stored words it stands for, which FTS5 reads lazily,
newest first. PostgreSQL needs no vocabulary: nothing changes there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from bot.storage.search_words import SCHEMA, fill_from_index

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Create search_words (SQLite) and record every word the index holds."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SCHEMA)
        fill_from_index(op.get_bind())


def downgrade() -> None:
    """Drop search_words (SQLite)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_words")
