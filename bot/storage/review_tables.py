"""The review outbox: the daily review's messages, written when a chat's review of a day is
claimed and sent like every other message (claimed by one sender, paced, retried, marked).

One row per message (a long review is several, `part` 1…n, sent in that order). The rows are
inserted in the transaction that inserts the chat's `digests_sent` row, so a crash or an outage
after the claim cannot lose them; status moves from "pending" to "sent" or "dropped", never
back. Migration 0012.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.storage.tables import UTCDateTime, metadata

review_outbox = Table(
    "review_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "chat_id",
        BigInteger,
        ForeignKey("chats.chat_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("day", String(10), nullable=False),  # the review's local day, YYYY-MM-DD
    Column("part", Integer, nullable=False),  # 1…n: the order of a long review's messages
    Column("text", Text, nullable=False),  # Telegram HTML, rendered when the review was claimed
    Column("thread_id", BigInteger),  # the forum topic the chat subscribed in
    Column("status", String(10), nullable=False),  # pending | sent | dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("message_id", BigInteger),
    Column("last_error", Text),
    Column("claimed_by", String(200)),
    Column("claim_expires", UTCDateTime),
    UniqueConstraint("chat_id", "day", "part"),
    Index(None, "status", "chat_id", "id"),
)
