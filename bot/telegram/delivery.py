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
(the claims are kept by `bot.telegram.delivery_claims`). Which chat goes next is
`bot.telegram.delivery_queue.ChatQueue`; the rows read ahead are `bot.telegram.delivery_ahead`.

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

Steps 2, 3 and 5 are `bot.telegram.delivery_sends`; this module runs the dispatcher and the
senders and takes each chat through its turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from bot.errors import StoreError
from bot.storage.chat_tables import EDIT
from bot.storage.delivery import DeliveryStores
from bot.storage.outage import OutageReporter
from bot.storage.outbox import Outgoing
from bot.telegram.delivery_ahead import ReadAhead
from bot.telegram.delivery_claims import DeliveryClaims
from bot.telegram.delivery_edits import StoryEditor
from bot.telegram.delivery_queue import ChatQueue
from bot.telegram.delivery_sends import Attempt, RowSender
from bot.telegram.feedback import Buttons
from bot.telegram.pacing import Pacer
from bot.telegram.sending import Sender
from bot.text.formatting import format_plain, format_telegram

log = logging.getLogger(__name__)


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

    def backoff(self, failures: int) -> float:
        """Seconds to wait after so many network errors, timeouts or 5xx in a row (capped)."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** min(failures - 1, 30)))


@dataclass(frozen=True, slots=True)
class RowText:
    """A row's message text: its item as Telegram HTML, or as plain text."""

    topic_names: Mapping[str, str]
    tz: tzinfo
    summary_limit: int

    def __call__(self, out: Outgoing, html: bool = True) -> str:
        """The message for the row's item (`html` False: the plain-text form)."""
        render = format_telegram if html else format_plain
        return render(
            out.item, topic_names=self.topic_names, tz=self.tz, summary_limit=self.summary_limit
        )


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
        self._text = RowText(dict(topic_names), tz, summary_limit)
        self._pacer = pacer or Pacer()
        self._policy = policy or Policy()
        self._monotonic = monotonic
        self._outage = OutageReporter("delivery", log, monotonic=monotonic)
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
            render=self._text,
            backoff=self._policy.backoff,
            buttons=buttons,
        )
        self._sends = RowSender(
            stores,
            sender,
            self._pacer,
            clock=clock,
            monotonic=monotonic,
            render=self._text,
            backoff=self._policy.backoff,
            wake=self.wake,
            on_delivered=on_delivered,
            unavailable_after=self._policy.unavailable_after,
            unavailable_span=self._policy.unavailable_span,
            unavailable_retry=self._policy.unavailable_retry,
            buttons=buttons,
        )
        self._queue = ChatQueue(monotonic=monotonic)
        self._ahead = ReadAhead(stores.outbox, self._claims, self._queue, read_ahead=read_ahead)
        self._wakeup = asyncio.Event()  # the dispatcher: look at the outbox
        self._attempts: dict[int, Attempt] = {}  # by outbox id, while a row is retried
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[Any]] = set()  # senders in the middle of a turn
        self._stopping = False

    @property
    def active_lanes(self) -> int:
        """Chats scheduled or being delivered to right now."""
        return len(self._queue)

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
        self._queue.clear()
        self._ahead.clear()
        self._attempts.clear()
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
                self._queue.offer(chat_id)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._policy.recheck):
                    await self._wakeup.wait()

    def _unschedule(self, chat_id: int) -> None:
        if self._queue.finish(chat_id):
            self._ahead.forget(chat_id)

    async def _serve(self) -> None:
        me = asyncio.current_task()
        assert me is not None  # noqa: S101 (started with create_task)
        while not self._stopping:
            chat_id = await self._queue.next_chat()
            self._busy.add(me)
            try:
                await self._turn(chat_id)
                self._outage.succeeded()
            except StoreError as exc:
                # The row stays pending; at worst a sent message is resent (never skipped).
                self._outage.failed(exc)
                self._queue.retry_in(chat_id, self._policy.backoff_max / 10)
            except Exception:
                # A bug must not end delivery: drop the chat; the next recheck picks it up.
                log.exception("delivery: chat %d: unexpected error", chat_id)
                self._queue.drop(chat_id)
                self._ahead.forget(chat_id)
            finally:
                self._busy.discard(me)

    # --- one turn of one chat ------------------------------------------------------------------

    async def _turn(self, chat_id: int) -> None:
        """Send the chat's next row if it is the chat's turn; reschedule or unschedule it."""
        now = self._monotonic()
        wait = max(self._pacer.chat_wait(chat_id, now), self._queue.held(chat_id, now))
        if wait > 0:
            self._queue.schedule(chat_id, wait)
            return
        self._queue.free(chat_id)
        out = await self._ahead.row(chat_id)
        if out is None:
            self._unschedule(chat_id)
            return
        if not await self._claims.hold(out):
            # Another process is sending this chat's next row: leave the chat to it a while.
            self._ahead.forget(chat_id)
            self._queue.retry_in(chat_id, self._policy.claimed_retry)
            return
        if out.kind == EDIT and out.story_id is not None:
            delay = await self._edits.edit(out, out.story_id)
            self._claims.settled(out.outbox_id)
            self._queue.hold(chat_id, delay)
            wait = self._pacer.chat_wait(chat_id, self._monotonic())
            self._queue.schedule(chat_id, max(delay, wait))
            return
        # The pacer says exactly how long to wait for the overall rate (ASYNC110).
        while (wait := self._pacer.acquire(chat_id, self._monotonic())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        attempt = self._attempts.setdefault(out.outbox_id, Attempt(self._text(out)))
        settled, more, delay = await self._sends.send(out, attempt)
        if not settled:
            self._ahead.keep(chat_id, out)  # the same row again, after the delay
            self._queue.retry_in(chat_id, delay)
            return
        self._attempts.pop(out.outbox_id, None)
        self._claims.settled(out.outbox_id)
        if not more:
            self._unschedule(chat_id)
            return
        if self._pacer.chat_wait(chat_id, self._monotonic()) > 0:
            # Read the next row while the chat waits, so its pacing is not stretched by a read.
            await self._ahead.prefetch(chat_id)
        self._queue.schedule(chat_id, self._pacer.chat_wait(chat_id, self._monotonic()))
