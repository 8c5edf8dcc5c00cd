"""What the Telegram emulator records and the Bot API objects it builds.

`SentMessage` and `Stats` are what tests observe; the rest build Telegram JSON objects (users,
chats, an administrator's rights) the emulator answers with. Re-exported by `tests.emulator.server`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

DEFAULT_USER_ID = 1001
T = TypeVar("T")


@dataclass(slots=True)
class SentMessage:
    """A message the emulator accepted from the bot."""

    chat_id: int | str
    message_id: int
    text: str  # as sent, with tags
    plain_text: str  # after entity parsing and trimming
    parse_mode: str | None
    entities: list[dict[str, Any]]
    message_thread_id: int | None
    disable_web_page_preview: bool | None
    link_preview_options: dict[str, Any] | None
    reply_markup: dict[str, Any] | None
    received_at: float  # time.monotonic()
    date: int
    edits: list[str] = field(default_factory=list)  # earlier texts, oldest first
    deleted: bool = False


@dataclass(slots=True)
class Stats:
    """Counters for benchmarks: requests, accepted messages and error answers."""

    requests: int = 0
    messages: int = 0
    too_many_requests: int = 0  # every 429 sent, injected or enforced
    rate_limited: int = 0  # the 429s the rate limiter decided
    errors: Counter[int] = field(default_factory=Counter)


# getChatMember of the bot in a chat where it is an administrator: every right but anonymity.
ADMIN_RIGHTS = {
    right: right != "is_anonymous"
    for right in (
        "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
        "can_manage_video_chats", "can_restrict_members", "can_promote_members",
        "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
        "can_delete_stories", "can_post_messages", "can_edit_messages",
    )
}  # fmt: skip


def enough(items: list[T], count: int) -> list[T]:
    """`items` if there are at least `count` of them, else [] (a falsy "not yet" for waits)."""
    return items if len(items) >= count else []


def scope_key(scope: dict[str, Any] | None, language_code: str) -> tuple[str, str]:
    """The key setMyCommands stores a command list under (no scope: the default scope)."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def user_json(user_id: int, username: str | None) -> dict[str, Any]:
    """A simulated human user, as a Telegram `User` object."""
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": f"User {user_id}",
        "username": username or f"user{user_id}",
        "language_code": "en",
    }


def default_user(chat: dict[str, Any]) -> int:
    """Who writes in `chat` when a test does not say: the chat's user, or DEFAULT_USER_ID."""
    return int(chat["id"]) if chat["type"] == "private" else DEFAULT_USER_ID


def new_chat(chat_id: int | str, chat_type: str | None) -> dict[str, Any]:
    """A Telegram `Chat` object; without a type, guessed from the id as Telegram numbers them."""
    if chat_type is None:
        if isinstance(chat_id, int) and chat_id > 0:
            chat_type = "private"
        else:
            chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    return {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}
