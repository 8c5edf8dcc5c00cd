"""Telegram wiring for `run`: the delivery worker, operator alerts, command handlers, the daily
review job, the webhook route and the leader lease, built from the settings and the runtime parts.

Only `bot.app` imports this module; it does not import `bot.app` back: the runtime arrives as
`bot.app.runtime.Runtime` and the clock as an argument.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any, Protocol

from telegram.ext import BaseHandler

from bot.app.runtime import Runtime
from bot.config import Settings
from bot.errors import ConfigError
from bot.messengers.base import Messenger
from bot.operator.alerts import AlertPolicy, ConfigAlerts, SourceAlerts
from bot.operator.label_retention import keep_labels
from bot.polling.scheduler import SourceScheduler
from bot.storage.labels import LabelStore
from bot.storage.leases import LeaseStore
from bot.telegram import app as telegram_app
from bot.telegram import webhook as telegram_webhook
from bot.telegram.admin import make_admin_handlers
from bot.telegram.article_command import make_article_handlers
from bot.telegram.commands import COMMANDS, make_handlers
from bot.telegram.delivery import DeliveryWorker, Policy, Sender
from bot.telegram.feedback import Buttons, FeedbackPolicy
from bot.telegram.feedback_handlers import make_feedback_handlers
from bot.telegram.leader import Leadership
from bot.telegram.messenger import TelegramMessenger, TelegramSender
from bot.telegram.operators import AdminNotifier
from bot.telegram.pacing import Pacer
from bot.telegram.replying import Replier
from bot.telegram.review_commands import REVIEW_COMMANDS, make_review_handlers
from bot.telegram.review_job import ReviewJob
from bot.web.handlers import TelegramWebhook
from bot.web.metrics import CountingSender
from bot.web.service import WebService

Clock = Callable[[], datetime]


class MessengerSlot(Protocol):
    """Where the pipeline's announcements go; set here once the delivery worker exists."""

    target: Messenger | None


async def start_telegram(
    stack: AsyncExitStack,
    settings: Settings,
    rt: Runtime,
    scheduler: SourceScheduler,
    messenger: MessengerSlot,
    topic_names: dict[str, str],
    web: WebService | None,
    *,
    clock: Clock,
) -> tuple[Callable[[ConfigError], Awaitable[None]], Leadership]:
    """Start Telegram for `run`; returns the config-error hook (alerts operators) and the lease.

    Everything started is stopped by `stack` in reverse.
    """
    assert settings.telegram_bot_token is not None  # noqa: S101 (checked by the caller)
    token = settings.telegram_bot_token.get_secret_value()
    application = telegram_app.build_application(
        token, base_url=settings.telegram_api_base_url, handlers=[]
    )
    sender: Sender = TelegramSender(application.bot, link_previews=settings.link_previews)
    # One pacer for announcements and command answers: they share each chat's budget.
    pacer = Pacer()
    replier = Replier(application.bot, pacer)
    labels, buttons = _start_feedback(stack, application, settings, rt, clock)
    worker = _build_worker(settings, rt, sender, pacer, topic_names, web, clock, buttons)
    messenger.target = TelegramMessenger(application.bot, worker)
    config_alerts = _start_alerts(application, settings, rt, scheduler)

    def default_topics() -> list[str]:
        return [t.id for t in rt.live.current.topics if t.default]

    # Operators' handlers come first: they answer operators and let everyone else fall through.
    application.add_handlers(
        _command_handlers(settings, rt, scheduler, worker, replier, default_topics, clock, labels)
    )
    review = ReviewJob(
        rt.chats,
        rt.stories,
        sender,
        topic_names=lambda: {t.id: t.name for t in rt.live.current.topics},
        tz=settings.timezone,
        clock=clock,
    )
    hour, minute = settings.digest_time
    application.add_handlers(
        make_review_handlers(
            chat_store=rt.chats,
            review=review,
            default_topics=default_topics,
            clock=clock,
            review_time=f"{hour:02d}:{minute:02d}",
        )
    )
    stack.push_async_callback(telegram_app.stop, application)
    await _start_application(application, settings, token, web)
    # Every process runs the daily review job; the one row per chat and day sends it once.
    review.start(hour, minute)
    stack.push_async_callback(review.shutdown)
    leadership = _leadership(application, settings, rt, worker, clock)
    leadership.start()
    stack.push_async_callback(leadership.stop)
    return config_alerts.on_error, leadership


