"""SQLAlchemy Core table of WebSub subscriptions: one per source whose feed advertises a hub.

It lives on `bot.storage.tables.metadata` and mirrors migration 0007. `callback_id` is the random
last segment of the callback URL the hub calls (so a callback names its subscription and cannot
be guessed); `secret` signs the hub's pushes (X-Hub-Signature). `state` moves from "requested"
to "active" when the hub verifies our intent, or to "denied" when it refuses.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from bot.storage.tables import UTCDateTime, metadata, source_ref

REQUESTED = "requested"
ACTIVE = "active"
DENIED = "denied"

websub_subscriptions = Table(
    "websub_subscriptions",
    metadata,
    source_ref(primary_key=True),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("callback_id", String(64), nullable=False, unique=True),
    Column("secret", String(128), nullable=False),
    Column("state", String(20), nullable=False),  # requested | active | denied
    Column("lease_seconds", Integer),  # as granted by the hub
    Column("expires", UTCDateTime),  # verified + lease
    Column("requested", UTCDateTime, nullable=False),  # our latest (re)subscription request
    Column("verified", UTCDateTime),
    Column("last_push", UTCDateTime),
    Column("pushes", Integer, nullable=False, default=0),
)
