"""SQLAlchemy Core table of operator config changes: the edit log that is also the audit trail.

It lives on `bot.storage.tables.metadata` and mirrors migration 0003. Each row is one change: an operator
edit (its `edit` column holds the edit as data, replayed over the config files), an undo (`undoes`
names the row it reverted) or a change recorded for another part (a channel added: `edit` is
NULL). The effective config is the files plus every row with an edit that is not `undone`.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Integer, String, Table, Text

from bot.storage.tables import UTCDateTime, metadata

config_changes = Table(
    "config_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),  # "telegram:<user id>" or "cli:<os user>"
    Column("action", String(40), nullable=False),  # "addterm", "undo", "addchannel", …
    Column("target", Text, nullable=False),  # "source caliber-az", "azerbaijan-iran/azerbaijan"
    Column("summary", Text, nullable=False),  # one line for people
    Column("edit", JSON(none_as_null=True)),  # replayed over the files; NULL: undo, recorded
    Column("before", JSON),
    Column("after", JSON),
    Column("undone", Boolean, nullable=False, default=False),
    Column("undoes", Integer),  # the row an "undo" reverted
)
