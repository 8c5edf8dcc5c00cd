"""The delivery worker: sends the outbox's pending rows to their chats, paced and retried.

A dispatcher task looks at the outbox when woken (`wake`, called by the messenger right after
items were stored and enqueued) and every `recheck` seconds as a safety net, and schedules each
chat with pending rows. `max_in_flight` sender tasks take the scheduled chats in turn: a chat is
held by one sender at a time, so its rows go in the order they were enqueued, and a chat that
must wait (its pacing, a flood-control pause, a backoff) goes back on a timer instead of holding
a sender. One chat's pacing or errors therefore never delay another. The first rows of many
chats are read in one query, so a fan-out to thousands of chats costs few round trips.

With several processes on one database each row is claimed before it is sent (`holder` set): the
rows read ahead are claimed in one statement, a claim is renewed when half its time has passed,
and a chat whose next row another sender holds is left to it for `claimed_retry` seconds.

Per message, in order:
1. the chat's turn (per-chat pacing or pause), then a place in the overall rate (`Pacer`);
2. send (HTML; after "can't parse entities", the plain-text form);
3. on acceptance mark the row sent at once — after a crash only in-flight messages can repeat;
4. a row of kind "edit" (a later report of a story the chat already has a message for) edits
   that message instead (`_edit`: coalesced, at most once a minute, never a new message);
5. on failure: flood control pauses the chat and resends; network errors, timeouts and 5xx are
   resent after a capped backoff; "chat unavailable" (blocked, kicked, not found) is retried
   later and deactivates the chat only after `unavailable_after` failures in a row spanning at
   least `unavailable_span`; a migrated group moves to its supergroup; any other refusal drops
   the row with its reason logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from bot.errors import (
    ChatMigratedError,
    ChatUnavailableError,
    DeliveryError,
    MessageRejectedError,
    RetryLaterError,
    StoreError,
    TransientDeliveryError,
    UnparsableMessageError,
)
from bot.formatting import format_plain, format_telegram
from bot.models import StoredItem
from bot.review.also import with_also
from bot.storage.chat_tables import EDIT
from bot.storage.chats import ChatStore, Outgoing
from bot.telegram.pacing import Pacer

log = logging.getLogger(__name__)


class Sender(Protocol):
    """Sends one message; raises only `DeliveryError` subclasses (see messengers/telegram.py)."""

    async def send(self, chat_id: int, text: str, *, html: bool, thread_id: int | None) -> int:
        """Send `text` to the chat (and forum thread); the id Telegram gave the message."""
        ...

    async def edit(self, chat_id: int, message_id: int, text: str, *, html: bool) -> None:
        """Replace the text of a message sent before."""
        ...


@dataclass(frozen=True, slots=True)
class Policy:
    """Retry and concurrency settings (seconds); tests shrink them."""

    unavailable_after: int = 3  # failures in a row before a chat is deactivated ...
    unavailable_span: float = 300.0  # ... which must also span at least this long
    unavailable_retry: float = 120.0  # wait before trying an unavailable chat again
    backoff_base: float = 1.0  # first wait after a network error, timeout or 5xx
    backoff_max: float = 300.0
    recheck: float = 30.0  # safety look at the outbox, besides `wake`
    max_in_flight: int = 8  # sends at once; the HTTP client's CPU is the limit, not Telegram
    edit_gap: float = 60.0  # at most one edit of a message in this time (coalescing the rest)
    claim_ttl: float = 120.0  # a row claimed by a sender that died is taken over after this
    claimed_retry: float = 5.0  # wait before looking again at a chat another sender is serving


@dataclass(slots=True)
class _Attempt:
    """What changes between the attempts at one row."""

    text: str
    html: bool = True
    errors: int = 0  # network errors, timeouts, 5xx so far


_UNKNOWN = object()  # no row read ahead for the chat


def _posted(out: Outgoing, first: StoredItem) -> Outgoing:
    """An Outgoing for the story's first report, to render the message as it was posted."""
    return replace(out, item=first)


