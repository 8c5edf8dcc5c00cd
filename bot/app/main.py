"""Composition root: builds the parts from the config, runs them, and closes them in reverse.

`run_bot` lifecycle (one event loop): store and migrations → live config (files + operator edits)
→ HTTP client → Telegram application (when a token is set) → delivery worker → scheduler → config
watch; then wait for the stop event and shut everything down in reverse. The Telegram wiring
lives in `bot.app.telegram`, the HTTP wing's in `bot.app.web`.

Several processes may `run` on one PostgreSQL database: sources are claimed before each poll,
outbox rows before each send, and one process (the leader) long-polls Telegram and sends
(`bot.storage.leases`, `bot.telegram.leader`). On SQLite one `run` holds the file
(`bot.storage.runlock`); its claims and lease carry a fixed name, so a restart after a crash
takes them straight back.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import TextIO

from bot.app.queries import story_store
from bot.app.runtime import Runtime
from bot.app.telegram import start_telegram
from bot.app.web import start_web
from bot.config import Config, Settings
from bot.errors import ConfigError
from bot.feeds.article import ArticleFetcher, article_client
from bot.feeds.fetch import Fetcher, make_client
from bot.messengers.base import Messenger
from bot.messengers.console import ConsoleMessenger
from bot.models import Source, StoredItem
from bot.operator.live import Effective, LiveConfig
from bot.polling.pipeline import Pipeline, SourceReport
from bot.polling.scheduler import SourceScheduler
from bot.polling.summaries import Summaries
from bot.runstats import log_periodically
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.engine import make_engine, migrate
from bot.storage.items import Store
from bot.storage.leases import SourceClaims, process_id
from bot.storage.ops import OpsStore
from bot.storage.overlay import OverlayStore
from bot.storage.retention import Retention, RetentionPolicy
from bot.storage.runlock import run_lock
from bot.topics.matcher import compile_topics

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 3.0  # seconds for polls in flight; with Telegram's own stop, well within 10 s
STATS_INTERVAL = 60.0  # seconds between "stats: tasks=… fds=… rss=…" log lines


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


def _article_fetcher(stack: AsyncExitStack, settings: Settings) -> Fetcher:
    """Article pages get a client of their own: one that connects only to public addresses
    (`bot.feeds.article.article_client`), where feeds, which the operator chose, may be internal."""
    client = article_client(
        timeout=settings.fetch_timeout,
        allow_private=settings.allow_private_urls,
        max_connections=settings.fetch_concurrency,
    )
    stack.push_async_callback(client.aclose)
    return Fetcher(
        client,
        max_bytes=settings.max_body_bytes,
        max_connections=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
    )


@asynccontextmanager
async def open_runtime(config: Config, messenger: Messenger) -> AsyncIterator[Runtime]:
    """Database, live config (files + operator edits), HTTP client and pipeline; closed in reverse."""
    settings = config.settings
    async with AsyncExitStack() as stack:
        engine = make_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        await migrate(engine)
        db = DbAccess(engine)  # one per engine: every store's SQLite writers share its lock
        chats = ChatStore(db)
        stories = story_store(db, settings)
        # Matched items get their story, then flagged ones enter the outbox, in the transaction
        # that stores them; without Telegram there is nobody to deliver to, so nothing is queued.
        hooks = [chats.enqueue] if settings.telegram_bot_token else []
        store = Store(db, on_flagged=hooks, on_matched=[stories.assign])
        live = LiveConfig(config_dir=settings.config_dir, overlay=OverlayStore(db), clock=utc_now)
        effective = await live.load()
        await store.sync_sources(effective.sources)
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
        pipeline = Pipeline(
            fetcher=fetcher,
            store=store,
            matcher=compile_topics(effective.topics),
            messenger=messenger,
            clock=utc_now,
            max_backoff=settings.max_backoff,
            summaries=Summaries(
                articles=ArticleFetcher(
                    _article_fetcher(stack, settings),
                    timeout=settings.fetch_timeout,
                    allow_private=settings.allow_private_urls,
                ),
                limit=settings.summary_chars,
                timeout=settings.fetch_timeout,
            ),
        )
        retention = Retention(db, RetentionPolicy(settings.keep_days, settings.keep_flagged_days))
        yield Runtime(
            store,
            chats,
            OpsStore(db, on_flagged=hooks),
            stories,
            live,
            fetcher,
            pipeline,
            db,
            retention,
            holder="sqlite-run" if db.dialect == "sqlite" else process_id(),
        )


class _LateMessenger:
    """Forwards to a messenger chosen after the pipeline is built (Telegram needs the worker)."""

    def __init__(self) -> None:
        self.target: Messenger | None = None

    async def announce(self, items: Sequence[StoredItem]) -> None:
        if self.target is not None:
            await self.target.announce(items)


async def run_bot(config: Config, *, stop: asyncio.Event, stdout: TextIO = sys.stdout) -> None:
    """Poll every enabled source on its schedule and announce flagged items until `stop` is set."""
    settings = config.settings
    messenger = _LateMessenger()
    async with AsyncExitStack() as stack:
        stack.enter_context(run_lock(settings.database_url, command="run"))
        rt = await stack.enter_async_context(open_runtime(config, messenger))
        topic_names = {t.id: t.name for t in rt.live.current.topics}
        assert rt.db is not None  # noqa: S101 (open_runtime sets it)
        scheduler = SourceScheduler(
            rt.pipeline,
            clock=utc_now,
            claims=SourceClaims(rt.db),
            holder=rt.holder,
            claim_ttl=settings.claim_ttl,
            max_running=2 * settings.fetch_concurrency,  # fetch, and parse or store, overlap
        )
        web = await start_web(
            stack,
            settings,
            db=rt.db,
            stories=rt.stories,
            live=rt.live,
            scheduler=scheduler,
            clock=utc_now,
            # Without Telegram there is no lease: a lone console process leads itself.
            leader=lambda: rt.leadership is None or rt.leadership.is_leader,
        )

        async def on_change(effective: Effective) -> None:
            await rt.store.sync_sources(effective.sources)
            rt.pipeline.matcher = compile_topics(effective.topics)
            scheduler.sync(effective.sources)
            log.info(
                "config changed: %d sources, %d topics",
                len(effective.sources),
                len(effective.topics),
            )

        rt.live.subscribe(on_change)
        on_config_error: Callable[[ConfigError], Awaitable[None]] = _log_config_error
        if settings.telegram_bot_token is None:
            messenger.target = ConsoleMessenger(
                stdout, tz=settings.timezone, topic_names=topic_names
            )
            where = "the console (no TELEGRAM_BOT_TOKEN)"
        else:
            on_config_error, rt.leadership = await start_telegram(
                stack, settings, rt, scheduler, messenger, topic_names, web, clock=utc_now
            )
            where = "Telegram"
        if web is not None:
            scheduler.on_report = web.report_hook(scheduler.on_report)

        sources = rt.live.current.sources
        scheduler.start(sources, await rt.store.source_states())
        stack.push_async_callback(scheduler.shutdown, SHUTDOWN_GRACE)
        watch = asyncio.create_task(rt.live.watch(on_error=on_config_error), name="config-watch")
        stack.callback(watch.cancel)
        stats = asyncio.create_task(log_periodically(STATS_INTERVAL), name="stats")
        stack.callback(stats.cancel)
        if rt.retention is not None:
            prune = asyncio.create_task(rt.retention.daily(utc_now), name="retention")
            stack.callback(prune.cancel)
        log.info(
            "polling %d of %d sources; announcing to %s; process %s",
            sum(1 for s in sources if s.enabled),
            len(sources),
            where,
            rt.holder,
        )
        await stop.wait()
        log.info("stopping")


async def _log_config_error(error: ConfigError) -> None:
    log.error("config files have errors; the last good config keeps running:\n%s", error)


async def fetch_once(
    config: Config, *, source_id: str | None = None, stdout: TextIO = sys.stdout
) -> list[SourceReport]:
    """One pass over the enabled sources (or just `source_id`, enabled or not), with operator
    edits applied; flagged items go to the console (Telegram delivery is `run`'s job)."""
    messenger = ConsoleMessenger(
        stdout, tz=config.settings.timezone, topic_names={t.id: t.name for t in config.topics}
    )
    with run_lock(config.settings.database_url, command="fetch --once"):
        return await _fetch_once(config, messenger, source_id)


async def _fetch_once(
    config: Config, messenger: Messenger, source_id: str | None
) -> list[SourceReport]:
    async with open_runtime(config, messenger) as rt:
        sources: list[Source] = [
            s for s in rt.live.current.sources if (s.id == source_id if source_id else s.enabled)
        ]
        if source_id and not sources:
            raise ConfigError([f"unknown source {source_id!r}; see `python -m bot config show`"])
        return await rt.pipeline.run_all(sources)
