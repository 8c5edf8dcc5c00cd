"""Initial schema: sources, their polling state, items and the topics they matched.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# timestamptz on PostgreSQL; SQLite stores them naive, in UTC (see bot.storage.tables.UTCDateTime).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "sources",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("updated", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
    )
    op.create_table(
        "source_state",
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("body_hash", sa.String(64), nullable=True),
        sa.Column("last_attempt", _TIME, nullable=True),
        sa.Column("last_success", _TIME, nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_poll", _TIME, nullable=True),
        sa.Column("items_seen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_source_state_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", name="pk_source_state"),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("published", _TIME, nullable=False),
        sa.Column("first_seen", _TIME, nullable=False),
        sa.Column("language", sa.String(20), nullable=True),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_items_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("source_id", "key", name="uq_items_source_id_key"),
    )
    op.create_index("ix_items_published_first_seen_id", "items", ["published", "first_seen", "id"])
    op.create_table(
        "item_topics",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.String(100), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("matched_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name="fk_item_topics_item_id_items",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "topic_id", name="pk_item_topics"),
    )
    op.create_index("ix_item_topics_topic_id_item_id", "item_topics", ["topic_id", "item_id"])


def downgrade() -> None:
    """Drop the tables."""
    op.drop_index("ix_item_topics_topic_id_item_id", table_name="item_topics")
    op.drop_table("item_topics")
    op.drop_index("ix_items_published_first_seen_id", table_name="items")
    op.drop_table("items")
    op.drop_table("source_state")
    op.drop_table("sources")
