"""The long-lived parts that `bot.app.main` builds once, shared by `run` and `fetch --once`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.feeds.article import ArticleFetcher
from bot.feeds.fetch import Fetcher
from bot.operator.live import LiveConfig
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.ops import OpsStore
from bot.storage.outbox import Outbox
from bot.storage.retention import Retention
from bot.storage.stories import StoryStore


@dataclass(frozen=True, slots=True)
class Runtime:
    """The database, its stores, the live config and the fetchers: built once, never replaced."""

    db: DbAccess
    store: Store
    chats: ChatStore
    outbox: Outbox
    ops: OpsStore
    stories: StoryStore
    live: LiveConfig
    fetcher: Fetcher
    articles: ArticleFetcher
    retention: Retention
    # This process's name in claims and leases. SQLite has one `run` at a time (the run lock),
    # so there it is fixed: a restart after a crash takes its claims straight back.
    holder: str = "sqlite-run"
