"""`GET /healthz`: is the database reachable, is the scheduler running, are polls completing.

Healthy means all three. A platform's health check restarts a process that answers 503, so the
staleness rule is generous: no poll completed for `stale_after` seconds (set by `app` from the
longest interval) while sources are being polled, counted from start-up until the first poll.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.errors import StoreError
from bot.models import Source
from bot.polling.decide import SourceReport
from bot.storage.status import StatusStore


class Health:
    """Keeps the time of the last completed poll and answers the health check."""

    def __init__(
        self,
        status: StatusStore,
        *,
        scheduler_running: Callable[[], bool],
        polled_sources: Callable[[], int],
        clock: Callable[[], datetime],
        stale_after: float,
    ) -> None:
        self._status = status
        self._scheduler_running = scheduler_running
        self._polled_sources = polled_sources
        self._clock = clock
        self.stale_after = stale_after
        self._started = clock()
        self.last_poll: datetime | None = None

    async def on_report(self, source: Source, report: SourceReport) -> None:
        """A scheduler report hook: a poll completed (whatever its outcome)."""
        self.last_poll = self._clock()

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON body): status "ok", or "unhealthy" with the reasons."""
        reasons: list[str] = []
        database = "ok"
        try:
            await self._status.ping()
        except StoreError:
            # The error names the database (password masked); the reason here stays generic.
            database = "unreachable"
            reasons.append("database unreachable")
        running = self._scheduler_running()
        if not running:
            reasons.append("scheduler not running")
        now = self._clock()
        since = self.last_poll or self._started
        idle = (now - since).total_seconds()
        if running and self._polled_sources() > 0 and idle > self.stale_after:
            reasons.append(f"no poll completed for {idle:.0f} s")
        body: dict[str, Any] = {
            "status": "unhealthy" if reasons else "ok",
            "database": database,
            "scheduler": "running" if running else "stopped",
            "last_poll": self.last_poll.isoformat() if self.last_poll else None,
            "sources": self._polled_sources(),
        }
        if reasons:
            body["reasons"] = reasons
        return not reasons, body
