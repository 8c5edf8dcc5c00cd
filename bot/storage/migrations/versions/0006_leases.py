"""Several processes on one database: claims on sources and outbox rows, and named leases.

`claimed_by` / `claim_expires` on `source_state` and `outbox` say which process is polling a source
or sending a message, and until when; a claim past its expiry is free to take, so a dead process's
work is taken over. `leases` holds named leases such as the Telegram leader's.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# timestamptz on PostgreSQL; SQLite stores them naive, in UTC (see bot.storage.tables.UTCDateTime).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the claim columns and the leases table."""
    for table in ("source_state", "outbox"):
        # Plain ADD COLUMN (nullable, no default) on both backends: no table copy on SQLite.
        op.add_column(table, sa.Column("claimed_by", sa.String(200), nullable=True))
        op.add_column(table, sa.Column("claim_expires", _TIME, nullable=True))
    op.create_table(
        "leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires", _TIME, nullable=False),
        sa.Column("acquired", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("leases")
    for table in ("outbox", "source_state"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claim_expires")
            batch.drop_column("claimed_by")
