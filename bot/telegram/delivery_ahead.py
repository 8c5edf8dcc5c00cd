"""The delivery worker's read-ahead: a chat's next row, read together with other ready chats'.

When a chat's turn comes and its next row is not known yet, the first pending rows of up to
`read_ahead` chats waiting in the queue are read in one query (and, with several processes,
claimed in one statement), so a fan-out to thousands of chats costs few round trips. A row read
for another chat is kept for that chat's turn, unless another sender served the chat while the
read was under way (then it is stale and read again). `bot.telegram.delivery.DeliveryWorker`
builds one `ReadAhead` over its `ChatQueue` and claims.
"""

from __future__ import annotations

import itertools

from bot.storage.outbox import Outbox, Outgoing
from bot.telegram.delivery_claims import DeliveryClaims
from bot.telegram.delivery_queue import ChatQueue

_UNKNOWN = object()  # no row read ahead for the chat


class ReadAhead:
    """Rows read ahead by chat (None: the chat is known to have none); `row` per turn."""

    def __init__(
        self, outbox: Outbox, claims: DeliveryClaims, queue: ChatQueue, *, read_ahead: int
    ) -> None:
        self._outbox = outbox
        self._claims = claims
        self._queue = queue
        self._read_ahead = read_ahead
        self._ahead: dict[int, Outgoing | None] = {}  # rows read ahead (None: known empty)
        self._turns: dict[int, int] = {}  # chat -> sequence number of its latest turn
        self._sequence = itertools.count()

    async def row(self, chat_id: int) -> Outgoing | None:
        """The chat's next row at the start of its turn: read ahead before, or read now."""
        self._turns[chat_id] = next(self._sequence)
        ahead = self._ahead.pop(chat_id, _UNKNOWN)
        if ahead is not _UNKNOWN:
            return ahead  # type: ignore[return-value]
        batch = [chat_id]
        for other in self._queue.ready():
            if len(batch) >= self._read_ahead:
                break
            if other not in self._ahead:
                batch.append(other)
        self._queue.seen(batch)  # anything enqueued from now on is seen below
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

    def keep(self, chat_id: int, out: Outgoing) -> None:
        """The chat's row is to be tried again at its next turn."""
        self._ahead[chat_id] = out

    async def prefetch(self, chat_id: int) -> None:
        """Read the chat's next row now, while it waits for its turn."""
        self._queue.seen([chat_id])
        self._ahead[chat_id] = (await self._outbox.first_pending([chat_id])).get(chat_id)

    def forget(self, chat_id: int) -> None:
        """Drop what was read ahead for the chat: its next turn reads again."""
        self._ahead.pop(chat_id, None)

    def clear(self) -> None:
        """Forget everything read ahead (the worker stopped)."""
        self._ahead.clear()
        self._turns.clear()
