"""SQLAlchemy Core tables of the store, as the migrations leave them.

The migrations in `bot/migrations/versions/` create and alter the real schema; these definitions
mirror them for queries (and for `alembic revision --autogenerate`). Timestamps go through
`UTCDateTime`, so both backends give back timezone-aware UTC values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

# Stable constraint names, so that later migrations can refer to them on both backends.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values (their zone is a guess); store UTC, naive on SQLite."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store; pass UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC datetime whatever the backend returned."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING)

sources = Table(
    "sources",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),  # as configured; false once it leaves the config
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
)


def source_ref(**kw: Any) -> Column[str]:
    """The `source_id` column of a table that belongs to a source (deleted with it)."""
    return Column("source_id", String(100), ForeignKey("sources.id", ondelete="CASCADE"), **kw)


def item_ref(**kw: Any) -> Column[int]:
    """The `item_id` column of a table that belongs to an item (deleted with it)."""
    return Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), **kw)


source_state = Table(
    "source_state",
    metadata,
    source_ref(primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_attempt", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_poll", UTCDateTime),
    Column("items_seen", Integer, nullable=False, default=0),
    # The last good fetch whose body was parsed (not a 304): retired keys absent from it may go.
    Column("last_parsed", UTCDateTime),
    # The process polling the source now, and until when (migration 0006; see storage/leases.py).
    Column("claimed_by", String(200)),
    Column("claim_expires", UTCDateTime),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(100), primary_key=True),  # e.g. "telegram-leader"
    Column("holder", String(200), nullable=False),
    Column("expires", UTCDateTime, nullable=False),
    Column("acquired", UTCDateTime, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    source_ref(nullable=False),
    Column("key", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("language", String(20)),
    Column("guid", Text),
    # What delivery shows instead of the feed's teaser (bot.review.summary); NULL: not computed.
    Column("review_summary", Text),
    UniqueConstraint("source_id", "key"),
    # `latest`: newest first, ties broken by first sight then id.
    Index(None, "published", "first_seen", "id"),
    # A source's newest item (`OpsStore.last_news`, on every good run): one index lookup.
    Index(None, "source_id", "first_seen"),
)

item_topics = Table(
    "item_topics",
    metadata,
    item_ref(nullable=False),
    Column("topic_id", String(100), nullable=False),
    Column("explanation", JSON, nullable=False),  # {"hits": [{group, term, field, text}, ...]}
    Column("matched_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("item_id", "topic_id"),
    # `latest --topic T`: the items of one topic without scanning every match.
    Index(None, "topic_id", "item_id"),
)
