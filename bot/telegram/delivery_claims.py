"""The delivery worker's claims on outbox rows, when several processes send from one database.

Each row is claimed before it is sent (`bot.storage.outbox_sends.OutboxSends.claim`): the rows a
worker reads ahead are claimed in one statement, a claim is renewed when half its time has
passed, and on a clean stop the claims still held are released rather than left to expire.
With no `holder` the worker is the only sender and nothing is claimed. `DeliveryClaims` keeps
the worker's side of this: when it claimed which row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.errors import StoreError
from bot.storage.outbox import Outgoing
from bot.storage.outbox_sends import OutboxSends

log = logging.getLogger(__name__)


class DeliveryClaims:
    """Claims rows for one worker (`holder`); with no holder every row is the worker's."""

    def __init__(
        self,
        sends: OutboxSends,
        holder: str | None,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        ttl: float,
    ) -> None:
        self._sends = sends
        self.holder = holder  # None: the only sender, rows are not claimed
        self._clock = clock
        self._monotonic = monotonic
        self._ttl = ttl
        self._claimed: dict[int, float] = {}  # outbox id -> monotonic time we claimed it

    async def hold(self, out: Outgoing) -> bool:
        """Whether this worker may send the row: it holds a claim on it, fresh or renewed now."""
        if self.holder is None:
            return True
        claimed = self._claimed.get(out.outbox_id)
        if claimed is not None and self._monotonic() - claimed < self._ttl / 2:
            return True
        return bool(await self.claim([out.outbox_id]))

    async def claim(self, outbox_ids: list[int]) -> set[int]:
        """Claim the rows (needs a holder); the ids this worker now holds."""
        assert self.holder is not None  # noqa: S101 (checked by the callers)
        now = self._monotonic()
        ids = await self._sends.claim(outbox_ids, self.holder, now=self._clock(), ttl=self._ttl)
        for outbox_id in outbox_ids:
            if outbox_id in ids:
                self._claimed[outbox_id] = now
            else:
                self._claimed.pop(outbox_id, None)
        return ids

    def settled(self, outbox_id: int) -> None:
        """The row is sent, edited or dropped: its claim needs no renewal."""
        self._claimed.pop(outbox_id, None)

    async def release(self) -> None:
        """Forget every claim; unsent rows go back to the pool now rather than on expiry."""
        self._claimed.clear()
        if self.holder is None:
            return
        try:
            await self._sends.release_claims(self.holder)
        except StoreError as exc:
            log.warning("delivery: could not release claims (they expire by themselves): %s", exc)