def _start_feedback(
    stack: AsyncExitStack,
    application: telegram_app.BotApp,
    settings: Settings,
    rt: Runtime,
    clock: Clock,
) -> tuple[LabelStore, Buttons]:
    """Relevance buttons: the label store, the presses' and /feedback's handlers, the buttons
    delivery puts under messages, and the daily removal of old labels when it is asked for."""
    assert rt.db is not None  # noqa: S101 (open_runtime sets it)
    labels = LabelStore(rt.db)
    policy = FeedbackPolicy.of(settings.admin_ids, settings.feedback_default)
    kept = settings.keep_flagged_days
    application.add_handlers(
        make_feedback_handlers(
            labels=labels,
            policy=policy,
            admin_ids=settings.admin_ids,
            clock=clock,
            max_age=timedelta(days=kept) if kept else None,
        )
    )
    if settings.keep_labels_days is not None:
        pruning = asyncio.create_task(
            keep_labels(labels, settings.keep_labels_days, clock), name="label-retention"
        )
        stack.callback(pruning.cancel)
    return labels, Buttons(policy, labels.marks)


def _build_worker(
    settings: Settings,
    rt: Runtime,
    sender: Sender,
    pacer: Pacer,
    topic_names: dict[str, str],
    web: WebService | None,
    clock: Clock,
    buttons: Buttons,
) -> DeliveryWorker:
    """The outbox's delivery worker, counting sends on the web metrics when the web wing runs."""
    return DeliveryWorker(
        rt.chats,
        CountingSender(sender, web.metrics) if web is not None else sender,
        topic_names=topic_names,
        tz=settings.timezone,
        clock=clock,
        on_delivered=web.metrics.delivered if web is not None else None,
        pacer=pacer,
        holder=rt.holder,
        policy=_delivery_policy(settings, rt),
        buttons=buttons,
    )


def _delivery_policy(settings: Settings, rt: Runtime) -> Policy:
    # On PostgreSQL other processes store items too, and their wake() does not reach the leader's
    # worker: it looks at the outbox every 2 s instead of every 30.
    several = rt.db is not None and rt.db.dialect == "postgresql"
    return Policy(recheck=2.0 if several else 30.0, claim_ttl=settings.claim_ttl)


def _start_alerts(
    application: telegram_app.BotApp, settings: Settings, rt: Runtime, scheduler: SourceScheduler
) -> ConfigAlerts:
    """Source alerts on the scheduler's reports and config alerts on live-config changes."""
    # No memory to rebuild: each run is judged from the database (see bot.operator.alerts).
    notify = AdminNotifier(application.bot, settings.admin_ids)
    alerts = SourceAlerts(
        notify=notify,
        last_news=rt.ops.last_news,
        tz=settings.timezone,
        policy=AlertPolicy(
            failures=settings.alert_failures, silence=timedelta(seconds=settings.alert_silence)
        ),
    )
    scheduler.on_report = alerts.on_report
    config_alerts = ConfigAlerts(notify=notify)
    rt.live.subscribe(config_alerts.on_change)
    return config_alerts


def _command_handlers(
    settings: Settings,
    rt: Runtime,
    scheduler: SourceScheduler,
    worker: DeliveryWorker,
    replier: Replier,
    default_topics: Callable[[], list[str]],
    clock: Clock,
    labels: LabelStore,
) -> list[BaseHandler[Any, Any, Any]]:
    """Operators' handlers, then the article command, then everyone's commands, in that order."""
    return [
        *make_admin_handlers(
            admin_ids=settings.admin_ids,
            live=rt.live,
            store=rt.store,
            chat_store=rt.chats,
            ops=rt.ops,
            fetcher=rt.fetcher,
            tz=settings.timezone,
            clock=clock,
            next_poll=scheduler.next_poll,
            wake=worker.wake,
            overlay=rt.live.overlay,
            replier=replier,
            labels=labels,
        ),
        *make_article_handlers(admin_ids=settings.admin_ids, live=rt.live),
        *make_handlers(
            chat_store=rt.chats,
            store=rt.store,
            topics=lambda: rt.live.current.topics,
            sources=lambda: rt.live.current.sources,
            tz=settings.timezone,
            clock=clock,
            default_topics=default_topics,
            replier=replier,
            stories=rt.stories,
        ),
    ]


async def _start_application(
    application: telegram_app.BotApp, settings: Settings, token: str, web: WebService | None
) -> None:
    """Route the webhook through our HTTP server when it runs, then start PTB (not polling yet)."""
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


def _leadership(
    application: telegram_app.BotApp,
    settings: Settings,
    rt: Runtime,
    worker: DeliveryWorker,
    clock: Clock,
) -> Leadership:
    """The leader lease: the leader long-polls Telegram (without a webhook) and delivers."""

    async def lead() -> None:
        if not settings.webhook_url:
            await telegram_app.start_polling(application)
        worker.start()

    async def follow() -> None:
        await telegram_app.stop_polling(application)
        await worker.stop()

    assert rt.db is not None  # noqa: S101 (open_runtime sets it)
    return Leadership(
        LeaseStore(rt.db),
        holder=rt.holder,
        ttl=settings.leader_lease,
        clock=clock,
        on_gain=lead,
        on_lose=follow,
    )
