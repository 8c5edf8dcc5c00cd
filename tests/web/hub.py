"""A WebSub hub emulator on loopback: a tornado server in the test's event loop.

It speaks the hub's side of WebSub (W3C Recommendation 2018):

- `POST /` with `hub.mode=subscribe`, `hub.topic`, `hub.callback`, `hub.secret`,
  `hub.lease_seconds`: answers 202 at once, then verifies intent with
  `GET callback?hub.mode=subscribe&hub.topic=…&hub.challenge=…&hub.lease_seconds=…`; the
  subscription is active only when the callback answered 2xx with the challenge as its body;
- `publish(topic, body)`: content distribution to every active subscriber of `topic`, signed
  `X-Hub-Signature: sha256=…` (or `algorithm="sha1"`) with its secret; `forge=True` signs with a
  wrong secret; the callback's statuses come back;
- `verify(callback, topic, mode=…)`: a verification the subscriber never asked for.

`lease_seconds` is what the hub grants (None: what was asked). Everything seen is recorded:
`requests` (subscription requests) and `verifications` (callback, topic, status, echoed).
`wait_for(predicate)` waits on a condition, bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets


@dataclass
class Verification:
    callback: str
    topic: str
    mode: str
    status: int
    echoed: bool


@dataclass
class Active:
    topic: str
    callback: str
    secret: str
    lease: int


class _HubHandler(tornado.web.RequestHandler):
    def initialize(self, hub: HubEmulator) -> None:
        self.hub = hub

    async def post(self) -> None:
        form = {k: self.get_body_argument(k) for k in self.request.body_arguments}
        self.hub._received(form)
        self.set_status(202)
        self.finish()


class HubEmulator:
    """Start with `await hub.start()`; `hub.url` is its endpoint; `await hub.stop()`."""

    def __init__(self, *, lease_seconds: int | None = None) -> None:
        self.lease_seconds = lease_seconds
        self.requests: list[dict[str, str]] = []
        self.verifications: list[Verification] = []
        self.active: dict[tuple[str, str], Active] = {}
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._client = httpx.AsyncClient(timeout=5.0)
        self._server = HTTPServer(tornado.web.Application([(r"/", _HubHandler, {"hub": self})]))
        self.url = ""

    async def start(self) -> str:
        sockets = bind_sockets(0, address="127.0.0.1", family=socket.AF_INET)
        self._server.add_sockets(sockets)
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"
        return self.url

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._server.stop()
        await self._server.close_all_connections()
        await self._client.aclose()

    def _received(self, form: dict[str, str]) -> None:
        self.requests.append(form)
        task = asyncio.create_task(self._verify_request(form))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _verify_request(self, form: dict[str, str]) -> None:
        lease = self.lease_seconds or int(form.get("hub.lease_seconds", "86400"))
        result = await self.verify(
            form["hub.callback"], form["hub.topic"], mode=form["hub.mode"], lease=lease
        )
        if result.echoed and form["hub.mode"] == "subscribe":
            key = (form["hub.topic"], form["hub.callback"])
            self.active[key] = Active(
                form["hub.topic"], form["hub.callback"], form.get("hub.secret", ""), lease
            )
        await self._notify()

    async def verify(
        self, callback: str, topic: str, *, mode: str = "subscribe", lease: int = 3600
    ) -> Verification:
        """Verify intent at `callback` (asked for or not); recorded in `verifications`."""
        challenge = secrets.token_urlsafe(16)
        params = {
            "hub.mode": mode,
            "hub.topic": topic,
            "hub.challenge": challenge,
            "hub.lease_seconds": str(lease),
        }
        answer = await self._client.get(callback, params=params)
        result = Verification(
            callback,
            topic,
            mode,
            answer.status_code,
            200 <= answer.status_code < 300 and answer.text == challenge,
        )
        self.verifications.append(result)
        await self._notify()
        return result

    async def publish(
        self, topic: str, body: bytes, *, algorithm: str = "sha256", forge: bool = False
    ) -> list[int]:
        """Distribute `body` to the topic's active subscribers; their answers' statuses."""
        statuses = []
        for sub in [s for s in self.active.values() if s.topic == topic]:
            secret = "not-the-secret" if forge else sub.secret
            digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
            answer = await self._client.post(
                sub.callback,
                content=body,
                headers={
                    "Content-Type": "application/rss+xml",
                    "X-Hub-Signature": f"{algorithm}={digest}",
                    "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
                },
            )
            statuses.append(answer.status_code)
        return statuses

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (re-checked on every request and verification)."""
        async with asyncio.timeout(timeout), self._changed:
            return await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
