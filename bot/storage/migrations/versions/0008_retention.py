"""Retention: the keys of removed items, so that an item still in its feed is not new again,
and when each source's body was last parsed (keys absent from it may be pruned).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# timestamptz on PostgreSQL; SQLite stores them naive, in UTC (see bot.storage.tables.UTCDateTime).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the table; note when each source's body was last parsed."""
    with op.batch_alter_table("source_state") as batch:
        batch.add_column(sa.Column("last_parsed", _TIME, nullable=True))
    op.create_table(
        "retired_keys",
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_retired_keys_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "key", name="pk_retired_keys"),
    )


def downgrade() -> None:
    """Drop the table (the keys of removed items are forgotten) and the column."""
    op.drop_table("retired_keys")
    with op.batch_alter_table("source_state") as batch:
        batch.drop_column("last_parsed")
