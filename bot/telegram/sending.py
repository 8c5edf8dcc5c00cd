"""The seam between delivery and Telegram: what the delivery worker needs of a sender.

`MessageSender` sends one message (`bot.telegram.delivery_sends`, `bot.telegram.review_sender`),
`MessageEditor` edits one (`bot.telegram.delivery_edits`); `Sender` is both, what
`bot.telegram.delivery.DeliveryWorker` is given. `bot.telegram.messenger.TelegramSender`
implements it and is the one place `telegram.error` is translated, so a sender raises only
`DeliveryError` subclasses.
"""

from __future__ import annotations

from typing import Protocol

from telegram import InlineKeyboardMarkup


class MessageSender(Protocol):
    """Sends one message; raises only `DeliveryError` subclasses."""

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        html: bool,
        thread_id: int | None,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> int:
        """Send `text` to the chat (and forum thread); the id Telegram gave the message."""
        ...


class MessageEditor(Protocol):
    """Edits a message; raises only `DeliveryError` subclasses."""

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        html: bool,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> None:
        """Replace the text of a message sent before (and its buttons: none drops them)."""
        ...


class Sender(MessageSender, MessageEditor, Protocol):
    """Sends and edits messages; raises only `DeliveryError` subclasses (`bot.telegram.messenger`
    translates `telegram.error`)."""
