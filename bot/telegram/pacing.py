"""Pacing of outgoing messages under Telegram's limits, so that we never provoke a 429 ourselves.

Telegram allows about one message a second to a private chat, 20 a minute to a group,
supergroup or channel (negative chat ids) and 30 a second overall. `Pacer` keeps, per chat, the
earliest time it may be written to again, and for the whole bot a sliding window of the send
answers of the last second plus the sends in flight (an upper bound of Telegram's own
counter), and an even spacing of sends. A flood-limited chat is
paused on its own (`pause`): no other chat waits for it.

Pure: times are plain seconds from a clock the caller reads (`time.monotonic()` in production,
a fake in tests); nothing here sleeps. `Limits.scale` divides every interval, so tests and
benchmarks can run against an emulator whose clock runs that many times faster.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

_FORGET_AFTER = 4096  # chats remembered before entries that no longer constrain are forgotten


@dataclass(frozen=True, slots=True)
class Limits:
    """Intervals in Telegram seconds; `scale` > 1 runs them that many times faster."""

    private_interval: float = 1.0 / 0.97  # ~1 msg/s per private chat, with a 3% margin
    group_interval: float = 60.0 / 20 / 0.97  # 20/min per group, supergroup or channel
    global_per_second: int = 29  # overall; Telegram allows 30
    scale: float = 1.0

    def __post_init__(self) -> None:
        if min(self.private_interval, self.group_interval) < 0 or self.scale <= 0:
            raise ValueError("pacing intervals must be >= 0 and the scale > 0")
        if self.global_per_second < 1:
            raise ValueError("global_per_second must be at least 1")

    def interval(self, chat_id: int) -> float:
        """Real seconds between two messages to `chat_id` (groups and channels have ids < 0)."""
        per_chat = self.group_interval if chat_id < 0 else self.private_interval
        return per_chat / self.scale

    @property
    def window(self) -> float:
        """Real seconds of the overall window in which `global_per_second` messages may go."""
        return 1.0 / self.scale


class Pacer:
    """Per-chat spacing plus an overall sliding window; `acquire` books a send or says how long to wait."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._ready: dict[int, float] = {}  # chat id -> earliest next send
        # Overall: sends in flight, and the times their answers came within the last window.
        # Telegram counts a message when it arrives, somewhere between our send and its answer;
        # counting it until its answer is a window old makes our count an upper bound of
        # Telegram's however the network delays requests, so the overall limit is never hit.
        self._in_flight = 0
        self._answered: deque[float] = deque()
        # Overall spacing too (GCRA, bursts of two): a window filled in one burst would let
        # network jitter push its tail into the next window's count at Telegram.
        self._spacing = 1.0 / (self.limits.global_per_second * self.limits.scale)
        self._tat = float("-inf")  # theoretical time of the next overall send

    def chat_wait(self, chat_id: int, now: float) -> float:
        """Seconds until `chat_id` may be written to again (pacing or a pause), ignoring others."""
        return max(0.0, self._ready.get(chat_id, now) - now)

    def acquire(self, chat_id: int, now: float) -> float:
        """0.0: the send is booked, go now (then `release`). Otherwise seconds to wait first."""
        waits = [self.chat_wait(chat_id, now), self._tat - self._spacing - now]
        window = self.limits.window
        while self._answered and self._answered[0] <= now - window:
            self._answered.popleft()
        if len(self._answered) + self._in_flight >= self.limits.global_per_second:
            # All in flight: no answer time to wait for yet, so look again one spacing later.
            waits.append(self._answered[0] + window - now if self._answered else self._spacing)
        wait = max(waits)
        if wait > 0:
            return wait
        self._in_flight += 1
        self._tat = max(self._tat, now) + self._spacing
        self._ready[chat_id] = now + self.limits.interval(chat_id)
        if len(self._ready) > _FORGET_AFTER:
            self._forget(now)
        return 0.0

    def release(self, now: float) -> None:
        """The send booked by `acquire` got its answer (or failed) at `now`."""
        self._in_flight = max(0, self._in_flight - 1)
        self._answered.append(now)

    def pause(self, chat_id: int, seconds: float, now: float) -> None:
        """Flood control for one chat: nothing goes to it for `seconds` (Telegram seconds)."""
        until = now + max(0.0, seconds) / self.limits.scale
        self._ready[chat_id] = max(self._ready.get(chat_id, until), until)

    def _forget(self, now: float) -> None:
        # A chat whose next slot has passed is no different from one never seen.
        self._ready = {chat: t for chat, t in self._ready.items() if t > now}
