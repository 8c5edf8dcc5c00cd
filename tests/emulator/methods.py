"""The emulator's Bot API methods: `_api_<lowercased name>(params)` and the helpers they share.

A mixin of `TelegramEmulator` (tests.emulator.server): each method runs with the emulator's lock
held and raises `ApiError` for Telegram's error answers; the dispatcher turns results into JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Any

from tests.emulator.faults import (
    NOT_MODIFIED,
    ApiError,
    Fault,
    chat_key,
    int_param,
    json_param,
)
from tests.emulator.html import HtmlParseError, parse_html, strip_text, utf16_len
from tests.emulator.members import member_json
from tests.emulator.polls import CONFLICT, Client
from tests.emulator.records import (
    SentMessage,
    scope_key,
    user_json,
)

MAX_TEXT_UTF16 = 4096


class BotApiMethods:
    """getMe, sendMessage, editMessageText, getUpdates, webhooks, chats …; mixed into `TelegramEmulator`."""

    def _chat_for(self, params: dict[str, Any]) -> dict[str, Any]:
        """Resolve chat_id as Telegram would (migrated groups, unknown chats); lock held."""
        if params.get("chat_id") in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        key = chat_key(params["chat_id"])
        if key in self._migrated:
            raise ApiError(
                400, Fault.migrated(0).description, {"migrate_to_chat_id": self._migrated[key]}
            )
        if isinstance(key, str):
            for chat in self._chats.values():
                if f"@{chat.get('username', '')}".lower() == key.lower():
                    return chat
            raise ApiError(400, "Bad Request: chat not found")
        if key not in self._chats and self.strict_chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self._ensure_chat(key, None)

    def _render(self, sent: SentMessage) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "from": self._bot_user(),
            "chat": dict(self._chats[sent.chat_id]),
            "date": sent.date,
            "text": sent.plain_text,
        }
        if sent.entities:
            message["entities"] = sent.entities
        if sent.message_thread_id is not None:
            message["message_thread_id"] = sent.message_thread_id
            message["is_topic_message"] = True
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        if sent.edits:
            message["edit_date"] = int(time.time())
        return message

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Media review (test)",
            "username": self.bot_username,
        }

    def _parse_text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode") or None
        if parse_mode is None:
            plain, entities = text, list(json_param(params, "entities") or [])
        elif parse_mode.lower() == "html":
            try:
                plain, entities = parse_html(text, strict_ampersand=self.strict_ampersand)
            except HtmlParseError as error:
                raise ApiError(
                    400, f"Bad Request: can't parse entities: {error.description}"
                ) from None
        elif parse_mode.lower() in ("markdown", "markdownv2"):
            plain, entities = text, []  # not validated: this project sends HTML
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        plain, entities = strip_text(plain, entities)
        if not plain:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > MAX_TEXT_UTF16:
            raise ApiError(400, "Bad Request: message is too long")
        return plain, entities

    # Bot API methods: _api_<lowercased name>(params) -> result. Telegram's names are
    # case-insensitive, so the dispatcher lowercases before the lookup.
    def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            chat = self._chat_for(params)
        plain, entities = self._parse_text(params)
        thread = int_param(params, "message_thread_id")
        with self._lock:
            if self._limiter is not None:
                wait = self._limiter.acquire(
                    chat["id"], chat["type"] == "private", time.monotonic()
                )
                if wait:
                    self.stats.rate_limited += 1
                    after = max(1, math.ceil(wait * self._time_scale))
                    raise ApiError(
                        429, f"Too Many Requests: retry after {after}", {"retry_after": after}
                    )
            preview = json_param(params, "disable_web_page_preview")
            sent = SentMessage(
                chat_id=chat["id"],
                message_id=next(self._next_ids(chat["id"])),
                text=params["text"],
                plain_text=plain,
                parse_mode=params.get("parse_mode") or None,
                entities=entities,
                message_thread_id=thread,
                disable_web_page_preview=None if preview is None else bool(preview),
                link_preview_options=json_param(params, "link_preview_options"),
                reply_markup=json_param(params, "reply_markup"),
                received_at=time.monotonic(),
                date=int(time.time()),
            )
            self._messages.append(sent)
            self._by_key[(sent.chat_id, sent.message_id)] = sent
            self._by_chat.setdefault(sent.chat_id, []).append(sent)
            self.stats.messages += 1
            self._notify()
            return self._render(sent)

    def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            self._parse_text(params)
            return True
        with self._lock:
            chat = self._chat_for(params)
            sent = self._by_key.get((chat["id"], int_param(params, "message_id") or 0))
            if sent is None or sent.deleted:
                raise ApiError(400, "Bad Request: message to edit not found")
        plain, entities = self._parse_text(params)
        markup = json_param(params, "reply_markup")
        with self._lock:
            if (plain, entities, markup) == (sent.plain_text, sent.entities, sent.reply_markup):
                raise ApiError(400, NOT_MODIFIED)
            sent.edits.append(sent.text)
            sent.text, sent.plain_text, sent.entities = params["text"], plain, entities
            sent.parse_mode, sent.reply_markup = params.get("parse_mode") or None, markup
            self._notify()
            return self._render(sent)

    def _api_deletemessage(self, params: dict[str, Any]) -> bool:
        with self._lock:
            chat = self._chat_for(params)
            sent = self._by_key.get((chat["id"], int_param(params, "message_id") or 0))
            if sent is None or sent.deleted:
                raise ApiError(400, "Bad Request: message to delete not found")
            sent.deleted = True
            self._notify()
        return True

    def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        with self._lock:
            query_id = str(params.get("callback_query_id", ""))
            if query_id not in self._open_callbacks:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired "
                    "or query ID is invalid",
                )
            self._open_callbacks.discard(query_id)
            self.answered_callbacks.append(params)
            self._notify()
        return True

    def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = json_param(params, "commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for command in commands:
            name = str(command.get("command", "")).removeprefix("/")
            if not (1 <= len(name) <= 32) or not all(
                c.islower() or c.isdigit() or c == "_" for c in name
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(str(command.get("description", ""))) <= 256):
                raise ApiError(400, "Bad Request: command description is empty")
        key = scope_key(json_param(params, "scope"), params.get("language_code") or "")
        with self._lock:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
            self._notify()
        return True

    def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands_for(json_param(params, "scope"), params.get("language_code") or "")

    def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        key = scope_key(json_param(params, "scope"), params.get("language_code") or "")
        with self._lock:
            self._commands.pop(key, None)
        return True

    async def _api_getupdates(self, params: dict[str, Any], client: Client) -> list[dict[str, Any]]:
        assert self._loop is not None
        offset, limit = int_param(params, "offset"), int_param(params, "limit") or 100
        timeout = float(params.get("timeout") or 0)
        deadline = self._loop.time() + timeout
        with self._lock:
            poll = self._polls.begin(client, time.monotonic())
            self._notify()
        self._wake.set()  # a poll this one terminated answers its 409 now
        try:
            while True:
                self._wake.clear()  # before the check: a later send_update sets it again
                with self._lock:
                    if poll.terminated:
                        raise ApiError(409, CONFLICT)
                    if self.webhook.get("url"):
                        raise ApiError(
                            409,
                            "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first",
                        )
                    if offset is not None:
                        self._updates = [u for u in self._updates if u["update_id"] >= offset]
                    batch = self._updates[:limit]
                remaining = deadline - self._loop.time()
                if batch or self._closing or remaining <= 0 or client.closed:
                    return batch
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), remaining)
        finally:
            with self._lock:
                self._polls.end(poll)
                self._notify()

    def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = {
                "url": params.get("url") or "",
                "secret_token": params.get("secret_token") or None,
                "allowed_updates": json_param(params, "allowed_updates"),
            }
            if json_param(params, "drop_pending_updates"):
                self._updates.clear()
            self._notify()
        self._wake.set()
        return True

    def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = {}
            if json_param(params, "drop_pending_updates"):
                self._updates.clear()
            self._notify()
        return True

    def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    def _api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            chat = dict(self._chat_for(params))
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {g: False for g in (*gifts, "gifts_from_channels")},
        }

    def _api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = int_param(params, "user_id") or 0
        with self._lock:
            chat = self._chat_for(params)
            status = self._members.get((chat["id"], user_id), "member")
        if user_id == self.bot_id:
            user = self._bot_user()
            status = self._members.get(
                (chat["id"], user_id), "administrator" if chat["type"] == "channel" else "member"
            )
        else:
            user = user_json(user_id, None)
        return member_json(status, user)

    def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._chat_for(params)
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_logout(self, params: dict[str, Any]) -> bool:
        return True
