"""The media review: stories of flagged items, edits in the outbox, chat modes, reviews sent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables; chats get a mode (instant by default)."""
    op.create_table(
        "story_items",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("assigned", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name="fk_story_items_item_id_items",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name="pk_story_items"),
    )
    op.create_index("ix_story_items_story_id", "story_items", ["story_id"])
    op.create_table(
        "digests_sent",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("stories", sa.Integer(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.chat_id"],
            name="fk_digests_sent_chat_id_chats",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "day", name="pk_digests_sent"),
    )
    op.add_column(
        "chats",
        sa.Column("mode", sa.String(10), nullable=False, server_default="instant"),
    )
    # A later report of a story edits the chat's message instead of sending a new one.
    op.add_column("outbox", sa.Column("kind", sa.String(10), nullable=False, server_default="send"))
    op.add_column("outbox", sa.Column("story_id", sa.Integer(), nullable=True))
    op.add_column("outbox", sa.Column("edited", _TIME, nullable=True))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("edited")
        batch.drop_column("story_id")
        batch.drop_column("kind")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("mode")
    op.drop_table("digests_sent")
    op.drop_index("ix_story_items_story_id", table_name="story_items")
    op.drop_table("story_items")
