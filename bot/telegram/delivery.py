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
and a chat whose next row another sender holds is left to it for `claimed_retry` seconds
(the claims are kept by `bot.telegram.delivery_claims`).

Per message, in order:
1. the chat's turn (per-chat pacing or pause), then a place in the overall rate (`Pacer`);
2. send (HTML; after "can't parse entities", the plain-text form);
3. on acceptance mark the row sent at once — after a crash only in-flight messages can repeat;
4. a row of kind "edit" (a later report of a story the chat already has a message for) edits
   that message instead (`bot.telegram.delivery_edits`: coalesced, at most once a minute,
   never a new message);
5. on failure: flood control pauses the chat and resends; network errors, timeouts and 5xx are
   resent after a capped backoff; "chat unavailable" (blocked, kicked, not found) is retried
   later and deactivates the chat only after `unavailable_after` failures in a row spanning at
   least `unavailable_span`; a migrated group moves to its supergroup; any other refusal drops
   the row with its reason logged.

Steps 2, 3 and 5 are `bot.telegram.delivery_sends`; this module schedules the chats.
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
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol

from telegram import InlineKeyboardMarkup

from bot.errors import StoreError
from bot.storage.chat_tables import EDIT
from bot.storage.delivery import DeliveryStores
from bot.storage.outage import OutageReporter
from bot.storage.outbox import Outgoing
from bot.telegram.delivery_claims import DeliveryClaims
from bot.telegram.delivery_edits import StoryEditor
from bot.telegram.delivery_sends import Attempt, RowSender
from bot.telegram.feedback import Buttons
from bot.telegram.pacing import Pacer
from bot.text.formatting import format_plain, format_telegram

log = logging.getLogger(__name__)


class Sender(Protocol):
    """Sends one message; raises only `DeliveryError` subclasses (`bot.telegram.messenger` translates `telegram.error`)."""

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        html: bool,
        thread_id: int | None,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> int:
        """Send `text` to the chat (and forum thread); the id Telegram gave the message."""
        ...

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        html: bool,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> None:
        """Replace the text of a message sent before (and its buttons: none drops them)."""
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


_UNKNOWN = object()  # no row read ahead for the chat


class DeliveryWorker:
    """Delivers pending outbox rows; `start()`, `wake()` when rows were added, `stop()`."""

    def __init__(
        self,
        stores: DeliveryStores,
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
        buttons: Buttons | None = None,
    ) -> None:
        self._outbox = stores.outbox
        self._sender = sender
        self._topic_names = dict(topic_names)
        self._tz = tz
        self._clock = clock
        self._pacer = pacer or Pacer()
        self._policy = policy or Policy()
        self._monotonic = monotonic
        self._outage = OutageReporter("delivery", log, monotonic=monotonic)
        self._summary_limit = summary_limit
        self._read_ahead = read_ahead
        self._claims = DeliveryClaims(
            stores.sends, holder, clock=clock, monotonic=monotonic, ttl=self._policy.claim_ttl
        )
        self._edits = StoryEditor(
            stores,
            sender,
            self._pacer,
            clock=clock,
            monotonic=monotonic,
            edit_gap=self._policy.edit_gap,
            render=lambda out: self._format(out, html=True),
            backoff=self._backoff,
            buttons=buttons,
        )
        self._sends = RowSender(
            stores,
            sender,
            self._pacer,
            clock=clock,
            monotonic=monotonic,
            render=lambda out, html: self._format(out, html=html),
            backoff=self._backoff,
            wake=self.wake,
            on_delivered=on_delivered,
            unavailable_after=self._policy.unavailable_after,
            unavailable_span=self._policy.unavailable_span,
            unavailable_retry=self._policy.unavailable_retry,
            buttons=buttons,
        )
        self._wakeup = asyncio.Event()  # the dispatcher: look at the outbox
        self._work = asyncio.Event()  # the senders: a chat became ready
        self._scheduled: set[int] = set()  # chats ready, on a timer, or being served
        self._ready: deque[int] = deque()
        self._timers: list[tuple[float, int, int]] = []  # (when, sequence, chat id) heap
        self._sequence = itertools.count()
        self._hold: dict[int, float] = {}  # chat -> monotonic time of its next retry
        self._poked: set[int] = set()  # scheduled chats the dispatcher saw pending rows for
        self._ahead: dict[int, Outgoing | None] = {}  # rows read ahead (None: known empty)
        self._attempts: dict[int, Attempt] = {}  # by outbox id, while a row is retried
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
        self._edits.clear()
        await self._claims.release()

    # --- scheduling ----------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            self._wakeup.clear()  # before reading, so a wake during the read is not lost
            try:
                pending = await self._outbox.pending_chats()
                self._outage.succeeded()
            except StoreError as exc:
                self._outage.failed(exc)
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
                self._outage.succeeded()
            except StoreError as exc:
                # The row stays pending; at worst a sent message is resent (never skipped).
                self._outage.failed(exc)
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
        if not await self._claims.hold(out):
            # Another process is sending this chat's next row: leave the chat to it a while.
            self._ahead.pop(chat_id, None)
            self._hold_for(chat_id, self._policy.claimed_retry)
            self._schedule(chat_id, self._policy.claimed_retry)
            return
        if out.kind == EDIT and out.story_id is not None:
            delay = await self._edits.edit(out, out.story_id)
            self._claims.settled(out.outbox_id)
            self._hold_for(chat_id, delay)
            self._schedule(chat_id, max(delay, self._pacer.chat_wait(chat_id, self._monotonic())))
            return
        # The pacer says exactly how long to wait for the overall rate (ASYNC110).
        while (wait := self._pacer.acquire(chat_id, self._monotonic())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        attempt = self._attempts.setdefault(out.outbox_id, Attempt(self._format(out, html=True)))
        settled, more, delay = await self._sends.send(out, attempt)
        if not settled:
            self._ahead[chat_id] = out  # the same row again, after the delay
            self._hold_for(chat_id, delay)
            self._schedule(chat_id, delay)
            return
        self._attempts.pop(out.outbox_id, None)
        self._claims.settled(out.outbox_id)
        if not more:
            self._unschedule(chat_id)
            return
        if self._pacer.chat_wait(chat_id, self._monotonic()) > 0:
            # Read the next row while the chat waits, so its pacing is not stretched by a read.
            self._poked.discard(chat_id)
            self._ahead[chat_id] = (await self._outbox.first_pending([chat_id])).get(chat_id)
        self._schedule(chat_id, self._pacer.chat_wait(chat_id, self._monotonic()))

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
        found = await self._outbox.first_pending(batch)
        if self._claims.holder is not None and found:
            # One claim for the batch; rows another sender holds are not read ahead.
            mine = await self._claims.claim([out.outbox_id for out in found.values()])
            found = {chat: out for chat, out in found.items() if out.outbox_id in mine} | (
                {chat_id: found[chat_id]} if chat_id in found else {}
            )
        for other in batch[1:]:
            # Another sender may have served that chat while we read: then ours is stale.
            if other not in self._ahead and self._turns.get(other) == turns[other]:
                self._ahead[other] = found.get(other)
        return found.get(chat_id)

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
