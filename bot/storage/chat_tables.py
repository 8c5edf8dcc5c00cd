"""SQLAlchemy Core tables of Telegram delivery: chats, their topic subscriptions and the outbox.

They live on `bot.storage.tables.metadata` (same naming convention) and mirror migration 0002. The outbox
holds one row per (item, chat); its status moves from "pending" to "sent" or "dropped", never back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.storage.tables import UTCDateTime, item_ref, metadata

PENDING = "pending"
SENT = "sent"
DROPPED = "dropped"
SEND = "send"
EDIT = "edit"
MAX_ERROR = 1000  # characters of a failure reason kept on a chat or an outbox row


def chat_ref(**kw: Any) -> Column[int]:
    """The `chat_id` column of a table that belongs to a chat (deleted with it)."""
    return Column("chat_id", BigInteger, ForeignKey("chats.chat_id", ondelete="CASCADE"), **kw)


chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),  # private | group | supergroup | channel
    Column("title", Text),
    Column("active", Boolean, nullable=False),
    Column("thread_id", BigInteger),  # forum topic the subscription was made in
    Column("added_by", BigInteger),
    Column("failures", Integer, nullable=False, default=0),  # consecutive "chat unavailable"
    Column("first_failure", UTCDateTime),  # start of the current run of failures
    Column("last_error", Text),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    # instant | digest | both: single messages, the daily review, or both (migration 0005)
    Column("mode", String(10), nullable=False, server_default="instant"),
    # Relevance buttons under its messages (migration 0011); NULL: the default (bot.telegram.feedback)
    Column("feedback", Boolean),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    chat_ref(nullable=False),
    Column("topic_id", String(100), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("chat_id", "topic_id"),
    # enqueue: the chats subscribed to an item's topics.
    Index(None, "topic_id", "chat_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    item_ref(nullable=False),
    chat_ref(nullable=False),
    Column("status", String(10), nullable=False),  # pending | sent | dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("message_id", BigInteger),  # Telegram's id of the delivered message
    Column("last_error", Text),
    # Migration 0005: "send" posts the item; "edit" adds it to the message already posted for
    # its story (the story's "send" row in this chat), whose `edited` is the last edit's time.
    Column("kind", String(10), nullable=False, server_default="send"),
    Column("story_id", Integer),
    Column("edited", UTCDateTime),
    # The process sending the row now, and until when (migration 0006): one sender per row.
    Column("claimed_by", String(200)),
    Column("claim_expires", UTCDateTime),
    UniqueConstraint("item_id", "chat_id"),
    # The worker: a chat's pending rows in order, and which chats have any.
    Index(None, "status", "chat_id", "id"),
)
