"""The review outbox: the daily review's messages, sent like every other message (issue 20).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# timestamptz on PostgreSQL; SQLite stores them naive, in UTC (see bot.storage.tables._TIME).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create review_outbox."""
    op.create_table(
        "review_outbox",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("thread_id", sa.BigInteger),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("updated", _TIME, nullable=False),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("last_error", sa.Text),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claim_expires", _TIME),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.chat_id"],
            name="fk_review_outbox_chat_id_chats",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_outbox"),
        sa.UniqueConstraint("chat_id", "day", "part", name="uq_review_outbox_chat_id_day_part"),
    )
    op.create_index(
        "ix_review_outbox_status_chat_id_id", "review_outbox", ["status", "chat_id", "id"]
    )


def downgrade() -> None:
    """Drop review_outbox."""
    op.drop_index("ix_review_outbox_status_chat_id_id", table_name="review_outbox")
    op.drop_table("review_outbox")
