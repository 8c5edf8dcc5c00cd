"""Telegram's rate limits as the emulator enforces them: `RateLimits` and `RateLimiter`.

~1 message/s per private chat (small burst), 20/min per group or channel, 30/s overall, all in
Telegram seconds; `time_scale` runs the clocks faster. Pure: the caller passes `now` in.
Re-exported by `tests.emulator.server`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's documented limits, in Telegram seconds (see `time_scale`)."""

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    global_per_second: int = 30


class RateLimiter:
    """Per-chat token buckets (private), sliding windows (groups, overall); `acquire` -> wait."""

    def __init__(self, limits: RateLimits, time_scale: float = 1.0) -> None:
        self.limits, self.scale = limits, time_scale
        self._buckets: dict[int | str, tuple[float, float]] = {}
        self._windows: dict[int | str, deque[float]] = {}
        self._overall: deque[float] = deque()

    def acquire(self, chat_id: int | str, private: bool, now: float) -> float:
        """Take a slot and return 0, or return the real seconds until one frees up."""
        limits, waits = self.limits, []
        second = 1.0 / self.scale
        _prune(self._overall, now - second)
        if len(self._overall) >= limits.global_per_second:
            waits.append(self._overall[0] + second - now)
        if private:
            rate = limits.private_per_second * self.scale
            tokens, last = self._buckets.get(chat_id, (float(limits.private_burst), now))
            tokens = min(float(limits.private_burst), tokens + (now - last) * rate)
            self._buckets[chat_id] = (tokens, now)
            if tokens < 1:
                waits.append((1 - tokens) / rate)
        else:
            minute = 60.0 / self.scale
            window = self._windows.setdefault(chat_id, deque())
            _prune(window, now - minute)
            if len(window) >= limits.group_per_minute:
                waits.append(window[0] + minute - now)
        if waits:
            return max(max(waits), 1e-6)
        self._overall.append(now)
        if private:
            tokens, _ = self._buckets[chat_id]
            self._buckets[chat_id] = (tokens - 1, now)
        else:
            self._windows[chat_id].append(now)
        return 0.0


def _prune(window: deque[float], older_than: float) -> None:
    while window and window[0] <= older_than:
        window.popleft()
