"""SQLAlchemy Core table of the desk's relevance labels (migration 0011).

A label is one person's verdict on one item: relevant or not. It keeps its own copy of the item's
text (title, summary, language, outlet, URL, publication time, the topics it was pushed for), so it
outlives the item when retention removes it; `item_id` is kept only to join while the item exists
and is not a foreign key. `item_ref` ("<source id>/<item key>", or the `id` of an imported line)
names the item for good; `who` names the person ("telegram:<user id>", or "import:<file's
voter>"): one label per (item_ref, who), so pressing again changes the verdict, never adds one.
The chat a label came from, the user id and the person's display name are kept, but leave the
database only in `labels export --with-people`.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from bot.storage.tables import UTCDateTime, metadata

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_ref", String(300), nullable=False),
    Column("who", String(200), nullable=False),
    Column("relevant", Boolean, nullable=False),
    Column("item_id", Integer),  # the items row while it exists (not a foreign key)
    Column("source_id", String(100)),
    Column("source_name", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("lang", String(35)),
    Column("url", Text),
    Column("published", UTCDateTime),
    Column("topics", JSON, nullable=False),  # topic ids the item was pushed for
    Column("user_id", BigInteger),
    Column("user_name", Text),
    Column("chat_id", BigInteger),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),  # the verdict's time (a change renews it)
    # One verdict per person and item: a second press updates it (ON CONFLICT … DO UPDATE).
    Index("uq_labels_item_ref_who", "item_ref", "who", unique=True),
    # --since, /quality's window and BOT_KEEP_LABELS_DAYS read by time.
    Index(None, "updated"),
    # A message's marks: the verdicts of one item in one chat.
    Index(None, "item_id", "chat_id"),
)
