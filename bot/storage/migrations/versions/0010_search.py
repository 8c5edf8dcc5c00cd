"""Archive search and personal alerts: the full-text index (built for the items already stored),
saved searches and which of them matched an item for a chat.

SQLite gets an FTS5 table and a trigger that deletes an item's row with the item; PostgreSQL a
tsvector table (cascading from items) with a GIN index. See bot/storage/search_tables.py.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.search_index import POSTGRES_SCHEMA, SQLITE_SCHEMA_0010, backfill
from bot.topics.folding import normalize

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables and the index, and index every stored item."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.chat_id"], name="fk_alerts_chat_id_chats", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_chat_id_id", "alerts", ["chat_id", "id"])
    op.create_table(
        "alert_hits",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("queries", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_alert_hits_item_id_items", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.chat_id"],
            name="fk_alert_hits_chat_id_chats",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "chat_id", name="pk_alert_hits"),
    )
    bind = op.get_bind()
    schema = POSTGRES_SCHEMA if bind.dialect.name == "postgresql" else SQLITE_SCHEMA_0010
    for statement in schema:
        op.execute(statement)
    backfill(bind, normalize, at_0010=True)  # 0014 adds the pair keys, 0015 moves the text


def downgrade() -> None:
    """Drop the index and the tables (saved searches are lost)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS search_docs")
    else:
        op.execute("DROP TRIGGER IF EXISTS search_fts_item_gone")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("alert_hits")
    op.drop_index("ix_alerts_chat_id_id", table_name="alerts")
    op.drop_table("alerts")
