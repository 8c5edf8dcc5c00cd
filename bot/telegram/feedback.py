"""Relevance buttons: which chats get them, what they carry, and how they show the verdict.

Under each item pushed to a chat where feedback is on sit two inline buttons, relevant and not
relevant. Their callback data is "fb:<item id>:1" or "fb:<item id>:0" (the item's database id and
the verdict, nothing secret; well under Telegram's 64 bytes). A chat's stored flag
(`chats.feedback`, set by `/feedback on|off`) wins; a chat without one has feedback on when it
is an operator's private chat (its id is the operator's user id) and otherwise as
`BOT_FEEDBACK_DEFAULT` says. After a press the message's keyboard marks each verdict the chat has
given, with the count when several people gave it ("✅ Relevant · 2").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.errors import StoreError
from bot.storage.labels import Marks

log = logging.getLogger(__name__)

PREFIX = "fb"
PATTERN = r"^fb:"
_DATA = re.compile(r"^fb:(\d{1,18}):([01])$")
RELEVANT, NOT_RELEVANT = "Relevant", "Not relevant"


@dataclass(frozen=True, slots=True)
class FeedbackPolicy:
    """Whether a chat gets the buttons, from its stored flag and the defaults."""

    operators: frozenset[int]
    default: bool = False  # BOT_FEEDBACK_DEFAULT

    @classmethod
    def of(cls, operators: Collection[int], default: bool = False) -> FeedbackPolicy:
        """A policy for these operators' ids."""
        return cls(frozenset(operators), default)

    def on(self, chat_id: int, flag: bool | None) -> bool:
        """The chat's flag, or the default for a chat that has none."""
        if flag is not None:
            return flag
        return chat_id in self.operators or self.default


def callback_data(item_id: int, relevant: bool) -> str:
    """What a button sends back: the item and the verdict."""
    return f"{PREFIX}:{item_id}:{int(relevant)}"


def parse_data(data: str | None) -> tuple[int, bool] | None:
    """(item id, relevant) of a button's callback data; None when it is not ours or malformed."""
    found = _DATA.match(data or "")
    if found is None:
        return None
    return int(found.group(1)), found.group(2) == "1"


def keyboard(item_id: int, relevant: int = 0, not_relevant: int = 0) -> InlineKeyboardMarkup:
    """The two buttons for an item, each marked when the chat has given that verdict."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _label("👍", "✅", RELEVANT, relevant),
                    callback_data=callback_data(item_id, True),
                ),
                InlineKeyboardButton(
                    _label("👎", "❌", NOT_RELEVANT, not_relevant),
                    callback_data=callback_data(item_id, False),
                ),
            ]
        ]
    )


def _label(plain: str, marked: str, text: str, count: int) -> str:
    if not count:
        return f"{plain} {text}"
    return f"{marked} {text}" + (f" · {count}" if count > 1 else "")


Marker = Callable[[int, int], Awaitable[Marks]]  # (chat id, item id) → the chat's verdicts


class Buttons:
    """The keyboards delivery puts under its messages: none where feedback is off.

    A new message gets the plain buttons; a story's "Also: …" edit gets them again (Telegram
    drops a keyboard from a message edited without one), marked as the chat's verdicts stand.
    """

    def __init__(self, policy: FeedbackPolicy, marks: Marker | None = None) -> None:
        self._policy = policy
        self._marks = marks

    def for_send(
        self, chat_id: int, flag: bool | None, item_id: int
    ) -> InlineKeyboardMarkup | None:
        """The buttons for a new message about `item_id`, if the chat gets them."""
        return keyboard(item_id) if self._policy.on(chat_id, flag) else None

    async def for_edit(
        self, chat_id: int, flag: bool | None, item_id: int
    ) -> InlineKeyboardMarkup | None:
        """The buttons for an edited message about `item_id`, with the chat's marks."""
        if not self._policy.on(chat_id, flag):
            return None
        if self._marks is None:
            return keyboard(item_id)
        try:
            marks = await self._marks(chat_id, item_id)
        except StoreError as exc:  # the edit must not wait on the labels: unmarked buttons
            log.warning("chat %d: cannot read the marks of item %d: %s", chat_id, item_id, exc)
            return keyboard(item_id)
        return keyboard(item_id, marks.relevant, marks.not_relevant)
