"""Telegram wiring for `run`: built first (`build_telegram`), started later (`start_telegram`).

`build_telegram` makes every Telegram part without talking to Telegram: the PTB application, the
sender and pacer, the delivery worker (counting its sends in the web metrics when the web wing
runs), the messenger the pipeline announces to, the operator alerts and the daily review job.
`start_telegram` adds the relevance buttons' and command handlers (the latter need the
scheduler), starts the daily removal of old labels when `BOT_KEEP_LABELS_DAYS` asks for it, PTB (webhook or,
on the leader, long polling), the review job and the leader lease, each stopped by the exit
stack in reverse.

Only `bot.app.main` imports this module; the runtime arrives as `bot.app.runtime.Runtime` and
the clock as an argument.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import BaseHandler

from bot.app.runtime import Runtime
from bot.config import Settings
from bot.operator.alerts import AlertPolicy, ConfigAlerts, SourceAlerts
from bot.operator.label_retention import keep_labels
from bot.polling.scheduler import SourceScheduler
from bot.storage.alerts import AlertStore
from bot.storage.delivery import DeliveryStores
from bot.storage.labels import LabelStore
from bot.storage.leases import LeaseStore
from bot.storage.overlap import FeedOverlap
from bot.storage.pace import PostingPace
from bot.storage.review_outbox import ReviewOutbox
from bot.storage.search import SearchStore
from bot.telegram import app as telegram_app
from bot.telegram import webhook as telegram_webhook
from bot.telegram.admin import ADMIN_COMMANDS, make_admin_handlers
from bot.telegram.article_command import make_article_handlers
from bot.telegram.commands import COMMANDS, SubscriberCommands, make_handlers
from bot.telegram.delivery import DeliveryWorker, Policy
from bot.telegram.feedback import Buttons, FeedbackPolicy
from bot.telegram.feedback_handlers import make_feedback_handlers
from bot.telegram.leader import Leadership
from bot.telegram.messenger import TelegramMessenger, TelegramSender
from bot.telegram.operators import AdminNotifier
from bot.telegram.pacing import Pacer
from bot.telegram.replying import Replier
from bot.telegram.review_commands import REVIEW_COMMANDS, make_review_handlers
from bot.telegram.review_job import ReviewJob
from bot.telegram.review_sender import ReviewPolicy, ReviewSender
from bot.telegram.search_commands import SEARCH_COMMANDS, make_search_handlers
from bot.telegram.sending import Sender
from bot.telegram.unknown_command import make_unknown_command_handler
from bot.web.handlers import TelegramWebhook
from bot.web.metrics import CountingSender, Metrics

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class TelegramParts:
    """The Telegram side of `run`, built and not yet started."""

    token: str
    application: telegram_app.BotApp
    worker: DeliveryWorker
    messenger: TelegramMessenger
    replier: Replier
    review: ReviewJob
    reviews: ReviewSender
    alerts: SourceAlerts
    config_alerts: ConfigAlerts
    leadership: Leadership
    clock: Clock
    labels: LabelStore  # the desk's relevance labels (bot.telegram.feedback)
    feedback: FeedbackPolicy

    def webhook_route(self, settings: Settings) -> TelegramWebhook | None:
        """Telegram's webhook path on our HTTP server (webhook mode), or None."""
        if not settings.webhook_url:
            return None
        path, _ = telegram_webhook.route(
            settings.webhook_url, telegram_app.webhook_secret(self.token, "webhook-path")
        )
        return TelegramWebhook(
            path,
            telegram_app.webhook_secret(self.token, "webhook-secret"),
            lambda data: telegram_webhook.feed_update(self.application, data),
        )


