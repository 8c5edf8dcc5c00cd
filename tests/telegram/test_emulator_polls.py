"""The emulator's one-poller rule (tests.emulator.polls): a newer getUpdates ends the pending one
with 409, as Telegram does; a poll whose client has gone away is not pending."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
from telegram import Bot
from telegram.error import Conflict

from tests.emulator.polls import CONFLICT
from tests.emulator.server import TelegramEmulator

CHAT = 601


async def _poll(emu: TelegramEmulator, timeout: float) -> httpx.Response:  # noqa: ASYNC109
    # A client of its own: a connection of its own, as another process would have.
    async with httpx.AsyncClient(base_url=f"{emu.api_url}{emu.token}", timeout=60) as client:
        return await client.post("/getUpdates", json={"timeout": timeout})


async def test_a_second_concurrent_get_updates_ends_the_older_with_409_and_proceeds(
    telegram_api: TelegramEmulator,
) -> None:
    before = time.monotonic()
    older = asyncio.create_task(_poll(telegram_api, 30))
    await telegram_api.wait_until_async(lambda: telegram_api.live_polls == 1)
    newer = asyncio.create_task(_poll(telegram_api, 30))
    answer = await asyncio.wait_for(older, 5)  # at once, not after its 30 s
    assert answer.status_code == 409
    assert answer.json() == {"ok": False, "error_code": 409, "description": CONFLICT}
    assert not newer.done()  # the newer one is held open, waiting for updates
    telegram_api.send_command(CHAT, "/help")
    served = await asyncio.wait_for(newer, 5)
    assert served.status_code == 200
    assert [u["message"]["text"] for u in served.json()["result"]] == ["/help"]
    [conflict] = telegram_api.conflicts
    assert before <= conflict.pending_since < conflict.at <= time.monotonic()
    assert telegram_api.live_polls == 0


async def test_polls_one_after_another_never_conflict(telegram_api: TelegramEmulator) -> None:
    for _ in range(3):
        answer = await _poll(telegram_api, 0.05)
        assert (answer.status_code, answer.json()["result"]) == (200, [])
    assert telegram_api.conflicts == []


async def test_a_poll_whose_client_went_away_is_not_pending(
    telegram_api: TelegramEmulator,
) -> None:
    # A raw connection, closed without reading the answer: what kill -9 leaves behind.
    request = (
        f"POST /bot{telegram_api.token}/getUpdates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 14\r\n\r\n"
        '{"timeout":30}'
    ).encode()
    port = httpx.URL(telegram_api.base_url).port
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(request)
        await telegram_api.wait_until_async(lambda: telegram_api.live_polls == 1)
    await telegram_api.wait_until_async(lambda: telegram_api.live_polls == 0)
    answer = await _poll(telegram_api, 0)
    assert answer.status_code == 200
    assert telegram_api.conflicts == []


async def test_ptb_raises_conflict_in_the_older_poll(telegram_api: TelegramEmulator) -> None:
    async with (
        Bot(telegram_api.token, base_url=telegram_api.api_url) as first,
        Bot(telegram_api.token, base_url=telegram_api.api_url) as second,
    ):
        older = asyncio.create_task(first.get_updates(timeout=30))
        await telegram_api.wait_until_async(lambda: telegram_api.live_polls == 1)
        newer = asyncio.create_task(second.get_updates(timeout=30))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(older, 5)
        telegram_api.send_command(CHAT, "/start")
        [update] = await asyncio.wait_for(newer, 5)
        assert update.effective_message is not None
        assert update.effective_message.text == "/start"
    assert len(telegram_api.conflicts) == 1
