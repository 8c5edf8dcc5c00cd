"""Composition root: builds the parts from the config, runs them, and closes them in reverse."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from bot.config import Config, Settings
from bot.database import make_engine, migrate
from bot.fetch import Fetcher, make_client
from bot.filters import compile_topics
from bot.messengers.base import Messenger
from bot.messengers.console import ConsoleMessenger
from bot.models import Source, StoredItem
from bot.pipeline import Pipeline, SourceReport
from bot.scheduler import SourceScheduler
from bot.store import Store

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 5.0  # seconds for runs in flight; the whole stop stays well within 10 s


def utc_now() -> datetime:
    """The one real clock; everything below app receives it as an argument."""
    return datetime.now(UTC)


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """A migrated store on DATABASE_URL; the engine is disposed on exit."""
    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
        yield Store(engine)
    finally:
        await engine.dispose()


@dataclass(slots=True)
class Parts:
    """The long-lived parts of a running bot."""

    store: Store
    pipeline: Pipeline
    messenger: Messenger


@asynccontextmanager
async def build(
    config: Config, *, stdout: TextIO, messenger: Messenger | None = None
) -> AsyncIterator[Parts]:
    """Store, HTTP client, fetcher, matcher and pipeline, closed in reverse on exit."""
    settings = config.settings
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(open_store(settings))
        await store.sync_sources(config.sources)
        client = make_client(
            timeout=settings.fetch_timeout, max_connections=settings.fetch_concurrency
        )
        stack.push_async_callback(client.aclose)
        fetcher = Fetcher(
            client,
            max_bytes=settings.max_body_bytes,
            max_connections=settings.fetch_concurrency,
            per_host=settings.fetch_per_host,
        )
        if messenger is None:
            messenger = ConsoleMessenger(
                stdout, tz=settings.timezone, topic_names={t.id: t.name for t in config.topics}
            )
        pipeline = Pipeline(
            fetcher=fetcher,
            store=store,
            matcher=compile_topics(config.topics),
            messenger=messenger,
            clock=utc_now,
            max_backoff=settings.max_backoff,
        )
        yield Parts(store=store, pipeline=pipeline, messenger=messenger)


async def run_bot(config: Config, *, stop: asyncio.Event, stdout: TextIO = sys.stdout) -> None:
    """Poll every enabled source on its schedule until `stop` is set."""
    async with build(config, stdout=stdout) as parts:
        scheduler = SourceScheduler(parts.pipeline, clock=utc_now)
        enabled = [s for s in config.sources if s.enabled]
        scheduler.start(config.sources, await parts.store.source_states())
        log.info(
            "polling %d of %d sources; announcing to the console (no TELEGRAM_BOT_TOKEN)",
            len(enabled),
            len(config.sources),
        )
        try:
            await stop.wait()
        finally:
            log.info("stopping")
            await scheduler.shutdown(SHUTDOWN_GRACE)


async def fetch_once(
    config: Config, *, source_id: str | None = None, stdout: TextIO = sys.stdout
) -> list[SourceReport]:
    """One pass over the enabled sources (or just `source_id`, enabled or not)."""
    sources: list[Source] = [
        s for s in config.sources if (s.id == source_id if source_id else s.enabled)
    ]
    async with build(config, stdout=stdout) as parts:
        return await parts.pipeline.run_all(sources)


async def latest(config: Config, *, n: int, topic: str | None) -> list[StoredItem]:
    """The newest flagged items, newest first."""
    async with open_store(config.settings) as store:
        return await store.latest(n, topics=[topic] if topic else None)
