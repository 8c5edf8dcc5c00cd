"""A Telegram Bot API emulator: a real HTTP server on loopback that the real PTB client talks to.

Point python-telegram-bot at it with `Bot(emu.token, base_url=emu.api_url)` (that is
f"{emu.base_url}/bot"; PTB appends the token). The server runs tornado on its own event loop in
a background thread, so it serves the bot whichever loop the test runs in.

What it does like Telegram:
- methods the bot uses (getMe, getUpdates long polling, sendMessage, editMessageText, ...);
  unknown methods answer 404 "Not Found: method not found", a wrong token 401 "Unauthorized";
- parse_mode=HTML is parsed by `tests.emulator.html` (tdlib's rules and wording), the 4096 UTF-16
  unit limit is counted on the parsed text;
- rate limits: ~1 message/s per private chat (small burst), 20/min per group or channel,
  30/s overall; excess gets 429 with `retry_after` in Telegram seconds. `time_scale` runs the
  clocks faster: with time_scale=10 the limits are 10 msg/s, 200/min and 300/s, and a
  `retry_after` of N means N/10 real seconds.
- fault injection per chat or globally, user simulation (commands, migration, callback queries)
  and webhook delivery when setWebhook was given a URL.

Tests observe it through `sent_messages()`, `requests_log`, `stats` and the waiting helpers,
which block on a condition (or an asyncio event for the `_async` variants), never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from tests.emulator.faults import (
    NOT_MODIFIED,
    ApiError,
    Fault,
    FaultSlot,
    chat_key,
    int_param,
    json_param,
)
from tests.emulator.html import HtmlParseError, parse_html, strip_text, utf16_len
from tests.emulator.limits import RateLimiter, RateLimits
from tests.emulator.records import (
    ADMIN_RIGHTS,
    DEFAULT_USER_ID,
    SentMessage,
    Stats,
    T,
    default_user,
    enough,
    new_chat,
    scope_key,
    user_json,
)

# Re-exported: tests and benchmarks import these from here.
__all__ = [
    "TOKEN",
    "ApiError",
    "Fault",
    "RateLimiter",
    "RateLimits",
    "SentMessage",
    "Stats",
    "TelegramEmulator",
    "telegram_api",
]

TOKEN = "123456:TEST-emulator-token"  # noqa: S105  (a fake token for a fake server)
MAX_TEXT_UTF16 = 4096
TELEGRAM_LIMITS = RateLimits()  # the real limits, the default (frozen, so shared safely)


class _Handler(tornado.web.RequestHandler):
    def initialize(self, emulator: TelegramEmulator) -> None:
        self.emulator = emulator

    async def get(self, token: str, method: str) -> None:
        await self.post(token, method)

    async def post(self, token: str, method: str) -> None:
        params: dict[str, Any] = {
            k: v[-1].decode() for k, v in self.request.query_arguments.items()
        }
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            params.update(json.loads(self.request.body or b"{}"))
        else:
            params.update({k: v[-1].decode() for k, v in self.request.body_arguments.items()})
        status, body = await self.emulator._dispatch(token, method, params)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class _NotFound(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.finish({"ok": False, "error_code": 404, "description": "Not Found"})


class TelegramEmulator:
    """The fake Bot API server; a context manager; see the module docstring."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        bot_username: str = "media_review_test_bot",
        rate_limits: RateLimits | None = TELEGRAM_LIMITS,
        time_scale: float = 1.0,
        strict_ampersand: bool = True,
        strict_chats: bool = False,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.bot_username = bot_username
        self.strict_ampersand = strict_ampersand
        self.strict_chats = strict_chats  # unknown chat ids answer "chat not found"
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._rate_limits, self._time_scale = rate_limits, time_scale
        self._limiter = RateLimiter(rate_limits, time_scale) if rate_limits else None
        self.requests_log: list[tuple[str, dict[str, Any]]] = []
        self.stats = Stats()
        self.internal_errors: list[BaseException] = []  # emulator bugs, answered with 500
        self._messages: list[SentMessage] = []
        self._by_key: dict[tuple[int | str, int], SentMessage] = {}
        self._by_chat: dict[int | str, list[SentMessage]] = {}
        self._message_ids: dict[int | str, itertools.count[int]] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._members: dict[tuple[int | str, int], str] = {}
        self._migrated: dict[int | str, int] = {}
        self._faults: list[FaultSlot] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self.answered_callbacks: list[dict[str, Any]] = []
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] = {}
        self.webhook_deliveries: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port = 0
        self._closing = False
        self._in_flight = 0

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> TelegramEmulator:
        """Start serving on 127.0.0.1 with an OS-chosen port; returns self."""
        self._thread = threading.Thread(target=self._run, name="telegram-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("telegram emulator did not start")
        if self.internal_errors:
            raise RuntimeError("telegram emulator failed to start") from self.internal_errors[0]
        return self

    def stop(self) -> None:
        """Stop serving: pending long polls return empty, connections close, the thread ends."""
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> TelegramEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the starting thread or the test
            self.internal_errors.append(exc)
            self._ready.set()

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()  # updates were queued or the webhook changed
        self._loop = asyncio.get_running_loop()
        app = tornado.web.Application(
            [(r"/bot([^/]*)/([^/]+)", _Handler, {"emulator": self})],
            default_handler_class=_NotFound,
            log_function=lambda handler: None,  # 4xx/5xx are the point here, not log noise
        )
        server = tornado.httpserver.HTTPServer(app)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1", backlog=4096)
        server.add_sockets(sockets)
        self._port = sockets[0].getsockname()[1]
        self._ready.set()
        webhook = asyncio.create_task(self._webhook_loop())
        await self._stop_event.wait()
        self._closing = True
        self._wake.set()
        server.stop()
        await webhook
        for _ in range(200):  # let woken long polls and slow faults answer before closing
            if not self._in_flight:
                break
            await asyncio.sleep(0.01)
        await server.close_all_connections()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT; PTB's base_url is f"{base_url}/bot"."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The value for PTB's `base_url` (the token is appended by PTB)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """The value for PTB's `base_file_url`."""
        return f"{self.base_url}/file/bot"

    def configure(
        self,
        *,
        rate_limits: RateLimits | None = TELEGRAM_LIMITS,
        time_scale: float = 1.0,
    ) -> None:
        """Change (or disable, with None) the rate limits; resets the limiter's history."""
        with self._lock:
            self._rate_limits, self._time_scale = rate_limits, time_scale
            self._limiter = RateLimiter(rate_limits, time_scale) if rate_limits else None

    # ----------------------------------------------------------------- observing
    def sent_messages(self, chat_id: int | str | None = None) -> list[SentMessage]:
        """Accepted messages, oldest first, for one chat or all."""
        with self._lock:
            return list(self._messages if chat_id is None else self._by_chat.get(chat_id, []))

    def requests(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every request to `method` (case-insensitive), oldest first."""
        with self._lock:
            return [p for m, p in self.requests_log if m.lower() == method.lower()]

    @property
    def commands(self) -> list[dict[str, str]]:
        """The default-scope, default-language commands set by setMyCommands."""
        return self.commands_for()

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Commands set for `scope` (a BotCommandScope dict[str, Any]) and `language_code`."""
        with self._lock:
            return list(self._commands.get(scope_key(scope, language_code), []))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Queued updates not yet confirmed by getUpdates' offset or delivered to the webhook."""
        with self._lock:
            return list(self._updates)

    def wait_until(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block until `predicate()` (run under the lock) is truthy; return it or TimeoutError."""
        with self._changed:
            if not self._changed.wait_for(predicate, timeout):
                raise TimeoutError(f"telegram emulator: condition not met in {timeout}s")
            return predicate()

    async def wait_until_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109  (mirrors the blocking variant)
    ) -> T:
        """The asyncio variant of `wait_until`, for tests whose bot shares the test's loop."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            self._async_waiters.append((loop, event))
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event.clear()  # before the check, so a change after it sets it again
                    with self._lock:
                        result = predicate()
                    if result:
                        return result
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(f"telegram emulator: condition not met in {timeout}s") from None
        finally:
            with self._lock:
                self._async_waiters.remove((loop, event))

    def wait_for_messages(
        self, chat_id: int | str | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Block until `count` messages were accepted (for the chat); return all of them."""
        try:
            return self.wait_until(lambda: self._at_least(chat_id, count), timeout)
        except TimeoutError:
            raise TimeoutError(self._waited_for(chat_id, count, timeout)) from None

    async def wait_for_messages_async(
        self,
        chat_id: int | str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109  (mirrors the blocking variant)
    ) -> list[SentMessage]:
        """The asyncio variant of `wait_for_messages`."""
        try:
            return await self.wait_until_async(lambda: self._at_least(chat_id, count), timeout)
        except TimeoutError:
            raise TimeoutError(self._waited_for(chat_id, count, timeout)) from None

    def wait_for_requests(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Block until `method` was requested `count` times; return their parameters."""
        return self.wait_until(lambda: enough(self.requests(method), count), timeout)

    async def wait_for_requests_async(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109  (mirrors the blocking variant)
    ) -> list[dict[str, Any]]:
        """The asyncio variant of `wait_for_requests`."""
        return await self.wait_until_async(lambda: enough(self.requests(method), count), timeout)

    def _at_least(self, chat_id: int | str | None, count: int) -> list[SentMessage]:
        return enough(self.sent_messages(chat_id), count)

    def _waited_for(self, chat_id: int | str | None, count: int, timeout: float) -> str:
        got = [m.plain_text[:60] for m in self.sent_messages(chat_id)]
        return f"wanted {count} message(s) for chat {chat_id} within {timeout}s, got {got}"

    def _notify(self) -> None:
        """Wake every waiter; the caller holds the lock."""
        self._changed.notify_all()
        for loop, event in self._async_waiters:
            with contextlib.suppress(RuntimeError):  # that test's loop has closed
                loop.call_soon_threadsafe(event.set)

    # ----------------------------------------------------------------- faults
    def inject(
        self,
        chat_id: int | str,
        fault: Fault,
        *,
        times: int | None = 1,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Answer the next `times` requests for `chat_id` (None: all) with `fault`."""
        names = frozenset(m.lower() for m in methods) if methods else None
        with self._lock:
            self._faults.append(FaultSlot(fault, chat_id, times, names))

    def fail_next(
        self, count: int, status: int = 502, *, methods: Iterable[str] | None = None
    ) -> None:
        """Make the next `count` requests of any chat (optionally only `methods`) fail."""
        names = frozenset(m.lower() for m in methods) if methods else None
        with self._lock:
            self._faults.append(FaultSlot(Fault.server_error(status), None, count, names))

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        chat = params.get("chat_id")
        key = chat_key(chat) if chat not in (None, "") else None
        with self._lock:
            for slot in self._faults:
                if slot.methods is not None and method not in slot.methods:
                    continue
                if slot.chat_id is not None and slot.chat_id != key:
                    continue
                if slot.remaining is not None:
                    slot.remaining -= 1
                    if slot.remaining <= 0:
                        self._faults.remove(slot)
                return slot.fault
        return None

    # ----------------------------------------------------------------- users
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

    # ----------------------------------------------------------------- serving
    async def _dispatch(
        self, token: str, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        self._in_flight += 1
        try:
            with self._lock:
                self.requests_log.append((method, params))
                self.stats.requests += 1
                self._notify()
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            fault = self._take_fault(method.lower(), params)
            if fault is not None:
                await self._pause(fault.delay)
                if not fault.proceed:
                    raise ApiError(fault.status, fault.description, fault.parameters)
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            with self._lock:
                self.stats.errors[error.status] += 1
                self.stats.too_many_requests += error.status == 429
                self._notify()
            return error.status, error.body()
        except Exception as exc:  # an emulator bug: answer 500 and keep it for the test to see
            self.internal_errors.append(exc)
            return 500, ApiError(500, f"Internal Server Error: emulator bug {exc!r}").body()
        finally:
            self._in_flight -= 1
        return 200, {"ok": True, "result": result}

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):  # stopping cuts the pause short
                await asyncio.wait_for(self._stop_event.wait(), seconds)

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

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._loop is not None
        offset, limit = int_param(params, "offset"), int_param(params, "limit") or 100
        timeout = float(params.get("timeout") or 0)
        deadline = self._loop.time() + timeout
        while True:
            self._wake.clear()  # before the check: a later send_update sets it again
            with self._lock:
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
            if batch or self._closing or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

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
        if status == "administrator":
            return {"status": status, "user": user, **ADMIN_RIGHTS}
        return {"status": status, "user": user}

    def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._chat_for(params)
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    # ----------------------------------------------------------------- webhook
    async def _webhook_loop(self) -> None:
        """POST queued updates to the webhook URL one at a time, retrying failures."""
        client: httpx.AsyncClient | None = None
        try:
            while not self._closing:
                self._wake.clear()
                with self._lock:
                    url, secret = self.webhook.get("url"), self.webhook.get("secret_token")
                    update = self._updates[0] if url and self._updates else None
                if update is None or url is None:
                    await self._wake.wait()
                    continue
                client = client or httpx.AsyncClient(timeout=5.0)
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                try:
                    response = await client.post(url, json=update, headers=headers)
                    delivered = response.is_success
                except httpx.HTTPError:
                    delivered = False
                with self._lock:
                    self.webhook_deliveries.append(
                        {"update_id": update["update_id"], "ok": delivered}
                    )
                    if delivered and self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self._notify()
                if not delivered:
                    await self._pause(0.05)  # Telegram retries failed deliveries later
        finally:
            if client is not None:
                await client.aclose()


@pytest.fixture
def telegram_api() -> Iterator[TelegramEmulator]:
    """A started emulator with Telegram's real rate limits; stopped after the test."""
    with TelegramEmulator() as emulator:
        yield emulator
        if emulator.internal_errors:
            raise emulator.internal_errors[0]
