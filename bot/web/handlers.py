"""Tornado request handlers: thin adapters from HTTP to the wing's objects (`Routes`).

Each handler reads what it needs from `Routes`, calls one object and writes its answer; none
holds state. Errors never show tracebacks or settings: tornado's debug mode stays off and
`write_error` writes only the status line.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import tornado.web

from bot.errors import StoreError
from bot.models import Story, Topic
from bot.web import atom
from bot.web.health import Health
from bot.web.metrics import CONTENT_TYPE as METRICS_TYPE
from bot.web.metrics import Metrics
from bot.web.status import CONTENT_TYPE as HTML_TYPE
from bot.web.status import StatusPage
from bot.web.websub import WebSub

log = logging.getLogger(__name__)

ATOM_ENTRIES = 50
TopicStories = Callable[[str, int], Awaitable[list[Story]]]


@dataclass(slots=True)
class TelegramWebhook:
    """Where Telegram's webhook POSTs go when our server holds `PORT` (webhook mode)."""

    path: str  # without the leading slash
    secret_token: str
    sink: Callable[[Any], Awaitable[None]]  # takes the decoded JSON update


@dataclass(slots=True)
class Routes:
    """What the handlers serve (WebSub with a public URL, Telegram's webhook in webhook mode)."""

    health: Health
    metrics: Metrics
    status: StatusPage
    topics: Callable[[], Sequence[Topic]]
    topic_stories: TopicStories  # a topic's newest flagged stories, newest report first
    websub: WebSub | None = None
    webhook: TelegramWebhook | None = field(default=None)


class _Base(tornado.web.RequestHandler):
    routes: Routes

    def initialize(self, routes: Routes) -> None:
        self.routes = routes

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")


class HealthHandler(_Base):
    async def get(self) -> None:
        ok, body = await self.routes.health.check()
        self.set_status(200 if ok else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class MetricsHandler(_Base):
    async def get(self) -> None:
        try:
            body = await self.routes.metrics.collect()
        except StoreError as exc:
            log.warning("metrics: %s", exc)
            raise tornado.web.HTTPError(503) from None
        self.set_header("Content-Type", METRICS_TYPE)
        self.finish(body)


class StatusHandler(_Base):
    async def get(self) -> None:
        # Raw bytes: a page value that is not even UTF-8 is a bad page number (page 1), not a 400.
        asked = self.request.query_arguments.get("page", [b"1"])[-1].decode("utf-8", "replace")
        try:
            html = await self.routes.status.render(page=asked)
        except StoreError as exc:
            log.warning("status page: %s", exc)
            raise tornado.web.HTTPError(503) from None
        self.set_header("Content-Type", HTML_TYPE)
        self.set_header("Cache-Control", "no-cache")
        self.finish(html)


class AtomHandler(_Base):
    async def get(self, topic_id: str) -> None:
        topic = next((t for t in self.routes.topics() if t.id == topic_id), None)
        if topic is None:
            raise tornado.web.HTTPError(404)
        try:
            stories = await self.routes.topic_stories(topic.id, ATOM_ENTRIES)
        except StoreError as exc:
            log.warning("atom feed of %s: %s", topic.id, exc)
            raise tornado.web.HTTPError(503) from None
        body = atom.render_atom(
            topic_id=topic.id,
            title=topic.name,
            entries=atom.entries_from_stories(stories),
            self_url=self.request.full_url(),
            home_url=f"{self.request.protocol}://{self.request.host}/",
        )
        tag = atom.etag(body)
        self.set_header("ETag", tag)
        self.set_header("Cache-Control", "no-cache")
        if _matches(self.request.headers.get("If-None-Match"), tag):
            self.set_status(304)
            self.finish()
            return
        self.set_header("Content-Type", atom.CONTENT_TYPE)
        self.finish(body)

    def compute_etag(self) -> str | None:
        return None  # ours is set explicitly, from the document


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    given = {part.strip().removeprefix("W/") for part in header.split(",")}
    return "*" in given or tag in given


class WebSubHandler(_Base):
    async def get(self, callback_id: str) -> None:
        websub = self.routes.websub
        if websub is None:
            raise tornado.web.HTTPError(404)
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        challenge = await websub.verify(callback_id, params)
        if challenge is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(challenge)

    async def post(self, callback_id: str) -> None:
        websub = self.routes.websub
        if websub is None:
            raise tornado.web.HTTPError(404)
        signature = self.request.headers.get("X-Hub-Signature")
        outcome = await websub.push(callback_id, self.request.body, signature)
        if outcome == "unknown":
            raise tornado.web.HTTPError(410)  # WebSub: 410 tells the hub to stop
        # A bad signature is acknowledged and ignored, as WebSub §8 asks.
        self.set_status(202)
        self.finish()


class WebhookHandler(_Base):
    async def get(self, path: str) -> None:
        raise tornado.web.HTTPError(404)

    async def post(self, path: str) -> None:
        hook = self.routes.webhook
        if hook is None or not hmac.compare_digest(path, hook.path):
            raise tornado.web.HTTPError(404)
        given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), hook.secret_token.encode()):
            raise tornado.web.HTTPError(403)
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise tornado.web.HTTPError(400) from None
        await hook.sink(data)
        self.finish()
