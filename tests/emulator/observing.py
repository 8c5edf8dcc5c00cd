"""The emulator's observing side: what was sent and asked, and waits on conditions (never sleeps).

A mixin of `TelegramEmulator` (tests.emulator.server); the sync waits block on its condition
variable, the `_async` ones on an asyncio event set from the server thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from tests.emulator.polls import PollConflict
from tests.emulator.records import (
    SentMessage,
    T,
    enough,
    scope_key,
)


class Observation:
    """sent_messages, requests, commands, and the wait_* helpers; mixed into `TelegramEmulator`."""

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

    @property
    def conflicts(self) -> list[PollConflict]:
        """Every getUpdates terminated with 409 by a newer one, oldest first."""
        with self._lock:
            return list(self._polls.conflicts)

    @property
    def live_polls(self) -> int:
        """How many getUpdates are held open now for a client still connected."""
        with self._lock:
            return self._polls.live()

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
