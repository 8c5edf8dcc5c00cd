"""The emulator's user side: what tests do as Telegram users (chats, members, commands, updates).

A mixin of `TelegramEmulator` (tests.emulator.server); it shares the emulator's state and lock.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from typing import Any

from tests.emulator.html import utf16_len
from tests.emulator.records import (
    DEFAULT_USER_ID,
    default_user,
    new_chat,
    user_json,
)


class UserSimulation:
    """Chats, members and the updates users send; mixed into `TelegramEmulator`."""

    def add_chat(
        self,
        chat_id: int | str,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
    ) -> dict[str, Any]:
        """Register (or update) a chat; type defaults from the id as Telegram's ids go."""
        with self._lock:
            chat = self._ensure_chat(chat_id, chat_type)
            if title:
                chat["title"] = title
            if username:
                chat["username"] = username
            if is_forum:
                chat["is_forum"] = True
            return dict(chat)

    def set_member_status(self, chat_id: int | str, user_id: int, status: str) -> None:
        """What getChatMember answers: member, administrator, left, kicked, ..."""
        with self._lock:
            self._members[(chat_id, user_id)] = status

    def send_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw Update (an update_id is assigned if missing); returns it."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._notify()
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # server already stopped
                self._loop.call_soon_threadsafe(self._wake.set)
        return update

    def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        username: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Queue a message from a user (a channel post for channels); returns the Update."""
        with self._lock:
            chat = self._ensure_chat(chat_id, chat_type)
            if message_thread_id is not None:
                chat["is_forum"] = True
            message: dict[str, Any] = {
                "message_id": next(self._next_ids(chat_id)),
                "date": int(time.time()),
                "chat": dict(chat),
                "text": text,
                **extra,
            }
            if entities:
                message["entities"] = entities
            if message_thread_id is not None:
                message["message_thread_id"] = message_thread_id
                message["is_topic_message"] = True
            if chat["type"] == "channel":
                message["sender_chat"] = dict(chat)
                return self.send_update({"channel_post": message})
            uid = user_id if user_id is not None else default_user(chat)
            message["from"] = user_json(uid, username)
        return self.send_update({"message": message})

    def send_command(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """Queue a /command message, e.g. "/latest 5" or "/latest@botname 5"; see send_message."""
        command = text.split(maxsplit=1)[0] if text.strip() else text
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
        return self.send_message(chat_id, text, entities=[entity], **kwargs)

    def send_callback_query(
        self, chat_id: int, data: str, *, message_id: int | None = None, user_id: int | None = None
    ) -> str:
        """Queue a button press on the bot's message; returns the callback query id."""
        with self._lock:
            query_id = str(next(self._callback_ids))
            self._open_callbacks.add(query_id)
            chat = self._ensure_chat(chat_id, None)
            uid = user_id if user_id is not None else default_user(chat)
            query: dict[str, Any] = {
                "id": query_id,
                "from": user_json(uid, None),
                "chat_instance": f"ci{chat_id}",
                "data": data,
            }
            sent = self._by_key.get((chat_id, message_id)) if message_id else None
            if sent is not None:
                query["message"] = self._render(sent)
        self.send_update({"callback_query": query})
        return query_id

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Upgrade group `old_id` to supergroup `new_id`: service messages, then 400s for old."""
        with self._lock:
            old = self._ensure_chat(old_id, "group")
            new = self._ensure_chat(new_id, "supergroup")
            new["title"] = old.get("title", new.get("title"))
            self._migrated[old_id] = new_id
            user, now = user_json(DEFAULT_USER_ID, None), int(time.time())
            service: list[dict[str, Any]] = [
                {"chat": dict(old), "migrate_to_chat_id": new_id},
                {"chat": dict(new), "migrate_from_chat_id": old_id},
            ]
            for message in service:
                message_id = next(self._next_ids(message["chat"]["id"]))
                self.send_update(
                    {"message": {"message_id": message_id, "date": now, "from": user, **message}}
                )

    def _next_ids(self, chat_id: int | str) -> itertools.count[int]:
        return self._message_ids.setdefault(chat_id, itertools.count(1))

    def _ensure_chat(self, chat_id: int | str, chat_type: str | None) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = new_chat(chat_id, chat_type)
            self._chats[chat_id] = chat
        elif chat_type:
            chat["type"] = chat_type
            if chat_type != "private":
                chat.setdefault("title", f"Chat {chat_id}")
        return chat
