"""An index on items (source_id, first_seen): a source's newest item is one index lookup.

Operator alerts judge silence on every good run from the source's newest stored item
(`OpsStore.last_news`); without this index that read walked every item the source still keeps.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Add the index."""
    op.create_index("ix_items_source_id_first_seen", "items", ["source_id", "first_seen"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_items_source_id_first_seen", table_name="items")
