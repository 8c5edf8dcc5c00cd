"""WebSub: one subscription per source whose feed advertises a hub.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# timestamptz on PostgreSQL; SQLite stores them naive, in UTC (see bot.storage.tables.UTCDateTime).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "websub_subscriptions",
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("hub", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("callback_id", sa.String(64), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=True),
        sa.Column("expires", _TIME, nullable=True),
        sa.Column("requested", _TIME, nullable=False),
        sa.Column("verified", _TIME, nullable=True),
        sa.Column("last_push", _TIME, nullable=True),
        sa.Column("pushes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_websub_subscriptions_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", name="pk_websub_subscriptions"),
        sa.UniqueConstraint("callback_id", name="uq_websub_subscriptions_callback_id"),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("websub_subscriptions")
