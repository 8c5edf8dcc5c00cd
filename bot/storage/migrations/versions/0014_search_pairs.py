"""Word-pair keys in PostgreSQL's search documents (bot/storage/search_pairs.py), so that a
phrase query is answered from the GIN index; computed for the documents already stored.

SQLite needs none (FTS5 keeps positions): nothing changes there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from bot.storage.search_pairs import add_pairs

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Create search_pairs() and add the keys to every document (PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        add_pairs(op.get_bind())


def downgrade() -> None:
    """Leave the keys (harmless to the older code) but drop nothing a document needs."""
