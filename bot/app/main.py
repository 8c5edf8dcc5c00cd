"""Composition root: builds every part once from the config, runs them, closes them in reverse.

Every part is built with all it needs and never patched afterwards. `run_bot`, in order (one
event loop, one `AsyncExitStack`, so the way down is the way up reversed):

1. the run lock, then `open_runtime`: database (migrated), stores, live config (files +
   operator edits), the feed and article fetchers;
2. with BOT_HTTP_PORT (or PORT in webhook mode), the web metrics, which Telegram's delivery
   worker counts its sends in;
3. with a token, the Telegram side (`bot.app.telegram.build_telegram`: application, delivery
   worker, messenger, alerts, daily review, leader lease), not started; otherwise the console
   messenger;
4. the pipeline, which announces to that messenger, and the scheduler that runs it;
5. the HTTP wing (`bot.app.web`), which reads and pokes the scheduler;
6. config changes reach the pipeline (`set_matcher`) and the scheduler (`sync`);
7. Telegram starts (handlers, webhook or polling, the review job, the lease);
8. the scheduler starts with every report hook in one list (alerts, health, metrics, WebSub);
   the config watch, the stats line and retention run as tasks;
9. wait for the stop event, then everything stops in reverse.

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

from bot.app.fetchers import article_fetcher, feed_fetcher
from bot.app.queries import story_store
from bot.app.runtime import Runtime
from bot.app.telegram import TelegramParts, build_telegram, start_telegram
from bot.app.web import start_web, web_binds
from bot.config import Config
from bot.errors import ConfigError
from bot.messengers.base import Messenger
from bot.messengers.console import ConsoleMessenger
from bot.models import Source
from bot.operator.live import Effective, LiveConfig
from bot.polling.decide import SourceReport
from bot.polling.pipeline import Pipeline
from bot.polling.scheduler import ReportHook, SourceScheduler
from bot.polling.summaries import Summaries
from bot.review.alerts import compile_alerts
from bot.review.searchwords import folder
from bot.runstats import log_periodically
from bot.storage.access import DbAccess
from bot.storage.alerts import AlertPush
from bot.storage.chats import ChatStore
from bot.storage.engine import open_engine
from bot.storage.items import SavedHook, Store
from bot.storage.leases import SourceClaims, process_id
from bot.storage.ops import OpsStore
from bot.storage.outbox import Outbox
from bot.storage.overlay import OverlayStore
from bot.storage.retention import Retention, RetentionPolicy
from bot.storage.runlock import run_lock
from bot.storage.search_index import SearchIndex
from bot.storage.status import StatusStore
from bot.storage.story_joins import StoryJoins
from bot.topics.matcher import compile_topics
from bot.web.metrics import Metrics

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 3.0  # seconds for polls in flight; with Telegram's own stop, well within 10 s
STATS_INTERVAL = 60.0  # seconds between "stats: tasks=… fds=… rss=…" log lines


def utc_now() -> datetime:
    """The one real clock; everything below app receives it as an argument."""
    return datetime.now(UTC)


@asynccontextmanager
async def open_runtime(config: Config) -> AsyncIterator[Runtime]:
    """Database, stores, live config (files + operator edits) and fetchers; closed in reverse."""
    settings = config.settings
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_engine(settings.database_url))
        db = DbAccess(engine)  # one per engine: every store's SQLite writers share its lock
        outbox = Outbox(db)
        stories = story_store(db, settings, config.topics)
        # Matched items get their story, then flagged ones enter the outbox, in the transaction
        # that stores them; without Telegram there is nobody to deliver to, so nothing is queued.
        hooks = [outbox.enqueue] if settings.telegram_bot_token else []
        # Every new item is indexed for search; with Telegram, alerts push what they match.
        saved: list[SavedHook] = [SearchIndex(db.dialect, folder())]
        if settings.telegram_bot_token:
            saved.append(AlertPush(db, compile_alerts, stories.assign))
        store = Store(db, on_flagged=hooks, on_matched=[stories.assign], on_saved=saved)
        live = LiveConfig(config_dir=settings.config_dir, overlay=OverlayStore(db), clock=utc_now)
        effective = await live.load()
        await store.sync_sources(effective.sources)
        yield Runtime(
            db=db,
            store=store,
            chats=ChatStore(db),
            outbox=outbox,
            ops=OpsStore(db, on_flagged=hooks),
            stories=stories,
            live=live,
            fetcher=feed_fetcher(stack, settings),
            articles=article_fetcher(stack, settings),
            retention=Retention(
                db, RetentionPolicy(settings.keep_days, settings.keep_flagged_days)
            ),
            holder="sqlite-run" if db.dialect == "sqlite" else process_id(),
        )


def build_pipeline(config: Config, rt: Runtime, messenger: Messenger) -> Pipeline:
    """The poll of one source, judging with the live topics and announcing to `messenger`."""
    settings = config.settings
    return Pipeline(
        fetcher=rt.fetcher,
        store=rt.store,
        matcher=compile_topics(rt.live.current.topics),
        messenger=messenger,
        clock=utc_now,
        max_backoff=settings.max_backoff,
        summaries=Summaries(
            articles=rt.articles, limit=settings.summary_chars, timeout=settings.fetch_timeout
        ),
    )


async def run_bot(config: Config, *, stop: asyncio.Event, stdout: TextIO = sys.stdout) -> None:
    """Poll every enabled source on its schedule and announce flagged items until `stop` is set."""
    settings = config.settings
    async with AsyncExitStack() as stack:
        stack.enter_context(run_lock(settings.database_url, command="run"))
        rt = await stack.enter_async_context(open_runtime(config))
        topic_names = {t.id: t.name for t in rt.live.current.topics}
        telegram: TelegramParts | None = None

        def is_leader() -> bool:
            # Read at scrape time, after the Telegram side below exists. Without Telegram there
            # is no lease: a lone console process leads itself.
            return telegram is None or telegram.leadership.is_leader

        binds = web_binds(settings)
        metrics = (
            Metrics(
                StatusStore(rt.db),
                clock=utc_now,
                leader=is_leader,
                sources=lambda: rt.live.current.sources,
            )
            if binds
            else None
        )
        if settings.telegram_bot_token:
            telegram = build_telegram(settings, rt, topic_names, metrics=metrics, clock=utc_now)
        messenger = telegram.messenger if telegram is not None else _console(config, rt, stdout)
        pipeline = build_pipeline(config, rt, messenger)
        scheduler = SourceScheduler(
            pipeline,
            clock=utc_now,
            claims=SourceClaims(rt.db),
            holder=rt.holder,
            claim_ttl=settings.claim_ttl,
            max_running=2 * settings.fetch_concurrency,  # fetch, and parse or store, overlap
        )
        web = await start_web(
            stack,
            settings,
            binds,
            rt=rt,
            scheduler=scheduler,
            metrics=metrics,
            webhook=telegram.webhook_route(settings) if telegram is not None else None,
            clock=utc_now,
        )

        async def on_change(effective: Effective) -> None:
            await rt.store.sync_sources(effective.sources)
            pipeline.set_matcher(compile_topics(effective.topics))
            scheduler.sync(effective.sources)
            log.info(
                "config changed: %d sources, %d topics",
                len(effective.sources),
                len(effective.topics),
            )

        rt.live.subscribe(on_change)
        on_config_error: Callable[[ConfigError], Awaitable[None]] = _log_config_error
        hooks: list[ReportHook] = []
        if telegram is not None:
            await start_telegram(
                stack, settings, telegram, rt, scheduler, serve_webhook=web is None
            )
            on_config_error = telegram.config_alerts.on_error
            hooks.append(telegram.alerts.on_report)
        if web is not None:
            hooks.extend(web.report_hooks())
        await _start_polling(stack, rt, scheduler, hooks, on_config_error)
        log.info(
            "polling %d of %d sources; announcing to %s; process %s",
            sum(1 for s in rt.live.current.sources if s.enabled),
            len(rt.live.current.sources),
            "Telegram" if telegram is not None else "the console (no TELEGRAM_BOT_TOKEN)",
            rt.holder,
        )
        await stop.wait()
        log.info("stopping")


async def _start_polling(
    stack: AsyncExitStack,
    rt: Runtime,
    scheduler: SourceScheduler,
    hooks: Sequence[ReportHook],
    on_config_error: Callable[[ConfigError], Awaitable[None]],
) -> None:
    """The scheduler with its report hooks, the config watch, the stats line and retention."""
    scheduler.start(rt.live.current.sources, await rt.store.states.source_states(), on_report=hooks)
    stack.push_async_callback(scheduler.shutdown, SHUTDOWN_GRACE)
    watch = asyncio.create_task(rt.live.watch(on_error=on_config_error), name="config-watch")
    stack.callback(watch.cancel)
    stats = asyncio.create_task(log_periodically(STATS_INTERVAL), name="stats")
    stack.callback(stats.cancel)
    prune = asyncio.create_task(rt.retention.daily(utc_now), name="retention")
    stack.callback(prune.cancel)


def _console(config: Config, rt: Runtime, stdout: TextIO) -> Messenger:
    """Flagged items on the console; it says when a report joins a story, which it looks up in
    the database."""
    return ConsoleMessenger(
        stdout,
        tz=config.settings.timezone,
        topic_names={t.id: t.name for t in rt.live.current.topics},
        joined=StoryJoins(rt.db).first_reports,
    )


async def _log_config_error(error: ConfigError) -> None:
    log.error("config files have errors; the last good config keeps running:\n%s", error)


async def fetch_once(
    config: Config, *, source_id: str | None = None, stdout: TextIO = sys.stdout
) -> list[SourceReport]:
    """One pass over the enabled sources (or just `source_id`, enabled or not), with operator
    edits applied; flagged items go to the console (Telegram delivery is `run`'s job)."""
    with run_lock(config.settings.database_url, command="fetch --once"):
        async with open_runtime(config) as rt:
            sources: list[Source] = [
                s
                for s in rt.live.current.sources
                if (s.id == source_id if source_id else s.enabled)
            ]
            if source_id and not sources:
                raise ConfigError(
                    [f"unknown source {source_id!r}; see `python -m bot config show`"]
                )
            messenger = _console(config, rt, stdout)
            return await build_pipeline(config, rt, messenger).run_all(sources)
