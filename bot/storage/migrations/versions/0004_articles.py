"""The review summary of a flagged item (lead sentence plus the sentences with its terms).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Add the nullable column (items stored before it keep their feed text as the summary)."""
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("review_summary", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("items") as batch:
        batch.drop_column("review_summary")
