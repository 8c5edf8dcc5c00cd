"""WebSub subscriber: subscribe to hubs that feeds advertise, verify intent, take signed pushes.

Flow, per source whose feed names a hub (`SourceReport.hub`, seen at each poll):
1. `on_report`: no subscription yet, or a different hub or topic → store a request (callback id
   and secret; the same hub and topic keep theirs), then POST `hub.mode=subscribe` to the hub;
2. the hub verifies with `GET <public>/websub/<callback id>?hub.mode=subscribe&hub.topic=…
   &hub.challenge=…`: `verify` echoes the challenge only when the callback is ours and the topic
   is the one we asked for (anything else: None, which the handler answers 404);
3. a push is `POST /websub/<callback id>` signed with `X-Hub-Signature: sha1=…|sha256=…` (HMAC of
   the body with the subscription's secret): `push` checks it and, when valid, polls the source
   at once (`poll_now`); a bad or missing signature is acknowledged and ignored (WebSub §8);
4. `run`: renews each active subscription when three quarters of its lease have passed, and
   retries unanswered requests; polling goes on regardless, as the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Literal

import httpx

from bot.errors import StoreError
from bot.models import Source
from bot.polling.decide import SourceReport
from bot.storage.websub import Subscription, WebSubStore

log = logging.getLogger(__name__)

LEASE_SECONDS = 10 * 86400  # asked for; the hub decides
RENEW_AT = 0.75  # fraction of the granted lease after which we renew
RETRY_AFTER = 3600.0  # seconds before an unverified request is made again
MAX_CHALLENGE = 1000  # characters of hub.challenge we are willing to echo
PushOutcome = Literal["accepted", "bad-signature", "unknown"]
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
            "sha512": hashlib.sha512}  # fmt: skip


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` ("sha256=hex", "sha1=hex" …) is the HMAC of `body` under `secret`."""
    if not header or "=" not in header:
        return False
    method, _, given = header.strip().partition("=")
    digest = _DIGESTS.get(method.lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.lower())


class WebSub:
    """Subscribes, verifies, accepts pushes and renews; one per process."""

    def __init__(
        self,
        store: WebSubStore,
        client: httpx.AsyncClient,
        *,
        public_url: str,
        clock: Callable[[], datetime],
        poll_now: Callable[[str], None],
        wanted: Callable[[str], bool],
        on_push: Callable[[str], None] = lambda outcome: None,
        lease_seconds: int = LEASE_SECONDS,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self._store = store
        self._client = client
        self._public = public_url.rstrip("/")
        self._clock = clock
        self._poll_now = poll_now
        self._wanted = wanted
        self._on_push = on_push
        self._lease = lease_seconds
        self._retry_after = retry_after
        self._wake = asyncio.Event()

    def callback_url(self, callback_id: str) -> str:
        """The URL the hub calls for one subscription."""
        return f"{self._public}/websub/{callback_id}"

    async def on_report(self, source: Source, report: SourceReport) -> None:
        """A scheduler report hook: subscribe when the feed names a hub we are not subscribed to."""
        if report.hub is None:
            return
        topic = report.self_url or source.url
        try:
            current = await self._store.for_source(source.id)
            if current is not None and (current.hub, current.topic) == (report.hub, topic):
                return  # renewals and retries are `run`'s job
            await self.subscribe(source.id, hub=report.hub, topic=topic)
        except StoreError as exc:
            log.warning("source=%s websub: %s", source.id, exc)

    async def subscribe(self, source_id: str, *, hub: str, topic: str) -> Subscription:
        """Record the request, then ask the hub; the hub verifies asynchronously."""
        sub = await self._store.request(
            source_id,
            hub=hub,
            topic=topic,
            callback_id=secrets.token_urlsafe(24),
            secret=secrets.token_hex(32),
            now=self._clock(),
        )
        form = {
            "hub.mode": "subscribe",
            "hub.topic": topic,
            "hub.callback": self.callback_url(sub.callback_id),
            "hub.secret": sub.secret,
            "hub.lease_seconds": str(self._lease),
        }
        try:
            response = await self._client.post(hub, data=form)
        except httpx.HTTPError as exc:
            log.warning(
                "source=%s websub: hub %s unreachable: %s", source_id, hub, type(exc).__name__
            )
            return sub
        if response.status_code >= 300:
            log.warning(
                "source=%s websub: hub %s answered %d", source_id, hub, response.status_code
            )
        else:
            log.info("source=%s websub: subscription requested at %s", source_id, hub)
        self._wake.set()
        return sub

    async def verify(self, callback_id: str, params: Mapping[str, str]) -> str | None:
        """The challenge to echo for a hub's verification of intent, or None (answer 404)."""
        sub = await self._store.by_callback(callback_id)
        mode = params.get("hub.mode", "")
        if sub is None or params.get("hub.topic") != sub.topic:
            log.warning("websub: refused a verification for a topic we did not ask for")
            return None
        now = self._clock()
        if mode == "denied":
            log.warning("source=%s websub: the hub denied the subscription", sub.source_id)
            await self._store.denied(callback_id, now=now)
            return ""
        challenge = params.get("hub.challenge", "")
        if mode != "subscribe" or not challenge or len(challenge) > MAX_CHALLENGE:
            return None
        try:
            lease = int(params.get("hub.lease_seconds", self._lease))
        except ValueError:
            lease = self._lease
        await self._store.verified(callback_id, lease_seconds=max(lease, 1), now=now)
        log.info("source=%s websub: verified, lease %d s", sub.source_id, lease)
        self._wake.set()
        return challenge

    async def push(self, callback_id: str, body: bytes, signature: str | None) -> PushOutcome:
        """A hub's content distribution: poll the source now if the signature is good."""
        sub = await self._store.by_callback(callback_id)
        if sub is None:
            outcome: PushOutcome = "unknown"
        elif not signature_ok(sub.secret, body, signature):
            log.warning("source=%s websub: push with a bad signature ignored", sub.source_id)
            outcome = "bad-signature"
        else:
            await self._store.pushed(callback_id, now=self._clock())
            log.info("source=%s websub: push received; polling now", sub.source_id)
            self._poll_now(sub.source_id)
            outcome = "accepted"
        self._on_push(outcome)
        return outcome

    async def run(self, *, check_every: float = 300.0) -> None:
        """Renew leases and retry unanswered requests until cancelled."""
        while True:
            self._wake.clear()
            wait = check_every
            try:
                wait = min(wait, await self.renew_due())
            except StoreError as exc:
                log.warning("websub: cannot read subscriptions: %s", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait, 0.05)):
                    await self._wake.wait()

    async def renew_due(self) -> float:
        """(Re)subscribe where due; seconds until the next one falls due."""
        now = self._clock()
        soonest = float("inf")
        for sub in await self._store.all():
            if not self._wanted(sub.source_id):
                continue
            due = self._due(sub)
            if due is None:
                continue
            if due <= now:
                await self.subscribe(sub.source_id, hub=sub.hub, topic=sub.topic)
                due = now + timedelta(seconds=self._retry_after)
            soonest = min(soonest, (due - now).total_seconds())
        return soonest

    def _due(self, sub: Subscription) -> datetime | None:
        if sub.state == "denied":
            return None
        if sub.active and sub.verified and sub.lease_seconds and sub.verified >= sub.requested:
            return sub.verified + timedelta(seconds=sub.lease_seconds * RENEW_AT)
        # Requested and not (re)verified: ask again after a while (the hub may have lost it).
        return sub.requested + timedelta(seconds=self._retry_after)
