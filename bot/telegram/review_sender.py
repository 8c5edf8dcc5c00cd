"""Delivers the review outbox (`bot.storage.review_outbox`): the daily review's messages, sent
like every other message.

On the leader, beside the delivery worker and sharing its `Pacer` (one budget per chat and for
the bot), `ReviewSender` takes in each pass the first waiting message of every chat that has
one, claims them (one sender per message, whatever the processes), and sends each when the
pacer allows: a chat's parts go in order, one per pass. Each answer settles the message:
accepted → marked sent at once (a crash can repeat only a message in flight); flood control →
the chat is paused and the message waits; network errors, timeouts and 5xx → counted and
retried after a capped backoff; "can't parse entities" → sent again as plain text; a refusal →
dropped with its reason logged; chat unavailable or migrated → retried later (the delivery
worker deactivates or moves the chat; a deactivated chat's messages wait unsent). A database
outage is told as every part tells it (`bot.storage.outage`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.errors import (
    ChatMigratedError,
    ChatUnavailableError,
    MessageRejectedError,
    RetryLaterError,
    StoreError,
    TransientDeliveryError,
    UnparsableMessageError,
)
from bot.storage.outage import OutageReporter
from bot.storage.review_outbox import ReviewMessage, ReviewOutbox
from bot.telegram.pacing import Pacer
from bot.telegram.sending import MessageSender
from bot.text.markup import visible_text

log = logging.getLogger(__name__)

STOP_GRACE = 3.0  # seconds a send in flight gets to be answered and marked at a clean stop


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """Retry settings (seconds); tests shrink them."""

    recheck: float = 30.0  # safety look at the review outbox, besides `wake`
    claim_ttl: float = 120.0  # a message claimed by a sender that died is taken over after this
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    unavailable_retry: float = 120.0


class ReviewSender:
    """Sends waiting review messages; `start()`, `wake()` when some were queued, `stop()`."""

    def __init__(
        self,
        outbox: ReviewOutbox,
        sender: MessageSender,
        pacer: Pacer,
        *,
        holder: str,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        policy: ReviewPolicy | None = None,
    ) -> None:
        self._outbox = outbox
        self._sender = sender
        self._pacer = pacer
        self._holder = holder
        self._clock = clock
        self._monotonic = monotonic
        self._policy = policy or ReviewPolicy()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._hold: dict[int, float] = {}  # chat id -> monotonic time it may be tried again
        self._errors: dict[int, int] = {}  # message id -> transient failures so far
        self._plain: set[int] = set()  # messages Telegram could not parse: sent as plain text
        self._outage = OutageReporter("review delivery", log, monotonic=monotonic)

    def wake(self) -> None:
        """Look at the review outbox now (reviews were queued)."""
        self._wakeup.set()

    def start(self) -> None:
        """Start delivering in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="review-delivery")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop delivering and hand back the claims. A send in flight gets `grace` seconds to be
        answered and marked (cut short, its message could go twice); then it is cancelled."""
        if self._task is not None:
            self._stopping = True
            self._wakeup.set()
            try:
                async with asyncio.timeout(grace):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
            self._stopping = False
        with contextlib.suppress(StoreError):  # the claims expire by themselves
            await self._outbox.release(self._holder)

    async def drain(self) -> int:
        """Passes until nothing is left to send now; how many messages were settled."""
        settled = 0
        while (n := await self.run_once()) > 0:
            settled += n
        return settled

    async def run_once(self) -> int:
        """One pass: the first waiting message of every chat not held back; messages settled."""
        now = self._monotonic()
        self._hold = {c: t for c, t in self._hold.items() if t > now}
        chats = [c for c in await self._outbox.pending_chats() if c not in self._hold]
        messages = await self._outbox.claim_next(
            chats, self._holder, now=self._clock(), ttl=self._policy.claim_ttl
        )
        settled = 0
        for message in messages:
            if self._stopping:
                break  # a clean stop starts no new send; the claims are handed back
            settled += await self._send(message)
        return settled

    async def _loop(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                settled = await self.run_once()
                self._outage.succeeded()
            except StoreError as exc:
                self._outage.failed(exc)
                settled = 0
            if settled:
                continue  # more parts may wait
            waits = [t - self._monotonic() for t in self._hold.values()]
            timeout = min([self._policy.recheck, *(w for w in waits if w > 0)])
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.05, timeout)):
                    await self._wakeup.wait()

    async def _send(self, message: ReviewMessage) -> int:
        """Send one message and settle the answer; 1 when it is settled (sent or dropped)."""
        chat_id = message.chat_id
        plain = message.id in self._plain
        text = visible_text(message.text) if plain else message.text
        # The pacer says exactly how long to wait (ASYNC110).
        while (wait := self._pacer.acquire(chat_id, self._monotonic())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        try:
            try:
                telegram_id = await self._sender.send(
                    chat_id, text, html=not plain, thread_id=message.thread_id
                )
            finally:
                self._pacer.release(self._monotonic())
        except RetryLaterError as exc:
            log.warning("review delivery: %s; pausing it %.0f s", exc, exc.retry_after)
            self._pacer.pause(chat_id, exc.retry_after, self._monotonic())
            self._hold_for(chat_id, self._pacer.chat_wait(chat_id, self._monotonic()))
            return 0
        except TransientDeliveryError as exc:
            errors = self._errors[message.id] = self._errors.get(message.id, 0) + 1
            delay = min(
                self._policy.backoff_max, self._policy.backoff_base * 2 ** min(errors - 1, 30)
            )
            log.warning("review delivery: %s; retrying in %.1f s", exc, delay)
            await self._outbox.record_attempt(message.id, error=str(exc), now=self._clock())
            self._hold_for(chat_id, delay)
            return 0
        except UnparsableMessageError as exc:
            if plain:
                return await self._drop(message, str(exc))
            log.warning("review delivery: %s; sending it as plain text", exc)
            self._plain.add(message.id)
            return 0
        except MessageRejectedError as exc:
            return await self._drop(message, str(exc))
        except (ChatUnavailableError, ChatMigratedError) as exc:
            log.warning("review delivery: %s; retrying later", exc)
            await self._outbox.record_attempt(message.id, error=str(exc), now=self._clock())
            self._hold_for(chat_id, self._policy.unavailable_retry)
            return 0
        await self._outbox.mark_sent(message.id, telegram_id=telegram_id, now=self._clock())
        self._errors.pop(message.id, None)
        self._plain.discard(message.id)
        log.info(
            "review delivery: chat %d got part %d of its review of %s",
            chat_id,
            message.part,
            message.day,
        )
        return 1

    async def _drop(self, message: ReviewMessage, reason: str) -> int:
        log.warning(
            "review delivery: dropping part %d of chat %d's review of %s: %s",
            message.part,
            message.chat_id,
            message.day,
            reason,
        )
        await self._outbox.drop(message.id, reason=reason, now=self._clock())
        self._plain.discard(message.id)
        return 1

    def _hold_for(self, chat_id: int, seconds: float) -> None:
        self._hold[chat_id] = self._monotonic() + seconds