def build_telegram(
    settings: Settings,
    rt: Runtime,
    topic_names: dict[str, str],
    *,
    metrics: Metrics | None,
    clock: Clock,
) -> TelegramParts:
    """Every Telegram part of `run`, wired, nothing started."""
    assert settings.telegram_bot_token is not None  # noqa: S101 (checked by the caller)
    token = settings.telegram_bot_token.get_secret_value()
    application = telegram_app.build_application(
        token, base_url=settings.telegram_api_base_url, handlers=[]
    )
    sender: Sender = TelegramSender(application.bot, link_previews=settings.link_previews)
    # One pacer for announcements and command answers: they share each chat's budget.
    pacer = Pacer()
    labels = LabelStore(rt.db)
    feedback = FeedbackPolicy.of(settings.admin_ids, settings.feedback_default)
    buttons = Buttons(feedback, labels.marks)
    worker = _worker(settings, rt, sender, pacer, topic_names, metrics, clock, buttons)
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
    review, reviews = _daily_review(settings, rt, sender, pacer, metrics, clock)

    # The leader long-polls Telegram (without a webhook) and delivers.
    async def lead() -> None:
        if not settings.webhook_url:
            await telegram_app.start_polling(application)
        worker.start()
        reviews.start()

    async def follow() -> None:
        await telegram_app.stop_polling(application)
        await worker.stop()
        await reviews.stop()

    return TelegramParts(
        token=token,
        application=application,
        worker=worker,
        messenger=TelegramMessenger(application.bot, worker),
        replier=Replier(application.bot, pacer),
        review=review,
        reviews=reviews,
        alerts=alerts,
        config_alerts=ConfigAlerts(notify=notify),
        leadership=Leadership(
            LeaseStore(rt.db),
            holder=rt.holder,
            ttl=settings.leader_lease,
            clock=clock,
            on_gain=lead,
            on_lose=follow,
        ),
        clock=clock,
        labels=labels,
        feedback=feedback,
    )


def _daily_review(
    settings: Settings,
    rt: Runtime,
    sender: Sender,
    pacer: Pacer,
    metrics: Metrics | None,
    clock: Clock,
) -> tuple[ReviewJob, ReviewSender]:
    """The daily review's job (renders and queues) and its sender: the review goes through its
    outbox, delivered on the leader with the worker's pacer."""
    reviews = ReviewSender(
        ReviewOutbox(rt.db),
        CountingSender(sender, metrics) if metrics is not None else sender,
        pacer,
        holder=rt.holder or "local",
        clock=clock,
        policy=ReviewPolicy(recheck=_recheck(rt)),
    )
    review = ReviewJob(
        rt.chats,
        rt.stories,
        ReviewOutbox(rt.db),
        topic_names=lambda: {t.id: t.name for t in rt.live.current.topics},
        tz=settings.timezone,
        clock=clock,
        wake=reviews.wake,
    )
    return review, reviews


def _worker(
    settings: Settings,
    rt: Runtime,
    sender: Sender,
    pacer: Pacer,
    topic_names: dict[str, str],
    metrics: Metrics | None,
    clock: Clock,
    buttons: Buttons,
) -> DeliveryWorker:
    """The outbox's delivery worker, counting its sends in the web metrics when they exist."""
    return DeliveryWorker(
        DeliveryStores.on(rt.db),
        CountingSender(sender, metrics) if metrics is not None else sender,
        topic_names=topic_names,
        tz=settings.timezone,
        clock=clock,
        on_delivered=metrics.delivered if metrics is not None else None,
        pacer=pacer,
        holder=rt.holder,
        policy=Policy(recheck=_recheck(rt), claim_ttl=settings.claim_ttl),
        buttons=buttons,
    )


def _recheck(rt: Runtime) -> float:
    # On PostgreSQL other processes store items too, and their wake() does not reach the
    # leader's worker: it looks at the outbox every 2 s instead of every 30.
    return 2.0 if rt.db.dialect == "postgresql" else 30.0


