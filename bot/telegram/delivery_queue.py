"""The delivery worker's chat queue: which chat's turn comes next, and when.

A chat with pending rows is scheduled once: ready now, or on a timer (its pacing, a
flood-control pause, a backoff), and held by one sender at a time while it is served. A chat
the dispatcher sees pending rows for while it is scheduled is "poked": when its sender finds
nothing more, it is scheduled again instead of dropped, so no row enqueued meanwhile is missed.
`bot.telegram.delivery.DeliveryWorker` builds one `ChatQueue`; its senders wait on `next_chat`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator


class ChatQueue:
    """Chats scheduled for a turn: ready, on a timer, or being served (see the module docstring)."""

    def __init__(self, *, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._work = asyncio.Event()  # the senders: a chat became ready
        self._scheduled: set[int] = set()  # chats ready, on a timer, or being served
        self._ready: deque[int] = deque()
        self._timers: list[tuple[float, int, int]] = []  # (when, sequence, chat id) heap
        self._sequence = itertools.count()
        self._hold: dict[int, float] = {}  # chat -> monotonic time of its next retry
        self._poked: set[int] = set()  # scheduled chats the dispatcher saw pending rows for

    def __len__(self) -> int:
        """Chats scheduled or being served."""
        return len(self._scheduled)

    def offer(self, chat_id: int) -> None:
        """The chat has pending rows: schedule it now, unless it is scheduled already."""
        if chat_id in self._scheduled:
            self._poked.add(chat_id)  # its sender may just have found nothing more
        else:
            self._scheduled.add(chat_id)
            self.schedule(chat_id, 0.0)

    def schedule(self, chat_id: int, delay: float) -> None:
        """Give the chat its next turn after `delay` seconds (now when not positive)."""
        if delay <= 0:
            self._ready.append(chat_id)
        else:
            when = self._monotonic() + delay
            heapq.heappush(self._timers, (when, next(self._sequence), chat_id))
        self._work.set()

    def retry_in(self, chat_id: int, delay: float) -> None:
        """Hold the chat back `delay` seconds and give it its turn then."""
        self.hold(chat_id, delay)
        self.schedule(chat_id, delay)

    def hold(self, chat_id: int, seconds: float) -> None:
        """Keep the chat from sending for `seconds` (a turn before then waits out the rest)."""
        self._hold[chat_id] = self._monotonic() + seconds

    def held(self, chat_id: int, now: float) -> float:
        """Seconds the chat is still held back (not positive: free)."""
        return self._hold.get(chat_id, now) - now

    def free(self, chat_id: int) -> None:
        """The chat's hold is over."""
        self._hold.pop(chat_id, None)

    def finish(self, chat_id: int) -> bool:
        """The chat's sender found nothing more: True if it left the queue, False if rows
        arrived meanwhile and it was scheduled again."""
        if chat_id in self._poked:  # rows arrived meanwhile: keep going
            self._poked.discard(chat_id)
            self.schedule(chat_id, 0.0)
            return False
        self._scheduled.discard(chat_id)
        return True

    def drop(self, chat_id: int) -> None:
        """Take the chat out of the queue (the dispatcher's next look brings it back)."""
        self._scheduled.discard(chat_id)

    def seen(self, chat_ids: Iterable[int]) -> None:
        """The chats' pending rows are being read now: earlier pokes are answered."""
        self._poked.difference_update(chat_ids)

    def ready(self) -> Iterator[int]:
        """The chats ready for a turn, in their order."""
        return iter(self._ready)

    async def next_chat(self) -> int:
        """Wait for a chat whose turn it is, and take it."""
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

    def clear(self) -> None:
        """Forget every chat (the worker stopped)."""
        for state in (self._scheduled, self._ready, self._timers, self._hold, self._poked):
            state.clear()
