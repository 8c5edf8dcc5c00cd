"""Assembles the HTTP wing from explicit values (`app` passes them; this wing never reads config).

`open_web` builds the metrics, health check, status page, WebSub subscriber (when a public URL
is given) and the server, starts listening and the WebSub renewal task, and returns a
`WebService`; `close` undoes it in reverse. `report_hook` chains the wing's scheduler report
hooks after any existing one (the operator alerts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import httpx

from bot.models import Source, Story, Topic
from bot.polling.pipeline import SourceReport
from bot.polling.scheduler import SourceScheduler
from bot.storage.access import DbAccess
from bot.storage.labels import LabelStore
from bot.storage.status import StatusStore
from bot.storage.stories import StoryStore
from bot.storage.websub import WebSubStore
from bot.web.handlers import Routes, TelegramWebhook
from bot.web.health import Health
from bot.web.metrics import Metrics
from bot.web.quality import QualityFigures
from bot.web.server import WebServer
from bot.web.status import StatusPage
from bot.web.websub import WebSub

log = logging.getLogger(__name__)

ReportHook = Callable[[Source, SourceReport], Awaitable[None]]
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

    def set_webhook(self, hook: TelegramWebhook) -> None:
        """Serve Telegram's webhook path too (webhook mode)."""
        self.server.routes.webhook = hook

    def report_hook(self, previous: ReportHook | None) -> ReportHook:
        """A scheduler report hook: `previous` first, then health, metrics and WebSub."""
        hooks = [h for h in (previous, self.health.on_report, self.metrics.on_report) if h]
        if self.websub is not None:
            hooks.append(self.websub.on_report)

        async def report(source: Source, sourcereport: SourceReport) -> None:
            for hook in hooks:
                await hook(source, sourcereport)

        return report

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
) -> WebService:
    """Build and start the HTTP wing on `binds`."""
    status = StatusStore(db)
    metrics = Metrics(status, clock=clock, leader=leader)
    health = Health(
        status,
        scheduler_running=lambda: scheduler.running,
        polled_sources=lambda: len(scheduler.sources),
        clock=clock,
        stale_after=stale_after(sources()),
    )

    async def topic_stories(topic_id: str, n: int) -> list[Story]:
        return await stories.stories(limit=n, topics=[topic_id])

    async def latest(n: int) -> list[Story]:
        return await stories.stories(limit=n)

    page = StatusPage(
        status,
        latest=latest,
        topics=topics,
        next_poll=scheduler.next_poll,
        tz=tz,
        clock=clock,
        quality=QualityFigures(LabelStore(db), topics, clock).lines,
    )
    routes = Routes(health, metrics, page, topics, topic_stories)
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
        routes.websub = websub
    server = WebServer(routes)
    service = WebService(server, metrics, health, websub, [], client)
    try:
        service.ports = server.start(binds)
    except OSError:
        await service.close()
        raise
    if websub is not None:
        service.tasks.append(asyncio.create_task(websub.run(), name="websub-renewal"))
    return service