async def start_telegram(
    stack: AsyncExitStack,
    settings: Settings,
    parts: TelegramParts,
    rt: Runtime,
    scheduler: SourceScheduler,
    *,
    serve_webhook: bool,
) -> None:
    """Add the handlers, start PTB, the daily review and the leader lease; `stack` stops them.

    `serve_webhook` False: our HTTP server holds PORT and forwards the webhook path to PTB.
    """
    application = parts.application
    rt.live.subscribe(parts.config_alerts.on_change)

    def default_topics() -> list[str]:
        return [t.id for t in rt.live.current.topics if t.default]

    _start_feedback(stack, settings, parts)
    # Operators' handlers come first: they answer operators and let everyone else fall through.
    application.add_handlers(_command_handlers(settings, parts, rt, scheduler, default_topics))
    hour, minute = settings.digest_time
    application.add_handlers(
        make_review_handlers(
            chat_store=rt.chats,
            review=parts.review,
            default_topics=default_topics,
            clock=parts.clock,
            review_time=f"{hour:02d}:{minute:02d}",
            tz=settings.timezone,
        )
    )
    # Last of its group: answers only the commands no handler above took.
    known = [n for n, _ in (*COMMANDS, *REVIEW_COMMANDS, *SEARCH_COMMANDS, *ADMIN_COMMANDS)]
    application.add_handler(make_unknown_command_handler(known, parts.replier))
    stack.push_async_callback(telegram_app.stop, application)
    await telegram_app.start(
        application,
        webhook_url=settings.webhook_url,
        port=settings.port,
        serve_webhook=serve_webhook,
        commands=(*COMMANDS, *REVIEW_COMMANDS, *SEARCH_COMMANDS),
        operator_ids=settings.admin_ids,
        poll=False,
    )
    # Every process runs the daily review job; the one row per chat and day sends it once.
    parts.review.start(hour, minute)
    stack.push_async_callback(parts.review.shutdown)
    parts.leadership.start()
    stack.push_async_callback(parts.leadership.stop)


def _start_feedback(stack: AsyncExitStack, settings: Settings, parts: TelegramParts) -> None:
    """The relevance buttons' presses and /feedback; the daily removal of old labels if asked."""
    kept = settings.keep_flagged_days
    parts.application.add_handlers(
        make_feedback_handlers(
            labels=parts.labels,
            policy=parts.feedback,
            admin_ids=settings.admin_ids,
            clock=parts.clock,
            max_age=timedelta(days=kept) if kept else None,
            replier=parts.replier,
        )
    )
    if settings.keep_labels_days is not None:
        pruning = asyncio.create_task(
            keep_labels(parts.labels, settings.keep_labels_days, parts.clock),
            name="label-retention",
        )
        stack.callback(pruning.cancel)


def _command_handlers(
    settings: Settings,
    parts: TelegramParts,
    rt: Runtime,
    scheduler: SourceScheduler,
    default_topics: Callable[[], list[str]],
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
            clock=parts.clock,
            next_poll=scheduler.next_poll,
            wake=parts.worker.wake,
            overlay=rt.live.overlay,
            replier=parts.replier,
            pace=PostingPace(rt.db),
            overlap=FeedOverlap(rt.db),
            labels=parts.labels,
        ),
        *make_article_handlers(admin_ids=settings.admin_ids, live=rt.live),
        *make_handlers(
            SubscriberCommands(
                chat_store=rt.chats,
                outbox=rt.outbox,
                store=rt.store,
                topics=lambda: rt.live.current.topics,
                sources=lambda: rt.live.current.sources,
                tz=settings.timezone,
                clock=parts.clock,
                default_topics=default_topics,
                stories=rt.stories,
                operators=settings.admin_ids,
            ),
            replier=parts.replier,
        ),
        *make_search_handlers(
            search=SearchStore(rt.db),
            alerts=AlertStore(rt.db),
            tz=settings.timezone,
            clock=parts.clock,
            max_alerts=settings.max_alerts_per_chat,
            replier=parts.replier,
        ),
    ]
