"""Telegram through python-telegram-bot: sending one message, and announcing flagged items.

This is the one place where `telegram.error` is translated into our `DeliveryError` subclasses
(`telegram_errors`, in the manner of httpx's `map_httpcore_exceptions`):

    RetryAfter                              → RetryLaterError(retry_after)
    ChatMigrated                            → ChatMigratedError(new_chat_id)
    Forbidden (blocked, kicked, …)          → ChatUnavailableError
    BadRequest "chat not found", no rights  → ChatUnavailableError
    BadRequest "can't parse entities"       → UnparsableMessageError
    other BadRequest                        → MessageRejectedError
    TimedOut, NetworkError (5xx), others    → TransientDeliveryError

What to do about each (pause, retry, deactivate, fall back) is decided by `bot.telegram.delivery`.
`TelegramMessenger.announce` only wakes the delivery worker: the outbox rows were written in the
same transaction that stored the items.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.errors import (
    ChatMigratedError,
    ChatUnavailableError,
    MessageRejectedError,
    RetryLaterError,
    TransientDeliveryError,
    UnparsableMessageError,
)
from bot.models import StoredItem

log = logging.getLogger(__name__)

# Bad Requests that say the bot cannot write to the chat at all (as opposed to this message).
_UNAVAILABLE = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "bot was kicked",
    "bot is not a member",
    "group chat was deactivated",
    "chat_write_forbidden",
    "have no rights to send",
    "not enough rights to send",
    "need administrator rights",
)
_THREAD_GONE = ("message thread not found", "topic_deleted", "topic_closed")


def retry_seconds(value: int | float | timedelta) -> float:
    """RetryAfter.retry_after as seconds: PTB gives an int, or a timedelta with PTB_TIMEDELTA."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@contextmanager
def telegram_errors(chat_id: int) -> Iterator[None]:
    """Translate `telegram.error` raised inside into our DeliveryError subclasses."""
    try:
        yield
    except RetryAfter as exc:
        raise RetryLaterError(
            f"chat {chat_id}: flood control", retry_after=retry_seconds(exc.retry_after)
        ) from exc
    except ChatMigrated as exc:
        raise ChatMigratedError(
            f"chat {chat_id} migrated to {exc.new_chat_id}", new_chat_id=exc.new_chat_id
        ) from exc
    except Forbidden as exc:
        raise ChatUnavailableError(f"chat {chat_id}: {exc.message}") from exc
    except BadRequest as exc:  # before NetworkError, of which PTB makes it a subclass
        text = exc.message.lower()
        if "can't parse entities" in text or "can't find end of" in text:
            raise UnparsableMessageError(f"chat {chat_id}: {exc.message}") from exc
        if any(marker in text for marker in _UNAVAILABLE):
            raise ChatUnavailableError(f"chat {chat_id}: {exc.message}") from exc
        raise MessageRejectedError(f"chat {chat_id}: {exc.message}") from exc
    except InvalidToken as exc:
        # Someone must act (revoked token), but the messages must not be lost meanwhile.
        log.error("Telegram refuses the bot token: %s", exc.message)  # noqa: TRY400  (no traceback)
        raise TransientDeliveryError(f"chat {chat_id}: {exc.message}") from exc
    except TelegramError as exc:  # TimedOut, NetworkError (incl. 5xx), Conflict, ...
        raise TransientDeliveryError(f"chat {chat_id}: {exc.message}") from exc


class TelegramSender:
    """Sends one text message with a `telegram.Bot`; raises only DeliveryError subclasses."""

    def __init__(self, bot: Bot, *, link_previews: bool = False) -> None:
        self._bot = bot
        self._previews = LinkPreviewOptions(is_disabled=not link_previews)

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        html: bool,
        thread_id: int | None,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> int:
        """Send `text` (Telegram HTML if `html`, else plain) with `buttons`; the new message's id."""
        try:
            return await self._send(chat_id, text, html=html, thread_id=thread_id, buttons=buttons)
        except MessageRejectedError as exc:
            cause = exc.__cause__
            gone = isinstance(cause, BadRequest) and any(
                marker in cause.message.lower() for marker in _THREAD_GONE
            )
            if thread_id is None or not gone:
                raise
            # The forum topic was deleted or closed: the main chat is better than nothing.
            log.warning("chat %d: thread %d is gone; sending to the main chat", chat_id, thread_id)
            return await self._send(chat_id, text, html=html, thread_id=None, buttons=buttons)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        html: bool,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> None:
        """Replace the text of a message we sent (a story's message gaining outlets).

        Telegram drops the keyboard of a message edited without one: pass its `buttons` again.
        """
        with telegram_errors(chat_id):
            await self._bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=self._previews,
                reply_markup=buttons,
            )

    async def _send(
        self,
        chat_id: int,
        text: str,
        *,
        html: bool,
        thread_id: int | None,
        buttons: InlineKeyboardMarkup | None,
    ) -> int:
        return await send_text(
            self._bot,
            chat_id,
            text,
            html=html,
            thread_id=thread_id,
            previews=self._previews,
            buttons=buttons,
        )


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    html: bool,
    thread_id: int | None,
    previews: LinkPreviewOptions | None,
    buttons: InlineKeyboardMarkup | None = None,
) -> int:
    """Send one message (Telegram HTML or plain text, with an inline keyboard if given); its
    message id. Errors are ours."""
    with telegram_errors(chat_id):
        message = await bot.send_message(
            chat_id,
            text,
            # None, not the default: a Defaults(parse_mode=...) must not apply to plain text.
            parse_mode=ParseMode.HTML if html else None,
            message_thread_id=thread_id,
            link_preview_options=previews,
            reply_markup=buttons,
        )
    return message.message_id


class Waker(Protocol):
    """What the messenger needs of the delivery worker."""

    def wake(self) -> None:
        """Look at the outbox now."""
        ...


class TelegramMessenger:
    """The pipeline's messenger when Telegram is configured: wakes the delivery worker."""

    def __init__(self, bot: Bot, worker: Waker) -> None:
        self.bot = bot
        self._worker = worker

    async def announce(self, items: Sequence[StoredItem]) -> None:
        """The items are already in the outbox (same transaction); deliver them now."""
        if items:
            self._worker.wake()
