"""The python-telegram-bot Application: built against any Bot API server, started and stopped in our loop.

Lifecycle, following PTB's custom-loop pattern (the scheduler and the delivery worker share the
loop, so no `run_polling()`):

    start: initialize (getMe) → setMyCommands → app.start() → long polling, or the webhook server
    stop:  updater.stop() → app.stop() → app.shutdown(), within `STOP_TIMEOUT` seconds

The token is part of every Bot API URL, so it must never reach a log line or an error message:
the error handler and the polling error callback scrub it, start-up failures are re-raised as our
own errors without it, the `httpx` logger (which logs each URL at INFO) is kept at WARNING, and
`TokenRedactor` is a logging filter for the handlers `cli` installs (PTB logs the URL at DEBUG).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import traceback
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseHandler, CallbackContext

from bot.errors import ConfigError, DeliveryError
from bot.telegram import webhook
from bot.telegram.commands import COMMANDS

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# Only what the handlers use; callback queries are kept for inline buttons of later issues.
ALLOWED_UPDATES = ("message", "my_chat_member", "callback_query")
CONNECT_TIMEOUT = 5.0  # seconds
READ_TIMEOUT = 10.0
WRITE_TIMEOUT = 10.0
POOL_TIMEOUT = 5.0
POLL_TIMEOUT = 10  # seconds a getUpdates long poll is held open by the server
BOOTSTRAP_RETRIES = 3  # deleteWebhook/setWebhook attempts at start-up
STOP_TIMEOUT = 5.0  # seconds for the updater and in-flight handlers; SIGTERM allows 10 in all
REDACTED = "<token>"


def redact(text: str, token: str) -> str:
    """`text` with every occurrence of the token (and of its secret half) replaced, in any case.

    Any case, because PTB rewrites the Bot API's error descriptions ("bad request: …" becomes
    "Bad request: …", a quoted token included).
    """
    _, _, secret = token.partition(":")
    for part in (token, secret if len(secret) >= 8 else ""):
        if part:
            text = re.sub(re.escape(part), REDACTED, text, flags=re.IGNORECASE)
    return text


class TokenRedactor(logging.Filter):
    """A handler filter that removes the bot token from messages and tracebacks."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place when it holds the token; never drops a record."""
        message = record.getMessage()
        scrubbed = redact(message, self._token)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._token)
        return True


def file_url(base_url: str) -> str:
    """The Bot API file URL that goes with `base_url` (…/bot → …/file/bot)."""
    base = base_url.rstrip("/")
    if base.endswith("/bot"):
        return base.removesuffix("/bot") + "/file/bot"
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}/file/bot"


def build_application(
    token: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    handlers: Sequence[BaseHandler[Any, Any, Any]],
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    write_timeout: float = WRITE_TIMEOUT,
    pool_timeout: float = POOL_TIMEOUT,
) -> BotApp:
    """An Application on `base_url` (the token is appended by PTB) with our handlers registered."""
    # httpx logs every request URL, token included, at INFO; PTB's examples silence it the same way.
    # Its own level, not the effective one: a root lowered to INFO later must not let them through.
    httpx_log = logging.getLogger("httpx")
    if httpx_log.level < logging.WARNING:
        httpx_log.setLevel(logging.WARNING)
    base = base_url.rstrip("/")
    app: BotApp = (
        ApplicationBuilder()
        .token(token)
        .base_url(base)
        .base_file_url(file_url(base))
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .write_timeout(write_timeout)
        .pool_timeout(pool_timeout)
        .get_updates_connect_timeout(connect_timeout)
        .get_updates_read_timeout(read_timeout)
        .get_updates_write_timeout(write_timeout)
        .get_updates_pool_timeout(pool_timeout)
        .job_queue(None)  # our own scheduler runs the jobs
        .build()
    )
    app.add_handlers(list(handlers))
    app.add_error_handler(on_error)
    return app


