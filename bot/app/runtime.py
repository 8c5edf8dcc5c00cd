"""The long-lived parts that `app` builds once and its Telegram and web wiring use."""

from __future__ import annotations

from dataclasses import dataclass

from bot.feeds.fetch import Fetcher
from bot.operator.live import LiveConfig
from bot.polling.pipeline import Pipeline
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.ops import OpsStore
from bot.storage.retention import Retention
from bot.storage.stories import StoryStore
from bot.telegram.leader import Leadership


@dataclass(slots=True)
class Runtime:
    """The long-lived parts shared by `run` and `fetch --once`."""

    store: Store
    chats: ChatStore
    ops: OpsStore
    stories: StoryStore
    live: LiveConfig
    fetcher: Fetcher
    pipeline: Pipeline
    db: DbAccess | None = None
    retention: Retention | None = None
    # This process's name in claims and leases. SQLite has one `run` at a time (the run lock),
    # so there it is fixed: a restart after a crash takes its claims straight back.
    holder: str = "sqlite-run"
    # Set by `run` with Telegram: `leadership.is_leader` says whether this process leads.
    leadership: Leadership | None = None
