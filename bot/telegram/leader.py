"""Leadership among the processes on one database: who long-polls Telegram and sends the outbox.

Telegram allows one `getUpdates` long poll per bot (a second gets 409 Conflict) and counts its
flood limits per bot, not per process, so one process at a time does both. The leader holds the
lease `LEADER_LEASE` (`bot.storage.leases.LeaseStore`) and renews it every third of its duration;
the others try to take it just as often, so when the leader dies (even by `kill -9`) another takes
over within the lease's duration plus a third. A leader that cannot renew (the database is away)
steps down before its lease can have run out, so two never lead at once; a clean stop releases the
lease, and a successor takes over at its next try. Webhook mode needs no leader to receive updates
(Telegram posts each to one process); the lease then only picks the sender.

`is_leader` is a plain attribute for whoever wants to show it (health, metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.errors import StoreError
from bot.storage.leases import LeaseStore
from bot.storage.outage import OutageReporter

log = logging.getLogger(__name__)

LEADER_LEASE = "telegram-leader"
Hook = Callable[[], Awaitable[None]]


class Leadership:
    """Takes, keeps and gives up the leader lease; runs `on_gain` and `on_lose` as that changes."""

    def __init__(
        self,
        leases: LeaseStore,
        *,
        holder: str,
        ttl: float,
        clock: Callable[[], datetime],
        on_gain: Hook,
        on_lose: Hook,
        monotonic: Callable[[], float] = time.monotonic,
        name: str = LEADER_LEASE,
    ) -> None:
        self._leases = leases
        self.holder = holder
        self._ttl = ttl
        self._clock = clock
        self._on_gain = on_gain
        self._on_lose = on_lose
        self._monotonic = monotonic
        self._name = name
        self.is_leader = False
        self._renewed = 0.0  # monotonic time of the last successful take or renewal
        self._task: asyncio.Task[None] | None = None
        self._changing = asyncio.Lock()
        self._outage = OutageReporter("leadership", log, monotonic=self._monotonic)

    def start(self) -> None:
        """Start trying for the lease in the background (the first try is at once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="leadership")

    async def stop(self) -> None:
        """Stop trying; a leader steps down (running `on_lose`) and releases the lease."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.is_leader:
            await self._step_down("stopping", planned=True)
            try:
                await self._leases.release(self._name, self.holder, now=self._clock())
            except StoreError as exc:
                log.warning("could not release the leader lease (it expires by itself): %s", exc)

    async def try_once(self) -> bool:
        """One take-or-renew; runs the hooks on a change. Whether this process leads now."""
        try:
            held = await self._leases.hold(
                self._name, self.holder, now=self._clock(), ttl=self._ttl
            )
        except StoreError as exc:
            self._outage.failed(exc)
            # Keep leading while the lease surely still holds; step down well before it may not.
            if self.is_leader and self._monotonic() - self._renewed >= self._ttl * 2 / 3:
                await self._step_down(f"cannot renew the lease ({exc})")
            return self.is_leader
        self._outage.succeeded()
        if held:
            self._renewed = self._monotonic()
            if not self.is_leader:
                async with self._changing:
                    self.is_leader = True
                    log.info("this process (%s) is now the leader", self.holder)
                    await self._run_hook(self._on_gain, "taking the lead")
        elif self.is_leader:
            await self._step_down("another process holds the lease")
        return self.is_leader

    async def _loop(self) -> None:
        while True:
            await self.try_once()
            await asyncio.sleep(self._ttl / 3)

    async def _step_down(self, why: str, *, planned: bool = False) -> None:
        async with self._changing:
            if not self.is_leader:
                return
            self.is_leader = False
            # A planned stop (SIGTERM, a deploy) is news, not a warning.
            level = logging.INFO if planned else logging.WARNING
            log.log(level, "this process (%s) is no longer the leader: %s", self.holder, why)
            await self._run_hook(self._on_lose, "stepping down")

    @staticmethod
    async def _run_hook(hook: Hook, what: str) -> None:
        try:
            await hook()
        # A failing hook (Telegram away) must not end the loop: the lease is what counts, and
        # the next change runs the hooks again.
        except Exception:
            log.exception("leadership: %s failed", what)
