"""SQLAlchemy Core tables of the media review: which story each flagged item belongs to, and the
daily reviews already sent. They live on `bot.storage.tables.metadata` and mirror migration 0005.

`story_items` holds one row per flagged item: its story is the id of the story's first report
(an item that starts a story points at itself). `digests_sent` holds one row per chat and local
day: it is inserted in the transaction that queues that day's review, so a review goes out at
most once per chat and day, across restarts and processes.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from bot.storage.chat_tables import chat_ref
from bot.storage.tables import UTCDateTime, item_ref, metadata

story_items = Table(
    "story_items",
    metadata,
    item_ref(primary_key=True, autoincrement=False),
    Column("story_id", Integer, nullable=False),  # the item id of the story's first report
    Column("assigned", UTCDateTime, nullable=False),
    Index(None, "story_id"),
)

digests_sent = Table(
    "digests_sent",
    metadata,
    chat_ref(nullable=False),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD in BOT_TIMEZONE
    Column("stories", Integer, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("chat_id", "day"),
)