async def on_error(update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Log what a handler raised, without the token; apologise to the chat for our own bugs."""
    try:
        token = context.bot.token
        error = context.error
        where = _describe(update)
        if isinstance(error, TelegramError):
            # Network trouble, flood limits, a chat that blocked the bot: the API's word, not a bug.
            log.warning("Telegram refused or failed %s: %s", where, redact(_one_line(error), token))
            return
        if error is None:
            return
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        log.error("handling %s failed:\n%s", where, redact("".join(lines).rstrip(), token))
        if isinstance(update, Update) and update.effective_message is not None:
            try:
                await update.effective_message.reply_text(
                    "Sorry, something went wrong on my side. Please try again later.",
                    parse_mode=ParseMode.HTML,
                )
            except TelegramError as exc:
                log.warning("could not apologise for %s: %s", where, redact(_one_line(exc), token))
    except Exception as exc:  # the error handler must never raise: PTB would log it unscrubbed
        # Not log.exception: the traceback could hold the token.
        log.error("the error handler failed: %s", type(exc).__name__)  # noqa: TRY400


def _describe(update: object) -> str:
    # Only ids: a user's message text is theirs, and our logs are not the place for it.
    if isinstance(update, Update):
        chat = update.effective_chat
        return f"update {update.update_id}" + (f" in chat {chat.id}" if chat else "")
    return "a background task" if update is None else type(update).__name__


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".replace("\n", " ")


def webhook_secret(token: str, purpose: str) -> str:
    """A stable secret derived from the token (so restarts agree); never reveals the token."""
    digest = hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()
    return digest[:48]


async def start(
    app: BotApp,
    *,
    webhook_url: str | None,
    port: int | None,
    listen: str = "0.0.0.0",  # noqa: S104  (a platform routes HTTP to the container's interface)
    secret_token: str | None = None,
    commands: Sequence[tuple[str, str]] = COMMANDS,
    allowed_updates: Sequence[str] = ALLOWED_UPDATES,
    serve_webhook: bool = True,
    poll: bool = True,
) -> None:
    """Initialize, register the commands, start, then poll or serve the webhook on `port`.

    With `poll=False` and no webhook, the bot is started without polling: a process that is not
    the leader (see `bot.telegram.leader`) sends replies but leaves `getUpdates` to the leader,
    which calls `start_polling` on taking the lead and `stop_polling` on losing it.

    With `webhook_url` (the public base URL) Telegram posts to `<webhook_url>/<secret path>`
    and sends `secret_token` (derived from the token when not given) in a header that PTB checks.
    With `serve_webhook` False our own HTTP server (`bot.web`) holds `port` and forwards the
    webhook path (`webhook.route`) to `webhook.feed_update`; here only setWebhook is called.
    Failures are raised as ConfigError (token rejected, bad settings) or DeliveryError (API
    unreachable), without the token, after undoing what had started.
    """
    token = app.bot.token
    if webhook_url and port is None:
        raise ConfigError(["environment: PORT: must be set when BOT_WEBHOOK_URL is"])
    try:
        await app.initialize()
        await app.bot.set_my_commands([BotCommand(name, text) for name, text in commands])
        await app.start()
        if app.updater is None:
            raise RuntimeError("the Application was built without an updater")
        if webhook_url and not serve_webhook:
            _, url = webhook.route(webhook_url, webhook_secret(token, "webhook-path"))
            await webhook.register(
                app,
                url,
                secret_token=secret_token or webhook_secret(token, "webhook-secret"),
                allowed_updates=allowed_updates,
                retries=BOOTSTRAP_RETRIES,
            )
            log.info("Telegram posts updates to our HTTP server on port %s", port)
        elif webhook_url and port is not None:
            path, url = webhook.route(webhook_url, webhook_secret(token, "webhook-path"))
            await app.updater.start_webhook(
                listen=listen,
                port=port,
                url_path=path,
                webhook_url=url,
                secret_token=secret_token or webhook_secret(token, "webhook-secret"),
                allowed_updates=list(allowed_updates),
                drop_pending_updates=False,
                bootstrap_retries=BOOTSTRAP_RETRIES,
            )
            log.info("serving the Telegram webhook on port %s", port)
        elif poll:
            await start_polling(app, allowed_updates=allowed_updates)
    except (TelegramError, OSError) as exc:
        await stop(app)
        # `from None`: PTB's own message for a rejected token quotes the token itself.
        raise _start_error(exc, token) from None


async def start_polling(app: BotApp, *, allowed_updates: Sequence[str] = ALLOWED_UPDATES) -> None:
    """Long-poll Telegram for updates (on a started Application); no-op when already polling."""
    if app.updater is None or app.updater.running:
        return
    token = app.bot.token
    await app.updater.start_polling(
        timeout=POLL_TIMEOUT,
        allowed_updates=list(allowed_updates),
        drop_pending_updates=False,
        bootstrap_retries=BOOTSTRAP_RETRIES,
        error_callback=lambda exc: _polling_error(exc, token),
    )
    log.info("polling Telegram for updates as @%s", app.bot.username)


async def stop_polling(app: BotApp, *, timeout: float = STOP_TIMEOUT) -> None:  # noqa: ASYNC109
    """Stop long polling (the last updates fetched are still handled); the bot keeps running."""
    if app.updater is None or not app.updater.running:
        return
    try:
        async with asyncio.timeout(timeout):
            await app.updater.stop()
    except TimeoutError:
        log.warning("polling did not stop within %.0f s", timeout)
    log.info("stopped polling Telegram for updates")


def _start_error(exc: BaseException, token: str) -> Exception:
    reason = redact(_one_line(exc), token)
    if isinstance(exc, InvalidToken | Forbidden):
        return ConfigError([f"environment: TELEGRAM_BOT_TOKEN: rejected by the Bot API ({reason})"])
    if isinstance(exc, OSError):
        return ConfigError([f"environment: PORT: cannot serve the webhook ({reason})"])
    if isinstance(exc, NetworkError):
        return DeliveryError(f"cannot reach the Telegram Bot API: {reason}")
    return DeliveryError(f"the Telegram Bot API refused to start the bot: {reason}")


def _polling_error(exc: TelegramError, token: str) -> None:
    # PTB retries by itself (after 1 s, growing to 30 s); its default callback logs a full
    # traceback on every attempt.
    if isinstance(exc, Conflict):
        # Telegram ended our long poll because a newer getUpdates with this token arrived: a
        # second bot outside this database's leader lease, or a moment of two leaders.
        log.warning(
            "polling Telegram: another getUpdates with this bot's token took over (409 Conflict); "
            "is a second bot instance running? Retrying"
        )
        return
    log.warning("polling Telegram failed, retrying: %s", redact(_one_line(exc), token))


async def stop(app: BotApp, *, timeout: float = STOP_TIMEOUT) -> None:  # noqa: ASYNC109
    """Stop in reverse: the updater, then the handlers in flight, then close the connections."""
    try:
        async with asyncio.timeout(timeout):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
    except TimeoutError:
        log.warning("the Telegram bot did not stop within %.0f s; closing it anyway", timeout)
    await app.shutdown()
    # After a failed start the Application is not initialized, but the bot's HTTP clients are.
    await app.bot.shutdown()
