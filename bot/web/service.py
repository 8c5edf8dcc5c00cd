"""Assembles the HTTP wing from explicit values (`app` passes them; this wing never reads config).

`open_web` builds the metrics, health check, status page, WebSub subscriber (when a public URL
is given) and the server, starts listening and the WebSub renewal task, and returns a
`WebService`; `close` undoes it in reverse. `report_hooks` are the wing's scheduler report hooks
(health, metrics, WebSub), which `app` gives to the scheduler with the others. The metrics may
be built beforehand (`app` builds them before Telegram's delivery worker, which counts its sends
in them), and the Telegram webhook route is given here when the bot runs in webhook mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import httpx

from bot.models import Source, Story, Topic
from bot.polling.scheduler import ReportHook, SourceScheduler
from bot.storage.access import DbAccess
from bot.storage.labels import LabelStore
from bot.storage.search import SearchStore
from bot.storage.status import StatusStore
from bot.storage.stories import StoryStore
from bot.storage.websub import WebSubStore
from bot.web.handlers import Routes, TelegramWebhook
from bot.web.health import Health
from bot.web.metrics import Metrics
from bot.web.quality import QualityFigures
from bot.web.search import SearchPage
from bot.web.server import WebServer
from bot.web.status import StatusPage
from bot.web.websub import WebSub

log = logging.getLogger(__name__)

HUB_TIMEOUT = httpx.Timeout(10.0)
MIN_STALE = 900.0  # seconds without a completed poll before /healthz says so, at least


@dataclass(slots=True)
class WebService:
    """The running HTTP wing."""

    server: WebServer
    metrics: Metrics
    health: Health
    websub: WebSub | None
    ports: list[int]
    client: httpx.AsyncClient | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def report_hooks(self) -> list[ReportHook]:
        """The wing's scheduler report hooks, in order: health, metrics, then WebSub."""
        hooks: list[ReportHook] = [self.health.on_report, self.metrics.on_report]
        if self.websub is not None:
            hooks.append(self.websub.on_report)
        return hooks

    async def close(self) -> None:
        """Stop the renewal task, the server and the hub client."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.server.stop()
        if self.client is not None:
            await self.client.aclose()


def stale_after(sources: Sequence[Source]) -> float:
    """How long /healthz tolerates no completed poll: three of the longest intervals."""
    return max([MIN_STALE, *(3 * s.interval for s in sources if s.enabled)])


async def open_web(
    *,
    db: DbAccess,
    stories: StoryStore,
    scheduler: SourceScheduler,
    topics: Callable[[], Sequence[Topic]],
    sources: Callable[[], Sequence[Source]],
    binds: Sequence[tuple[str, int]],
    public_url: str | None,
    tz: tzinfo,
    clock: Callable[[], datetime],
    leader: Callable[[], bool] = lambda: True,
    metrics: Metrics | None = None,
    webhook: TelegramWebhook | None = None,
) -> WebService:
    """Build and start the HTTP wing on `binds` (`leader` is for metrics built here)."""
    status = StatusStore(db)
    if metrics is None:
        metrics = Metrics(status, clock=clock, leader=leader, sources=sources)
    health = Health(
        status,
        scheduler_running=lambda: scheduler.running,
        polled_sources=lambda: len(scheduler.sources),
        clock=clock,
        stale_after=stale_after(sources()),
        sources=sources,
    )

    async def topic_stories(topic_id: str, n: int) -> list[Story]:
        return await stories.stories(limit=n, topics=[topic_id])

    async def latest(n: int) -> list[Story]:
        return await stories.stories(limit=n)

    page = StatusPage(
        status,
        latest=latest,
        topics=topics,
        sources=sources,
        next_poll=scheduler.next_poll,
        tz=tz,
        clock=clock,
        quality=QualityFigures(LabelStore(db), topics, clock).lines,
    )
    client: httpx.AsyncClient | None = None
    websub: WebSub | None = None
    if public_url:
        client = httpx.AsyncClient(timeout=HUB_TIMEOUT, follow_redirects=True, max_redirects=3)
        websub = WebSub(
            WebSubStore(db),
            client,
            public_url=public_url,
            clock=clock,
            poll_now=scheduler.poll_now,
            wanted=lambda source_id: source_id in scheduler.sources,
            on_push=metrics.pushed,
        )
    routes = Routes(
        health,
        metrics,
        page,
        topics,
        topic_stories,
        websub=websub,
        webhook=webhook,
        search=SearchPage(SearchStore(db), tz=tz, clock=clock),
    )
    server = WebServer(routes)
    try:
        ports = server.start(binds)
    except OSError:
        await server.stop()
        if client is not None:
            await client.aclose()
        raise
    tasks = [asyncio.create_task(websub.run(), name="websub-renewal")] if websub else []
    return WebService(server, metrics, health, websub, ports, client, tasks)