class DeliveryWorker:
    """Delivers pending outbox rows; `start()`, `wake()` when rows were added, `stop()`."""

    def __init__(
        self,
        chats: ChatStore,
        sender: Sender,
        *,
        topic_names: Mapping[str, str],
        tz: tzinfo,
        clock: Callable[[], datetime],
        pacer: Pacer | None = None,
        policy: Policy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        summary_limit: int = 300,
        read_ahead: int = 100,
        on_delivered: Callable[[float], None] | None = None,
        holder: str | None = None,
    ) -> None:
        self._chats = chats
        self._sender = sender
        self._topic_names = dict(topic_names)
        self._tz = tz
        self._clock = clock
        self._pacer = pacer or Pacer()
        self._policy = policy or Policy()
        self._monotonic = monotonic
        self._summary_limit = summary_limit
        self._read_ahead = read_ahead
        self._on_delivered = on_delivered  # seconds from first sight to delivery (metrics)
        self._holder = holder  # None: the only sender, rows are not claimed
        self._claimed: dict[int, float] = {}  # outbox id -> monotonic time we claimed it
        self._wakeup = asyncio.Event()  # the dispatcher: look at the outbox
        self._work = asyncio.Event()  # the senders: a chat became ready
        self._scheduled: set[int] = set()  # chats ready, on a timer, or being served
        self._ready: deque[int] = deque()
        self._timers: list[tuple[float, int, int]] = []  # (when, sequence, chat id) heap
        self._sequence = itertools.count()
        self._hold: dict[int, float] = {}  # chat -> monotonic time of its next retry
        self._poked: set[int] = set()  # scheduled chats the dispatcher saw pending rows for
        self._ahead: dict[int, Outgoing | None] = {}  # rows read ahead (None: known empty)
        self._attempts: dict[int, _Attempt] = {}  # by outbox id, while a row is retried
        self._turns: dict[int, int] = {}  # chat -> sequence number of its latest turn
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[Any]] = set()  # senders in the middle of a turn
        self._stopping = False

    @property
    def active_lanes(self) -> int:
        """Chats scheduled or being delivered to right now."""
        return len(self._scheduled)

    def start(self) -> None:
        """Start the dispatcher and senders; rows left pending before are resumed."""
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._dispatch(), name="delivery-dispatcher"))
        for n in range(self._policy.max_in_flight):
            self._tasks.append(asyncio.create_task(self._serve(), name=f"delivery-sender-{n}"))

    def wake(self) -> None:
        """Rows were added: look at the outbox now rather than at the next recheck."""
        self._wakeup.set()

    async def stop(self, grace: float = 3.0) -> None:
        """Stop: sends in flight get `grace` seconds to be answered and marked sent (so a clean
        stop repeats nothing), then every task is cancelled; unsent rows stay pending."""
        self._stopping = True
        busy = [t for t in self._tasks if t in self._busy]
        for task in self._tasks:
            if task not in self._busy:
                task.cancel()
        if busy:
            await asyncio.wait(busy, timeout=grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._busy.clear()
        self._stopping = False
        for state in (self._scheduled, self._ready, self._timers, self._hold, self._poked):
            state.clear()
        self._ahead.clear()
        self._attempts.clear()
        self._turns.clear()
        self._claimed.clear()
        if self._holder is not None:
            # Unsent rows read ahead go back to the pool now rather than when the claims expire.
            try:
                await self._chats.release_claims(self._holder)
            except StoreError as exc:
                log.warning(
                    "delivery: could not release claims (they expire by themselves): %s", exc
                )

    # --- scheduling ----------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            self._wakeup.clear()  # before reading, so a wake during the read is not lost
            try:
                pending = await self._chats.pending_chats()
            except StoreError as exc:
                log.warning("delivery: cannot read the outbox: %s", exc)
                pending = []
            for chat_id in pending:
                if chat_id in self._scheduled:
                    self._poked.add(chat_id)  # its sender may just have found nothing more
                else:
                    self._scheduled.add(chat_id)
                    self._schedule(chat_id, 0.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._policy.recheck):
                    await self._wakeup.wait()

    def _schedule(self, chat_id: int, delay: float) -> None:
        if delay <= 0:
            self._ready.append(chat_id)
        else:
            when = self._monotonic() + delay
            heapq.heappush(self._timers, (when, next(self._sequence), chat_id))
        self._work.set()

    def _unschedule(self, chat_id: int) -> None:
        if chat_id in self._poked:  # rows arrived meanwhile: keep going
            self._poked.discard(chat_id)
            self._schedule(chat_id, 0.0)
        else:
            self._scheduled.discard(chat_id)
            self._ahead.pop(chat_id, None)

    async def _next_chat(self) -> int:
        while True:
            now = self._monotonic()
            while self._timers and self._timers[0][0] <= now:
                self._ready.append(heapq.heappop(self._timers)[2])
            if self._ready:
                return self._ready.popleft()
            timeout = self._timers[0][0] - now if self._timers else None
            self._work.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._work.wait()

    async def _serve(self) -> None:
        me = asyncio.current_task()
        assert me is not None  # noqa: S101 (started with create_task)
        while not self._stopping:
            chat_id = await self._next_chat()
            self._busy.add(me)
            try:
                await self._turn(chat_id)
            except StoreError as exc:
                # The row stays pending; at worst a sent message is resent (never skipped).
                log.warning("delivery: chat %d: database error: %s", chat_id, exc)
                self._hold_for(chat_id, self._policy.backoff_max / 10)
                self._schedule(chat_id, self._policy.backoff_max / 10)
            except Exception:
                # A bug must not end delivery: drop the chat; the next recheck picks it up.
                log.exception("delivery: chat %d: unexpected error", chat_id)
                self._scheduled.discard(chat_id)
                self._ahead.pop(chat_id, None)
            finally:
                self._busy.discard(me)

    def _hold_for(self, chat_id: int, seconds: float) -> None:
        self._hold[chat_id] = self._monotonic() + seconds

    # --- one turn of one chat ------------------------------------------------------------------

    async def _turn(self, chat_id: int) -> None:
        """Send the chat's next row if it is the chat's turn; reschedule or unschedule it."""
        now = self._monotonic()
        wait = max(self._pacer.chat_wait(chat_id, now), self._hold.get(chat_id, now) - now)
        if wait > 0:
            self._schedule(chat_id, wait)
            return
        self._hold.pop(chat_id, None)
        self._turns[chat_id] = next(self._sequence)
        out = await self._row(chat_id)
        if out is None:
            self._unschedule(chat_id)
            return
        if not await self._hold_claim(out):
            # Another process is sending this chat's next row: leave the chat to it a while.
            self._ahead.pop(chat_id, None)
            self._hold_for(chat_id, self._policy.claimed_retry)
            self._schedule(chat_id, self._policy.claimed_retry)
            return
        if out.kind == EDIT and out.story_id is not None:
            delay = await self._edit(out, out.story_id)
            self._claimed.pop(out.outbox_id, None)
            self._hold_for(chat_id, delay)
            self._schedule(chat_id, max(delay, self._pacer.chat_wait(chat_id, self._monotonic())))
            return
        # The pacer says exactly how long to wait for the overall rate (ASYNC110).
        while (wait := self._pacer.acquire(chat_id, self._monotonic())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        attempt = self._attempts.setdefault(out.outbox_id, _Attempt(self._format(out, html=True)))
        settled, more, delay = await self._attempt(out, attempt)
        if not settled:
            self._ahead[chat_id] = out  # the same row again, after the delay
            self._hold_for(chat_id, delay)
            self._schedule(chat_id, delay)
            return
        self._attempts.pop(out.outbox_id, None)
        self._claimed.pop(out.outbox_id, None)
        if not more:
            self._unschedule(chat_id)
            return
        if self._pacer.chat_wait(chat_id, self._monotonic()) > 0:
            # Read the next row while the chat waits, so its pacing is not stretched by a read.
            self._poked.discard(chat_id)
            self._ahead[chat_id] = (await self._chats.first_pending([chat_id])).get(chat_id)
        self._schedule(chat_id, self._pacer.chat_wait(chat_id, self._monotonic()))

    async def _hold_claim(self, out: Outgoing) -> bool:
        """Whether this worker may send the row: it holds a claim on it, fresh or renewed now."""
        if self._holder is None:
            return True
        claimed = self._claimed.get(out.outbox_id)
        if claimed is not None and self._monotonic() - claimed < self._policy.claim_ttl / 2:
            return True
        return bool(await self._claim([out.outbox_id]))

    async def _claim(self, outbox_ids: list[int]) -> set[int]:
        assert self._holder is not None  # noqa: S101 (checked by the callers)
        now = self._monotonic()
        ids = await self._chats.claim(
            outbox_ids, self._holder, now=self._clock(), ttl=self._policy.claim_ttl
        )
        for outbox_id in outbox_ids:
            if outbox_id in ids:
                self._claimed[outbox_id] = now
            else:
                self._claimed.pop(outbox_id, None)
        return ids

    async def _row(self, chat_id: int) -> Outgoing | None:
        """The chat's next row: read ahead with other ready chats', or read now."""
        ahead = self._ahead.pop(chat_id, _UNKNOWN)
        if ahead is not _UNKNOWN:
            return ahead  # type: ignore[return-value]
        batch = [chat_id]
        for other in self._ready:
            if len(batch) >= self._read_ahead:
                break
            if other not in self._ahead:
                batch.append(other)
        self._poked.difference_update(batch)  # anything enqueued from now on is seen below
        turns = {other: self._turns.get(other) for other in batch}
        found = await self._chats.first_pending(batch)
        if self._holder is not None and found:
            # One claim for the batch; rows another sender holds are not read ahead.
            mine = await self._claim([out.outbox_id for out in found.values()])
            found = {chat: out for chat, out in found.items() if out.outbox_id in mine} | (
                {chat_id: found[chat_id]} if chat_id in found else {}
            )
        for other in batch[1:]:
            # Another sender may have served that chat while we read: then ours is stale.
            if other not in self._ahead and self._turns.get(other) == turns[other]:
                self._ahead[other] = found.get(other)
        return found.get(chat_id)

    async def _attempt(self, out: Outgoing, attempt: _Attempt) -> tuple[bool, bool, float]:
        """One send: (settled, the chat has more rows, seconds to wait before the next try)."""
        chat_id = out.chat_id
        try:
            try:
                message_id = await self._sender.send(
                    chat_id, attempt.text, html=attempt.html, thread_id=out.thread_id
                )
            finally:
                self._pacer.release(self._monotonic())
        except RetryLaterError as exc:
            log.warning("delivery: %s; pausing it %.0f s", exc, exc.retry_after)
            self._pacer.pause(chat_id, exc.retry_after, self._monotonic())
            return False, True, 0.0  # the pacer holds this chat back
        except TransientDeliveryError as exc:
            attempt.errors += 1
            delay = self._backoff(attempt.errors)
            log.warning("delivery: %s; retrying in %.1f s", exc, delay)
            await self._chats.record_attempt(out.outbox_id, error=str(exc), now=self._clock())
            return False, True, delay
        except UnparsableMessageError as exc:
            if not attempt.html:
                await self._drop(out, str(exc))
                return True, True, 0.0
            log.warning("delivery: %s; sending it as plain text", exc)
            attempt.html, attempt.text = False, self._format(out, html=False)
            return False, True, 0.0
        except MessageRejectedError as exc:
            await self._drop(out, str(exc))
            return True, True, 0.0
        except ChatMigratedError as exc:
            log.info("delivery: %s; moving its subscription", exc)
            await self._chats.migrate_chat(chat_id, exc.new_chat_id, now=self._clock())
            self.wake()  # the rows now wait under the new id
            return True, False, 0.0
        except ChatUnavailableError as exc:
            if await self._unavailable(chat_id, str(exc)):
                return True, False, 0.0
            return False, True, self._policy.unavailable_retry
        now = self._clock()
        more = await self._chats.mark_sent(out.outbox_id, message_id=message_id, now=now)
        if self._on_delivered is not None:
            self._on_delivered((now - out.item.first_seen).total_seconds())
        return True, more, 0.0

    async def _edit(self, out: Outgoing, story_id: int) -> float:
        """Add the story's later reports to its message; seconds before the chat's next turn.

        Several pending reports of one story become one edit, and a message is edited at most
        once per `Policy.edit_gap` (the chat waits meanwhile, and more reports may join the edit). An
        edit Telegram refuses (message too old or deleted, not modified) sends nothing else:
        its rows are dropped and logged.
        """
        chat_id = out.chat_id
        target = await self._chats.edit_target(chat_id, story_id)
        if target is None:
            log.warning("delivery: chat %d: no message of story %d to edit", chat_id, story_id)
            await self._chats.drop_rows(
                [out.outbox_id], reason="no message to edit", now=self._clock()
            )
            return 0.0
        if target.edited is not None:
            gap = timedelta(seconds=self._policy.edit_gap)
            wait = (target.edited + gap - self._clock()).total_seconds()
            if wait > 0:
                return wait
        while (wait := self._pacer.acquire(chat_id, self._monotonic())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        text = with_also(
            self._format(_posted(out, target.first), html=True), target.first, target.later
        )
        pending = list(target.pending) or [out.outbox_id]
        try:
            try:
                await self._sender.edit(chat_id, target.message_id, text, html=True)
            finally:
                self._pacer.release(self._monotonic())
        except RetryLaterError as exc:
            log.warning("delivery: %s; pausing it %.0f s", exc, exc.retry_after)
            self._pacer.pause(chat_id, exc.retry_after, self._monotonic())
            return 0.0
        except TransientDeliveryError as exc:
            attempt = self._attempts.setdefault(out.outbox_id, _Attempt(text))
            attempt.errors += 1
            await self._chats.record_attempt(out.outbox_id, error=str(exc), now=self._clock())
            return self._backoff(attempt.errors)
        except DeliveryError as exc:
            log.warning(
                "delivery: chat %d: editing message %d failed; nothing else sent: %s",
                chat_id,
                target.message_id,
                exc,
            )
            await self._chats.drop_rows(pending, reason=f"edit failed: {exc}", now=self._clock())
            return 0.0
        self._attempts.pop(out.outbox_id, None)
        await self._chats.mark_edited(target, now=self._clock())
        return 0.0

    async def _unavailable(self, chat_id: int, error: str) -> bool:
        """Count the failure; True when the chat was deactivated."""
        now = self._clock()
        chat = await self._chats.record_unavailable(chat_id, error=error, now=now)
        policy = self._policy
        if chat is None:
            return True
        span = (now - chat.first_failure).total_seconds() if chat.first_failure else 0.0
        if chat.failures >= policy.unavailable_after and span >= policy.unavailable_span:
            log.warning(
                "delivery: chat %d deactivated after %d failures in %.0f s: %s",
                chat_id,
                chat.failures,
                span,
                error,
            )
            await self._chats.deactivate(chat_id, reason=error, now=now)
            return True
        log.warning("delivery: %s (failure %d); retrying later", error, chat.failures)
        return False

    async def _drop(self, out: Outgoing, reason: str) -> None:
        log.warning("delivery: dropping item %d for chat %d: %s", out.item.id, out.chat_id, reason)
        await self._chats.drop(out.outbox_id, reason=reason, now=self._clock())

    def _format(self, out: Outgoing, *, html: bool) -> str:
        render = format_telegram if html else format_plain
        return render(
            out.item,
            topic_names=self._topic_names,
            tz=self._tz,
            summary_limit=self._summary_limit,
        )

    def _backoff(self, failures: int) -> float:
        policy = self._policy
        return float(min(policy.backoff_max, policy.backoff_base * 2 ** min(failures - 1, 30)))
