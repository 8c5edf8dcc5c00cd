"""Relevance labels from the desk, and a feedback flag per chat.

`labels`: one verdict (relevant or not) per person and item, with its own copy of the item's text
so that it outlives item retention (see bot.storage.label_tables). `chats.feedback`: whether the
chat's messages carry the relevant / not relevant buttons; NULL follows the default (on in
operators' private chats, else BOT_FEEDBACK_DEFAULT).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# timestamptz on PostgreSQL; SQLite stores them naive, in UTC (see bot.storage.tables.UTCDateTime).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the labels table; add the chats' feedback flag."""
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("feedback", sa.Boolean(), nullable=True))
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_ref", sa.String(300), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.String(100), nullable=True),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(35), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("published", _TIME, nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("user_name", sa.Text(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("updated", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_labels"),
    )
    op.create_index("uq_labels_item_ref_who", "labels", ["item_ref", "who"], unique=True)
    op.create_index("ix_labels_updated", "labels", ["updated"])
    op.create_index("ix_labels_item_id_chat_id", "labels", ["item_id", "chat_id"])


def downgrade() -> None:
    """Drop the labels (the desk's verdicts are lost) and the flag."""
    op.drop_table("labels")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("feedback")
