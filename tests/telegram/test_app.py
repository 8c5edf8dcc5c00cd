"""The PTB Application: start-up, polling and webhook modes, stopping, and keeping the token secret."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.errors import ConfigError
from bot.telegram.app import (
    REDACTED,
    BotApp,
    TokenRedactor,
    build_application,
    file_url,
    redact,
    start,
    stop,
    webhook_secret,
)
from bot.telegram.commands import COMMANDS
from tests.emulator.server import Fault, TelegramEmulator

CHAT = 5001


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("pong")


async def _boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    raise RuntimeError(f"broken while talking to /bot{context.bot.token}/sendMessage")


def _handlers() -> list[Any]:
    return [CommandHandler("ping", _echo), CommandHandler("boom", _boom)]


@pytest.fixture
async def app(telegram_api: TelegramEmulator) -> AsyncIterator[BotApp]:
    telegram_api.configure(rate_limits=None)
    application = build_application(
        telegram_api.token, base_url=telegram_api.api_url, handlers=_handlers()
    )
    try:
        yield application
    finally:
        await stop(application)


def _no_token(caplog: pytest.LogCaptureFixture, token: str) -> None:
    secret = token.partition(":")[2]
    for record in caplog.records:
        text = (record.getMessage() + (record.exc_text or "")).lower()
        assert token.lower() not in text, text
        assert secret.lower() not in text, text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_start_registers_the_command_list_and_polls(
    telegram_api: TelegramEmulator, app: BotApp
) -> None:
    await start(app, webhook_url=None, port=None)
    assert telegram_api.commands == [{"command": c, "description": d} for c, d in COMMANDS]
    assert {c for c, _ in COMMANDS} >= {"start", "stop", "latest", "topics", "help", "status"}
    assert all(len(d) <= 64 for _, d in COMMANDS)  # short enough for the menu
    telegram_api.send_command(CHAT, "/ping")
    sent = await telegram_api.wait_for_messages_async(CHAT)
    assert sent[0].plain_text == "pong"
    polls = telegram_api.requests("getUpdates")
    assert polls
    assert "message" in polls[-1]["allowed_updates"]
    assert telegram_api.requests("deleteWebhook")  # polling after a webhook works


async def test_stop_while_long_polling_is_quick(
    telegram_api: TelegramEmulator, app: BotApp
) -> None:
    await start(app, webhook_url=None, port=None)
    await telegram_api.wait_for_requests_async("getUpdates")  # a long poll is open
    began = time.monotonic()
    await stop(app)
    assert time.monotonic() - began < 3
    assert not app.running
    assert app.updater is not None
    assert not app.updater.running


async def test_an_update_sent_while_stopped_is_handled_after_a_restart(
    telegram_api: TelegramEmulator,
) -> None:
    telegram_api.configure(rate_limits=None)
    for running_when_sent in (False, True):
        app = build_application(
            telegram_api.token, base_url=telegram_api.api_url, handlers=_handlers()
        )
        await start(app, webhook_url=None, port=None)
        try:
            if running_when_sent:
                sent = await telegram_api.wait_for_messages_async(CHAT)
        finally:
            await stop(app)
        if not running_when_sent:
            telegram_api.send_command(CHAT, "/ping")  # arrives while no bot runs
    assert [m.plain_text for m in sent] == ["pong"]


async def test_a_failing_handler_is_logged_without_the_token_and_the_chat_gets_an_apology(
    telegram_api: TelegramEmulator, app: BotApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start(app, webhook_url=None, port=None)
    telegram_api.send_command(CHAT, "/boom")
    sent = await telegram_api.wait_for_messages_async(CHAT)
    assert "something went wrong" in sent[0].plain_text
    errors = [r for r in caplog.records if r.name == "bot.telegram.app" and r.levelname == "ERROR"]
    assert errors
    assert "RuntimeError" in errors[0].getMessage()
    assert f"/bot{REDACTED}/sendMessage" in errors[0].getMessage()
    _no_token(caplog, telegram_api.token)


async def test_a_telegram_error_in_a_handler_is_a_warning_without_the_token(
    telegram_api: TelegramEmulator, app: BotApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start(app, webhook_url=None, port=None)
    # An answer that quotes the token, as PTB's own InvalidToken message does.
    fault = Fault(400, f"Bad Request: token {telegram_api.token} is odd")
    telegram_api.inject(CHAT, fault, methods=["sendMessage"])
    telegram_api.send_command(CHAT, "/ping")
    telegram_api.send_command(CHAT, "/ping")
    await telegram_api.wait_for_messages_async(CHAT)  # the second reply: the first was refused
    warnings = [r for r in caplog.records if r.name == "bot.telegram.app"]
    assert any("BadRequest" in r.getMessage() and r.levelname == "WARNING" for r in warnings)
    _no_token(caplog, telegram_api.token)


async def test_polling_errors_are_retried_and_logged_without_a_traceback(
    telegram_api: TelegramEmulator, app: BotApp, caplog: pytest.LogCaptureFixture
) -> None:
    await start(app, webhook_url=None, port=None)
    telegram_api.fail_next(1, 502, methods=["getUpdates"])
    telegram_api.send_command(CHAT, "/ping")
    await telegram_api.wait_for_messages_async(CHAT)
    failed = [r for r in caplog.records if "polling Telegram failed" in r.getMessage()]
    assert failed
    assert failed[0].levelname == "WARNING"
    assert failed[0].exc_info is None


async def test_a_second_poller_of_the_bot_is_one_clear_warning_line_per_409(
    telegram_api: TelegramEmulator, app: BotApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start(app, webhook_url=None, port=None)
    await telegram_api.wait_until_async(lambda: telegram_api.live_polls == 1)
    other = build_application(telegram_api.token, base_url=telegram_api.api_url, handlers=[])
    try:
        await start(other, webhook_url=None, port=None)  # its getUpdates ends ours with 409

        def conflicts() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "409 Conflict" in r.getMessage()]

        await telegram_api.wait_until_async(lambda: telegram_api.conflicts, timeout=10)
        deadline = time.monotonic() + 5
        while not conflicts():  # PTB hands the 409 to our callback as soon as it reads it
            assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
            await asyncio.sleep(0.01)
    finally:
        await stop(other)
    assert telegram_api.conflicts
    for record in conflicts():
        assert (record.name, record.levelname) == ("bot.telegram.app", "WARNING")
        assert "another getUpdates with this bot's token" in record.getMessage()
        assert "\n" not in record.getMessage()
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text] == []
    _no_token(caplog, telegram_api.token)


async def test_a_rejected_token_is_a_config_error_that_does_not_quote_it(
    telegram_api: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "999999:THIS-is-not-the-emulators-token"
    app = build_application(wrong, base_url=telegram_api.api_url, handlers=_handlers())
    with pytest.raises(ConfigError) as raised:
        await start(app, webhook_url=None, port=None)
    assert "TELEGRAM_BOT_TOKEN" in str(raised.value)
    assert wrong not in str(raised.value)
    assert "THIS-is-not" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    _no_token(caplog, wrong)


async def test_an_unreachable_api_is_reported_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "123:unreachable-secret-token"  # noqa: S105  (a fake token)
    base = f"http://127.0.0.1:{_free_port()}/bot"  # nothing listens there
    app = build_application(token, base_url=base, handlers=_handlers(), connect_timeout=1)
    with pytest.raises(Exception) as raised:  # noqa: PT011  (the kind is asserted below)
        await start(app, webhook_url=None, port=None)
    assert "Telegram Bot API" in str(raised.value)
    assert token not in str(raised.value)
    assert "unreachable-secret" not in str(raised.value)
    _no_token(caplog, token)


async def test_token_redactor_scrubs_ptbs_debug_logs(
    telegram_api: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(TokenRedactor(telegram_api.token))
    caplog.set_level(logging.DEBUG)
    try:
        app = build_application(telegram_api.token, base_url=telegram_api.api_url, handlers=[])
        await start(app, webhook_url=None, port=None)
        await stop(app)
    finally:
        caplog.handler.filters.clear()
    # PTB logs its URL, token included, when it builds the bot.
    assert any(f"bot{REDACTED}" in r.getMessage() for r in caplog.records)
    _no_token(caplog, telegram_api.token)


def test_token_redactor_scrubs_tracebacks() -> None:
    token = "42:abcdefghijklmnop"  # noqa: S105  (a fake token)
    try:
        raise ValueError(f"url /bot{token}/getMe")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "at %s", (token,), None)
        record.exc_info = sys.exc_info()
    TokenRedactor(token).filter(record)
    assert token not in record.getMessage()
    assert token not in (record.exc_text or "")
    assert REDACTED in record.getMessage()


def test_httpx_request_logs_are_kept_at_warning(telegram_api: TelegramEmulator) -> None:
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    build_application(telegram_api.token, base_url=telegram_api.api_url, handlers=[])
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("https://api.telegram.org/bot/", "https://api.telegram.org/file/bot"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://tg.local:8081/custom/", "http://tg.local:8081/file/bot"),
    ],
)
def test_file_url_follows_the_api_url(base: str, expected: str) -> None:
    assert file_url(base) == expected


def test_redact_removes_the_token_and_its_secret_half() -> None:
    token = "123:secret-part-long"  # noqa: S105  (a fake token)
    assert redact(f"a {token} b secret-part-long c", token) == f"a {REDACTED} b {REDACTED} c"
    assert redact("nothing here", "") == "nothing here"
    assert redact("Token 123:SECRET-PART-LONG is odd", token) == f"Token {REDACTED} is odd"


async def test_webhook_mode_receives_updates_posted_by_telegram(
    telegram_api: TelegramEmulator, app: BotApp
) -> None:
    port = _free_port()
    public = f"http://127.0.0.1:{port}/hook"
    await start(app, webhook_url=public, port=port, listen="127.0.0.1")
    path = webhook_secret(telegram_api.token, "webhook-path")
    assert telegram_api.webhook["url"] == f"{public}/{path}"
    assert telegram_api.webhook["secret_token"]
    assert telegram_api.token not in telegram_api.webhook["url"]
    assert telegram_api.token not in telegram_api.webhook["secret_token"]
    assert telegram_api.commands  # setMyCommands in this mode too
    telegram_api.send_command(CHAT, "/ping")
    sent = await telegram_api.wait_for_messages_async(CHAT)
    assert sent[0].plain_text == "pong"
    # The emulator records the delivery when our server's answer reaches it, maybe after the reply.
    deliveries = await telegram_api.wait_until_async(lambda: list(telegram_api.webhook_deliveries))
    assert deliveries[0]["ok"]
    assert not telegram_api.requests("getUpdates")
    # Without Telegram's secret header the webhook refuses the post.
    async with httpx.AsyncClient() as client:
        forged = await client.post(f"{public}/{path}", json={"update_id": 999})
    assert forged.status_code == 403
    began = time.monotonic()
    await stop(app)
    assert time.monotonic() - began < 3
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))


async def test_webhook_mode_needs_a_port(app: BotApp) -> None:
    with pytest.raises(ConfigError, match="PORT"):
        await start(app, webhook_url="https://bot.example.org", port=None)
    assert not app.running
