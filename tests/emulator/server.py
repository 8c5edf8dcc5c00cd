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
- one getUpdates at a time: a newer request terminates a pending one with 409 Conflict, as
  Telegram does (`tests.emulator.polls`); a request whose client has gone away is not pending;
- fault injection per chat or globally, user simulation (commands, migration, callback queries)
  and webhook delivery when setWebhook was given a URL;
- inline keyboards: editMessageReplyMarkup and users pressing buttons (`tests.emulator.buttons`).

Tests observe it through `sent_messages()`, `requests_log`, `stats`, `conflicts` and the waiting
helpers, which block on a condition (or an asyncio event for the `_async` variants), never on
sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from tests.emulator.buttons import ButtonSimulation
from tests.emulator.faults import (
    ApiError,
    Fault,
    FaultSlot,
    chat_key,
)
from tests.emulator.limits import RateLimiter, RateLimits
from tests.emulator.methods import BotApiMethods
from tests.emulator.observing import Observation
from tests.emulator.polls import Client, PollConflict, Polls
from tests.emulator.records import (
    SentMessage,
    Stats,
)
from tests.emulator.users import UserSimulation

# Re-exported: tests and benchmarks import these from here.
__all__ = [
    "TOKEN",
    "ApiError",
    "Fault",
    "PollConflict",
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
        self.client = Client()

    def on_connection_close(self) -> None:
        # Called while the answer is still being worked out (a held long poll): the client is
        # gone, e.g. its process was killed. Its poll must not count as pending any more.
        self.emulator._client_gone(self.client)

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
        status, body = await self.emulator._dispatch(token, method, params, self.client)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class _NotFound(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.finish({"ok": False, "error_code": 404, "description": "Not Found"})


class TelegramEmulator(Observation, UserSimulation, ButtonSimulation, BotApiMethods):
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
        self._polls = Polls()  # getUpdates in progress, and the 409 conflicts between them
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

    # ----------------------------------------------------------------- serving
    async def _dispatch(
        self, token: str, method: str, params: dict[str, Any], client: Client | None = None
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
            # getUpdates alone depends on the connection: a newer poll terminates a live one.
            is_poll = method.lower() == "getupdates"
            result = handler(params, client or Client()) if is_poll else handler(params)
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

    def _client_gone(self, client: Client) -> None:
        """A request's client closed its connection; a long poll of it stops waiting at once."""
        with self._lock:
            client.closed = True
            self._notify()
        self._wake.set()  # on the server's loop: tornado calls this from there

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):  # stopping cuts the pause short
                await asyncio.wait_for(self._stop_event.wait(), seconds)

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
