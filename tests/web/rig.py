"""A running HTTP wing over a real database, real pipeline and scheduler, on loopback.

`WebRig` polls sources served by the feed server through the real pipeline (so the database holds
real items, states and failures), starts the real scheduler and the real tornado server on an
OS-chosen port, and gives tests an httpx client on it. `with_hub(body, hub, self_url)` adds
WebSub discovery links to an RSS body built by `tests.feeds.build`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds.fetch import Fetcher, make_client
from bot.models import Source, StoredItem, Topic
from bot.polling.pipeline import Pipeline
from bot.polling.scheduler import ReportHook, SourceScheduler
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.outbox import Outbox
from bot.storage.stories import StoryStore
from bot.topics.config import load_topics
from bot.topics.matcher import compile_topics
from bot.web.handlers import TelegramWebhook
from bot.web.service import WebService, open_web

REPO = Path(__file__).resolve().parents[2]
TOPICS = load_topics(REPO / "config" / "topics.toml")
WINDOW = timedelta(hours=48)


class Messenger:
    """Remembers what it was asked to announce (a full Messenger)."""

    def __init__(self) -> None:
        self.announced: list[StoredItem] = []

    async def announce(self, items: Sequence[StoredItem]) -> None:
        self.announced.extend(items)


def utc_now() -> datetime:
    return datetime.now(UTC)


def with_hub(body: bytes, hub: str, self_url: str) -> bytes:
    """An RSS body from `tests.feeds.build.rss` with atom:link rel=hub and rel=self."""
    links = (
        f'<atom:link rel="hub" href="{hub}"/>'
        f'<atom:link rel="self" type="application/rss+xml" href="{self_url}"/>'
    )
    body = body.replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
    )
    return body.replace(b"<channel>", b"<channel>" + links.encode(), 1)


@dataclass
class WebRig:
    """The parts a test may poke at, and a client for the server."""

    db: DbAccess
    store: Store
    stories: StoryStore
    chats: ChatStore
    pipeline: Pipeline
    scheduler: SourceScheduler
    web: WebService
    http: httpx.AsyncClient
    fetch_client: httpx.AsyncClient
    messenger: Messenger
    sources: list[Source]
    topics: tuple[Topic, ...]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web.ports[0]}"

    async def close(self) -> None:
        await self.http.aclose()
        await self.web.close()
        await self.scheduler.shutdown(1.0)
        await self.fetch_client.aclose()


async def start_rig(
    engine: AsyncEngine,
    sources: list[Source],
    *,
    public_url: str | None = None,
    http_port: int = 0,
    leader: bool = True,
    start_scheduler: bool = True,
    webhook: TelegramWebhook | None = None,
    on_report: Sequence[ReportHook] = (),
    poll_first: bool = False,
) -> WebRig:
    db = DbAccess(engine)
    chats = ChatStore(db)
    # As the bot wires it: a flagged item gets its story in the transaction that stores it.
    stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
    store = Store(db, on_flagged=[Outbox(db).enqueue], on_matched=[stories.assign])
    await store.sync_sources(sources)
    fetch_client = make_client(timeout=5.0)
    messenger = Messenger()
    pipeline = Pipeline(
        fetcher=Fetcher(fetch_client),
        store=store,
        matcher=compile_topics(TOPICS),
        messenger=messenger,
        clock=utc_now,
        rng=random.Random(3),
    )
    if poll_first:
        await pipeline.run_all(sources)
    scheduler = SourceScheduler(pipeline, clock=utc_now)
    web = await open_web(
        db=db,
        stories=stories,
        scheduler=scheduler,
        topics=lambda: TOPICS,
        sources=lambda: sources,
        binds=[("127.0.0.1", http_port)],
        public_url=public_url,
        tz=ZoneInfo("Asia/Baku"),
        clock=utc_now,
        leader=lambda: leader,
        webhook=webhook,
    )
    if start_scheduler:
        scheduler.start(
            sources, await store.states.source_states(), on_report=[*web.report_hooks(), *on_report]
        )
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.ports[0]}", timeout=5.0)
    return WebRig(
        db, store, stories, chats, pipeline, scheduler, web, http, fetch_client, messenger,
        sources, TOPICS,
    )  # fmt: skip
