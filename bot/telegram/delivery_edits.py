"""The delivery worker's edit path: a later report of a story edits the message already posted.

An outbox row of kind "edit" (see `bot.storage.outbox_edits`) does not become a new message:
`StoryEditor.edit` adds the story's later reports under "Also:" to the message the chat got for
the story. Several pending reports of one story become one edit, and a message is edited at most
once per `edit_gap` seconds (the chat waits meanwhile, and more reports may join the edit). An
edit Telegram refuses (message too old or deleted, not modified) sends nothing else: its rows
are dropped and logged. `bot.telegram.delivery.DeliveryWorker` owns one `StoryEditor` and calls
it for each edit row it holds; pacing and backoff are the worker's, passed in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.errors import DeliveryError, RetryLaterError, TransientDeliveryError
from bot.models import StoredItem
from bot.review.also import with_also
from bot.storage.delivery import DeliveryStores
from bot.storage.outbox import Outgoing
from bot.telegram.feedback import Buttons
from bot.telegram.pacing import Pacer
from bot.telegram.sending import MessageEditor

log = logging.getLogger(__name__)


def _posted(out: Outgoing, first: StoredItem) -> Outgoing:
    """An Outgoing for the story's first report, to render the message as it was posted."""
    return replace(out, item=first)


class StoryEditor:
    """Edits stories' messages for the delivery worker; `edit` per row, `clear` on stop."""

    def __init__(
        self,
        stores: DeliveryStores,
        sender: MessageEditor,
        pacer: Pacer,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        edit_gap: float,
        render: Callable[[Outgoing], str],
        backoff: Callable[[int], float],
        buttons: Buttons | None = None,
    ) -> None:
        self._edits, self._sends = stores.edits, stores.sends
        self._sender = sender
        self._pacer = pacer
        self._clock = clock
        self._monotonic = monotonic
        self._edit_gap = edit_gap
        self._render = render  # the message's HTML form
        self._backoff = backoff  # seconds to wait after so many transient failures
        self._errors: dict[int, int] = {}  # by outbox id: transient failures so far
        self._buttons = buttons  # kept on the edited message where the chat has feedback on

    def clear(self) -> None:
        """Forget the failure counts (the worker stopped)."""
        self._errors.clear()

    async def edit(self, out: Outgoing, story_id: int) -> float:
        """Add the story's later reports to its message; seconds before the chat's next turn."""
        chat_id = out.chat_id
        target = await self._edits.edit_target(chat_id, story_id)
        if target is None:
            log.warning("delivery: chat %d: no message of story %d to edit", chat_id, story_id)
            await self._edits.drop_rows(
                [out.outbox_id], reason="no message to edit", now=self._clock()
            )
            return 0.0
        if target.edited is not None:
            gap = timedelta(seconds=self._edit_gap)
            wait = (target.edited + gap - self._clock()).total_seconds()
            if wait > 0:
                return wait
        while (wait := self._pacer.acquire(chat_id, self._monotonic())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        text = with_also(self._render(_posted(out, target.first)), target.first, target.later)
        pending = list(target.pending) or [out.outbox_id]
        buttons = (
            await self._buttons.for_edit(chat_id, out.feedback, target.first.id)
            if self._buttons
            else None
        )
        try:
            try:
                await self._sender.edit(
                    chat_id, target.message_id, text, html=True, buttons=buttons
                )
            finally:
                self._pacer.release(self._monotonic())
        except RetryLaterError as exc:
            log.warning("delivery: %s; pausing it %.0f s", exc, exc.retry_after)
            self._pacer.pause(chat_id, exc.retry_after, self._monotonic())
            return 0.0
        except TransientDeliveryError as exc:
            errors = self._errors[out.outbox_id] = self._errors.get(out.outbox_id, 0) + 1
            await self._sends.record_attempt(out.outbox_id, error=str(exc), now=self._clock())
            return self._backoff(errors)
        except DeliveryError as exc:
            log.warning(
                "delivery: chat %d: editing message %d failed; nothing else sent: %s",
                chat_id,
                target.message_id,
                exc,
            )
            await self._edits.drop_rows(pending, reason=f"edit failed: {exc}", now=self._clock())
            return 0.0
        self._errors.pop(out.outbox_id, None)
        await self._edits.mark_edited(target, now=self._clock())
        return 0.0
