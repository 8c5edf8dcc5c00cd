"""Composition root: builds the parts from the config, runs them, and closes them in reverse.

`run_bot` lifecycle (one event loop): store and migrations → live config (files + operator edits)
→ HTTP client → Telegram application (when a token is set) → delivery worker → scheduler → config
watch; then wait for the stop event and shut everything down in reverse.

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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from bot.config import Config, Settings
from bot.errors import ConfigError
from bot.feeds.article import ArticleFetcher
from bot.feeds.fetch import Fetcher, make_client
from bot.messengers.base import Messenger
from bot.messengers.console import ConsoleMessenger
from bot.models import Source, StoredItem, Story
from bot.operator.alerts import AlertPolicy, ConfigAlerts, SourceAlerts
from bot.operator.live import Effective, LiveConfig
from bot.pipeline import Pipeline, SourceReport
from bot.review.stories import Grouper, Rules
from bot.runstats import log_periodically
from bot.scheduler import SourceScheduler
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.engine import make_engine, migrate
from bot.storage.items import Store
from bot.storage.leases import LeaseStore, SourceClaims, process_id
from bot.storage.ops import OpsStore
from bot.storage.overlay import OverlayStore
from bot.storage.retention import Retention, RetentionPolicy
from bot.storage.runlock import run_lock
from bot.storage.stories import StoryStore
from bot.summaries import Summaries
from bot.telegram import app as telegram_app
from bot.telegram import webhook as telegram_webhook
from bot.telegram.admin import make_admin_handlers
from bot.telegram.article_command import make_article_handlers
from bot.telegram.commands import COMMANDS, make_handlers
from bot.telegram.delivery import DeliveryWorker, Policy, Sender
from bot.telegram.leader import Leadership
from bot.telegram.messenger import TelegramMessenger, TelegramSender
from bot.telegram.pacing import Pacer
from bot.telegram.replying import Replier
from bot.telegram.review_commands import REVIEW_COMMANDS, make_review_handlers
from bot.telegram.review_job import ReviewJob
from bot.topics.matcher import compile_topics
from bot.web.handlers import TelegramWebhook
from bot.web.metrics import CountingSender
from bot.web.service import WebService, open_web

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


def story_store(db: DbAccess, settings: Settings) -> StoryStore:
    """Stories grouped with the bot's rules (window from BOT_STORY_WINDOW)."""
    window = timedelta(seconds=settings.story_window)
    return StoryStore(db, Grouper(Rules(window=window)), window=window)


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
                    fetcher,
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
        web = await _start_web(stack, settings, rt, scheduler)

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
            on_config_error, rt.leadership = await _start_telegram(
                stack, settings, rt, scheduler, messenger, topic_names, web
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


async def _start_telegram(
    stack: AsyncExitStack,
    settings: Settings,
    rt: Runtime,
    scheduler: SourceScheduler,
    messenger: _LateMessenger,
    topic_names: dict[str, str],
    web: WebService | None = None,
) -> tuple[Callable[[ConfigError], Awaitable[None]], Leadership]:
    assert settings.telegram_bot_token is not None  # noqa: S101 (checked by the caller)
    token = settings.telegram_bot_token.get_secret_value()
    application = telegram_app.build_application(
        token, base_url=settings.telegram_api_base_url, handlers=[]
    )
    sender: Sender = TelegramSender(application.bot, link_previews=settings.link_previews)
    # One pacer for announcements and command answers: they share each chat's budget.
    pacer = Pacer()
    replier = Replier(application.bot, pacer)
    worker = DeliveryWorker(
        rt.chats,
        CountingSender(sender, web.metrics) if web is not None else sender,
        topic_names=topic_names,
        tz=settings.timezone,
        clock=utc_now,
        on_delivered=web.metrics.delivered if web is not None else None,
        pacer=pacer,
        holder=rt.holder,
        policy=_delivery_policy(settings, rt),
    )
    messenger.target = TelegramMessenger(application.bot, worker)
    alerts = SourceAlerts(
        bot=application.bot,
        admin_ids=settings.admin_ids,
        clock=utc_now,
        tz=settings.timezone,
        policy=AlertPolicy(
            failures=settings.alert_failures, silence=timedelta(seconds=settings.alert_silence)
        ),
    )
    alerts.prime(await rt.store.source_states(), await rt.ops.newest_items())
    scheduler.on_report = alerts.on_report
    config_alerts = ConfigAlerts(bot=application.bot, admin_ids=settings.admin_ids)
    rt.live.subscribe(config_alerts.on_change)

    def default_topics() -> list[str]:
        return [t.id for t in rt.live.current.topics if t.default]

    # Operators' handlers come first: they answer operators and let everyone else fall through.
    application.add_handlers(
        [
            *make_admin_handlers(
                admin_ids=settings.admin_ids,
                live=rt.live,
                store=rt.store,
                chat_store=rt.chats,
                ops=rt.ops,
                fetcher=rt.fetcher,
                tz=settings.timezone,
                clock=utc_now,
                next_poll=scheduler.next_poll,
                wake=worker.wake,
                overlay=rt.live.overlay,
                replier=replier,
            ),
            *make_article_handlers(admin_ids=settings.admin_ids, live=rt.live),
            *make_handlers(
                chat_store=rt.chats,
                store=rt.store,
                topics=lambda: rt.live.current.topics,
                sources=lambda: rt.live.current.sources,
                tz=settings.timezone,
                clock=utc_now,
                default_topics=default_topics,
                replier=replier,
                stories=rt.stories,
            ),
        ]
    )
    review = ReviewJob(
        rt.chats,
        rt.stories,
        sender,
        topic_names=lambda: {t.id: t.name for t in rt.live.current.topics},
        tz=settings.timezone,
        clock=utc_now,
    )
    hour, minute = settings.digest_time
    application.add_handlers(
        make_review_handlers(
            chat_store=rt.chats,
            review=review,
            default_topics=default_topics,
            clock=utc_now,
            review_time=f"{hour:02d}:{minute:02d}",
        )
    )
    stack.push_async_callback(telegram_app.stop, application)
    if web is not None and settings.webhook_url:
        # Our HTTP server holds PORT; Telegram's posts are forwarded to PTB (bot.web.server).
        path, _ = telegram_webhook.route(
            settings.webhook_url, telegram_app.webhook_secret(token, "webhook-path")
        )
        web.set_webhook(
            TelegramWebhook(
                path,
                telegram_app.webhook_secret(token, "webhook-secret"),
                lambda data: telegram_webhook.feed_update(application, data),
            )
        )
    await telegram_app.start(
        application,
        webhook_url=settings.webhook_url,
        port=settings.port,
        serve_webhook=web is None,
        commands=(*COMMANDS, *REVIEW_COMMANDS),
        poll=False,
    )
    # Every process runs the daily review job; the one row per chat and day sends it once.
    review.start(hour, minute)
    stack.push_async_callback(review.shutdown)

    async def lead() -> None:
        if not settings.webhook_url:
            await telegram_app.start_polling(application)
        worker.start()

    async def follow() -> None:
        await telegram_app.stop_polling(application)
        await worker.stop()

    assert rt.db is not None  # noqa: S101 (open_runtime sets it)
    leadership = Leadership(
        LeaseStore(rt.db),
        holder=rt.holder,
        ttl=settings.leader_lease,
        clock=utc_now,
        on_gain=lead,
        on_lose=follow,
    )
    leadership.start()
    stack.push_async_callback(leadership.stop)
    return config_alerts.on_error, leadership


def _delivery_policy(settings: Settings, rt: Runtime) -> Policy:
    # On PostgreSQL other processes store items too, and their wake() does not reach the leader's
    # worker: it looks at the outbox every 2 s instead of every 30.
    several = rt.db is not None and rt.db.dialect == "postgresql"
    return Policy(recheck=2.0 if several else 30.0, claim_ttl=settings.claim_ttl)


async def _start_web(
    stack: AsyncExitStack, settings: Settings, rt: Runtime, scheduler: SourceScheduler
) -> WebService | None:
    """The HTTP wing on BOT_HTTP_PORT, and on PORT in webhook mode; None when neither is set."""
    binds: list[tuple[str, int]] = []
    webhook = settings.webhook_url and settings.telegram_bot_token and settings.port is not None
    if webhook and settings.port is not None:
        binds.append(("", settings.port))  # every interface: the platform routes to PORT
    if settings.http_port is not None and not (webhook and settings.http_port == settings.port):
        binds.append((settings.http_host, settings.http_port))
    if not binds or rt.db is None:
        return None
    try:
        web = await open_web(
            db=rt.db,
            store=rt.store,
            scheduler=scheduler,
            topics=lambda: rt.live.current.topics,
            sources=lambda: rt.live.current.sources,
            binds=binds,
            public_url=settings.public_url,
            tz=settings.timezone,
            clock=utc_now,
            # Without Telegram there is no lease: a lone console process leads itself.
            leader=lambda: rt.leadership is None or rt.leadership.is_leader,
        )
    except OSError as exc:
        where = ", ".join(f"{host or '*'}:{port}" for host, port in binds)
        raise ConfigError(
            [f"environment: BOT_HTTP_PORT/PORT: cannot listen on {where} ({exc.strerror or exc})"]
        ) from exc
    stack.push_async_callback(web.close)
    return web


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


async def latest(config: Config, *, n: int, topic: str | None) -> list[Story]:
    """The newest stories (each once, with its outlets), newest first."""
    engine = make_engine(config.settings.database_url)
    try:
        await migrate(engine)
        stories = story_store(DbAccess(engine), config.settings)
        return await stories.stories(limit=n, topics=[topic] if topic else None)
    finally:
        await engine.dispose()


async def review_stories(
    config: Config, *, topic: str, since: datetime, until: datetime
) -> list[Story]:
    """Stories of `topic` with a report published in [since, until), for the review."""
    engine = make_engine(config.settings.database_url)
    try:
        await migrate(engine)
        stories = story_store(DbAccess(engine), config.settings)
        return await stories.stories(since=since, until=until, topics=[topic])
    finally:
        await engine.dispose()
