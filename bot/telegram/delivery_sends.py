"""The delivery worker's send path: one attempt at a row, and what each outcome means.

`RowSender.send` sends a row's message once and settles what the answer means: on acceptance
the row is marked sent at once (after a crash only in-flight messages can repeat); flood
control pauses the chat (the pacer holds it back); network errors, timeouts and 5xx are resent
after a capped backoff; after "can't parse entities" the plain-text form is sent; a refusal
drops the row with its reason logged; a migrated group moves to its supergroup; "chat
unavailable" (blocked, kicked, not found) is retried later and deactivates the chat only after
`unavailable_after` failures in a row spanning at least `unavailable_span` seconds.
`bot.telegram.delivery.DeliveryWorker` owns one `RowSender`, keeps an `Attempt` per row while
it is retried, and does the scheduling, pacing and claims around each call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot import errors
from bot.storage.delivery import DeliveryStores
from bot.storage.outbox import Outgoing
from bot.telegram.feedback import Buttons
from bot.telegram.pacing import Pacer
from bot.telegram.sending import MessageSender

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Attempt:
    """What changes between the attempts at one row."""

    text: str
    html: bool = True
    errors: int = 0  # network errors, timeouts, 5xx so far


class RowSender:
    """Sends rows for the delivery worker and settles each answer (see the module docstring)."""

    def __init__(
        self,
        stores: DeliveryStores,
        sender: MessageSender,
        pacer: Pacer,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        render: Callable[[Outgoing, bool], str],
        backoff: Callable[[int], float],
        wake: Callable[[], None],
        on_delivered: Callable[[float], None] | None,
        unavailable_after: int,
        unavailable_span: float,
        unavailable_retry: float,
        buttons: Buttons | None = None,
    ) -> None:
        self._stores = stores
        self._sender = sender
        self._pacer = pacer
        self._clock = clock
        self._monotonic = monotonic
        self._render = render  # (row, html) -> the message text
        self._backoff = backoff  # seconds to wait after so many transient failures
        self._wake = wake  # rows moved (a migrated chat): look at the outbox again
        self._on_delivered = on_delivered  # seconds from first sight to delivery (metrics)
        self._unavailable_after = unavailable_after
        self._unavailable_span = unavailable_span
        self._unavailable_retry = unavailable_retry
        self._buttons = buttons  # relevance buttons, where the chat has feedback on

    async def send(self, out: Outgoing, attempt: Attempt) -> tuple[bool, bool, float]:
        """One send: (settled, the chat has more rows, seconds to wait before the next try)."""
        chat_id = out.chat_id
        buttons = (
            self._buttons.for_send(chat_id, out.feedback, out.item.id) if self._buttons else None
        )
        try:
            try:
                message_id = await self._sender.send(
                    chat_id,
                    attempt.text,
                    html=attempt.html,
                    thread_id=out.thread_id,
                    buttons=buttons,
                )
            finally:
                self._pacer.release(self._monotonic())
        except errors.RetryLaterError as exc:
            log.warning("delivery: %s; pausing it %.0f s", exc, exc.retry_after)
            self._pacer.pause(chat_id, exc.retry_after, self._monotonic())
            return False, True, 0.0  # the pacer holds this chat back
        except errors.TransientDeliveryError as exc:
            attempt.errors += 1
            delay = self._backoff(attempt.errors)
            log.warning("delivery: %s; retrying in %.1f s", exc, delay)
            await self._stores.sends.record_attempt(
                out.outbox_id, error=str(exc), now=self._clock()
            )
            return False, True, delay
        except errors.UnparsableMessageError as exc:
            if not attempt.html:
                await self._drop(out, str(exc))
                return True, True, 0.0
            log.warning("delivery: %s; sending it as plain text", exc)
            attempt.html, attempt.text = False, self._render(out, False)
            return False, True, 0.0
        except errors.MessageRejectedError as exc:
            await self._drop(out, str(exc))
            return True, True, 0.0
        except errors.ChatMigratedError as exc:
            log.info("delivery: %s; moving its subscription", exc)
            await self._stores.chats.migrate_chat(chat_id, exc.new_chat_id, now=self._clock())
            self._wake()  # the rows now wait under the new id
            return True, False, 0.0
        except errors.ChatUnavailableError as exc:
            if await self._unavailable(chat_id, str(exc)):
                return True, False, 0.0
            return False, True, self._unavailable_retry
        now = self._clock()
        more = await self._stores.sends.mark_sent(out.outbox_id, message_id=message_id, now=now)
        if self._on_delivered is not None:
            self._on_delivered((now - out.item.first_seen).total_seconds())
        return True, more, 0.0

    async def _unavailable(self, chat_id: int, error: str) -> bool:
        """Count the failure; True when the chat was deactivated."""
        now = self._clock()
        chat = await self._stores.failures.record_unavailable(chat_id, error=error, now=now)
        if chat is None:
            return True
        span = (now - chat.first_failure).total_seconds() if chat.first_failure else 0.0
        if chat.failures >= self._unavailable_after and span >= self._unavailable_span:
            log.warning(
                "delivery: chat %d deactivated after %d failures in %.0f s: %s",
                chat_id,
                chat.failures,
                span,
                error,
            )
            await self._stores.failures.deactivate(chat_id, reason=error, now=now)
            return True
        log.warning("delivery: %s (failure %d); retrying later", error, chat.failures)
        return False

    async def _drop(self, out: Outgoing, reason: str) -> None:
        """Give up on the row, logging why."""
        log.warning("delivery: dropping item %d for chat %d: %s", out.item.id, out.chat_id, reason)
        await self._stores.sends.drop(out.outbox_id, reason=reason, now=self._clock())
