"""SQLAlchemy Core table of retired item keys: what the store remembers of items it removed.

It lives on `bot.storage.tables.metadata` and mirrors migration 0008. Retention deletes old item
rows but keeps each one's key here, so that an item still in its feed is not taken for new and
announced again; `last_seen` is when the key was last in the feed (or retired), and keys absent
for longer than the retention window are pruned in turn.
"""

from __future__ import annotations

from sqlalchemy import Column, PrimaryKeyConstraint, Table, Text

from bot.storage.tables import UTCDateTime, metadata, source_ref

retired_keys = Table(
    "retired_keys",
    metadata,
    source_ref(nullable=False),
    Column("key", Text, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("source_id", "key"),
)
