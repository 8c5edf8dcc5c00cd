"""The emulator's inline keyboards: editMessageReplyMarkup, and users pressing buttons.

A mixin of `TelegramEmulator` (tests.emulator.server), sharing its state and lock. What it does
like Telegram:
- `reply_markup` is recorded on sendMessage and editMessageText (`tests.emulator.methods`); an
  editMessageText without one removes the keyboard, as Telegram does;
- editMessageReplyMarkup replaces (or, without `reply_markup`, removes) a message's keyboard and
  leaves its text alone; an identical keyboard answers "message is not modified"; callback data
  longer than 64 bytes answers "BUTTON_DATA_INVALID";
- `press` is a user pressing a button: a `callback_query` update (with the message, as Telegram
  sends it) delivered through getUpdates or the webhook; answerCallbackQuery answers it once.
Tests read keyboards with `buttons` and wait for answers with `wait_for_answer_async`.
"""

from __future__ import annotations

from typing import Any

from tests.emulator.faults import NOT_MODIFIED, ApiError, int_param, json_param
from tests.emulator.records import SentMessage

MAX_DATA_BYTES = 64


def keyboard_of(sent: SentMessage) -> list[list[dict[str, Any]]]:
    """The message's inline keyboard rows ([] when it has none)."""
    markup = sent.reply_markup or {}
    return list(markup.get("inline_keyboard") or [])


def check_markup(markup: dict[str, Any] | None) -> None:
    """Refuse an inline keyboard Telegram would refuse (callback data too long)."""
    for row in (markup or {}).get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


class ButtonSimulation:
    """Keyboards and presses; mixed into `TelegramEmulator`."""

    def buttons(self, chat_id: int | str, message_id: int) -> list[str]:
        """The texts of the message's buttons, row by row ([] when it has no keyboard)."""
        with self._lock:
            sent = self._by_key[(chat_id, message_id)]
            return [b["text"] for row in keyboard_of(sent) for b in row]

    def press(
        self, chat_id: int, message_id: int, index: int, *, user_id: int | None = None
    ) -> str:
        """Press the message's `index`-th button (0-based, across rows) as `user_id`; the query id.

        Raises LookupError when the message has no such button (nothing to press).
        """
        with self._lock:
            sent = self._by_key[(chat_id, message_id)]
            flat = [b for row in keyboard_of(sent) for b in row]
            if not 0 <= index < len(flat) or "callback_data" not in flat[index]:
                raise LookupError(f"message {message_id} in chat {chat_id} has no button {index}")
            data = flat[index]["callback_data"]
        return self.send_callback_query(chat_id, data, message_id=message_id, user_id=user_id)

    def age_message(self, chat_id: int | str, message_id: int, seconds: int) -> None:
        """Make a message look `seconds` older (its `date` in the updates that carry it)."""
        with self._lock:
            self._by_key[(chat_id, message_id)].date -= seconds

    def answer_to(self, query_id: str) -> dict[str, Any] | None:
        """The answerCallbackQuery the bot gave the press, if any yet."""
        with self._lock:
            for answer in self.answered_callbacks:
                if str(answer.get("callback_query_id")) == query_id:
                    return answer
        return None

    async def wait_for_answer_async(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109  (mirrors wait_until_async)
    ) -> dict[str, Any]:
        """Wait until the bot answered the press; its answerCallbackQuery parameters."""
        answer: dict[str, Any] = await self.wait_until_async(
            lambda: self.answer_to(query_id), timeout
        )
        return answer

    def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = json_param(params, "reply_markup")
        check_markup(markup)
        if params.get("inline_message_id"):
            return True
        with self._lock:
            chat = self._chat_for(params)
            sent = self._by_key.get((chat["id"], int_param(params, "message_id") or 0))
            if sent is None or sent.deleted:
                raise ApiError(400, "Bad Request: message to edit not found")
            if markup == sent.reply_markup:
                raise ApiError(400, NOT_MODIFIED)
            sent.reply_markup = markup
            self._notify()
            return self._render(sent)
