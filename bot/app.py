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
from bot.feeds.fetch import Fetcher, make_client
from bot.messengers.base import Messenger
from bot.messengers.console import ConsoleMessenger
from bot.models import Source, StoredItem
from bot.operator.alerts import AlertPolicy, ConfigAlerts, SourceAlerts
from bot.operator.live import Effective, LiveConfig
from bot.pipeline import Pipeline, SourceReport
from bot.scheduler import SourceScheduler
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.engine import make_engine, migrate
from bot.storage.items import Store
from bot.storage.leases import LeaseStore, SourceClaims, process_id
from bot.storage.ops import OpsStore
from bot.storage.overlay import OverlayStore
from bot.storage.runlock import run_lock
from bot.telegram import app as telegram_app
from bot.telegram.admin import make_admin_handlers
from bot.telegram.commands import make_handlers
from bot.telegram.delivery import DeliveryWorker, Policy
from bot.telegram.leader import Leadership
from bot.telegram.messenger import TelegramMessenger, TelegramSender
from bot.topics.matcher import compile_topics

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 3.0  # seconds for polls in flight; with Telegram's own stop, well within 10 s


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
class Runtime:
    """The long-lived parts shared by `run` and `fetch --once`."""

    store: Store
    chats: ChatStore
    ops: OpsStore
    live: LiveConfig
    fetcher: Fetcher
    pipeline: Pipeline
    db: DbAccess | None = None
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
        # Flagged items enter the outbox in the transaction that stores them; without Telegram
        # there is nobody to deliver to, so nothing is queued.
        hooks = [chats.enqueue] if settings.telegram_bot_token else []
        store = Store(db, on_flagged=hooks)
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
        )
        yield Runtime(
            store,
            chats,
            OpsStore(db, on_flagged=hooks),
            live,
            fetcher,
            pipeline,
            db,
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
                stack, settings, rt, scheduler, messenger, topic_names
            )
            where = "Telegram"

        sources = rt.live.current.sources
        scheduler.start(sources, await rt.store.source_states())
        stack.push_async_callback(scheduler.shutdown, SHUTDOWN_GRACE)
        watch = asyncio.create_task(rt.live.watch(on_error=on_config_error), name="config-watch")
        stack.callback(watch.cancel)
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
) -> tuple[Callable[[ConfigError], Awaitable[None]], Leadership]:
    assert settings.telegram_bot_token is not None  # noqa: S101 (checked by the caller)
    token = settings.telegram_bot_token.get_secret_value()
    application = telegram_app.build_application(
        token, base_url=settings.telegram_api_base_url, handlers=[]
    )
    worker = DeliveryWorker(
        rt.chats,
        TelegramSender(application.bot, link_previews=settings.link_previews),
        topic_names=topic_names,
        tz=settings.timezone,
        clock=utc_now,
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
            ),
            *make_handlers(
                chat_store=rt.chats,
                store=rt.store,
                topics=lambda: rt.live.current.topics,
                sources=lambda: rt.live.current.sources,
                tz=settings.timezone,
                clock=utc_now,
                default_topics=default_topics,
            ),
        ]
    )
    stack.push_async_callback(telegram_app.stop, application)
    await telegram_app.start(
        application, webhook_url=settings.webhook_url, port=settings.port, poll=False
    )

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


async def latest(config: Config, *, n: int, topic: str | None) -> list[StoredItem]:
    """The newest flagged items, newest first."""
    async with open_store(config.settings) as store:
        return await store.latest(n, topics=[topic] if topic else None)
