"""Webhook mode behind our own HTTP server (`bot.web`): the path, the secret, and the update sink.

When the bot serves HTTP paths of its own, `bot.web`'s server takes `PORT` and Telegram's POSTs
reach PTB through `feed_update`, which does what PTB's own webhook handler does: decode the
update and put it on the application's update queue. `register` tells Telegram where to post
(setWebhook with the secret token), retried like PTB's bootstrap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import Application

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]


def route(webhook_url: str, secret_path: str) -> tuple[str, str]:
    """(path on our server without the leading slash, the full URL Telegram posts to)."""
    public = urlsplit(webhook_url.rstrip("/"))
    path = f"{public.path}/{secret_path}".lstrip("/")
    return path, f"{public.scheme}://{public.netloc}/{path}"


async def feed_update(app: BotApp, data: Any) -> None:
    """Hand one decoded webhook update to the application, as PTB's webhook handler does."""
    update = Update.de_json(data, app.bot)
    if update is not None:
        await app.update_queue.put(update)


async def register(
    app: BotApp,
    url: str,
    *,
    secret_token: str,
    allowed_updates: Sequence[str],
    retries: int,
) -> None:
    """setWebhook, retried `retries` times on network errors (then the last error is raised)."""
    for attempt in range(retries + 1):
        try:
            await app.bot.set_webhook(
                url=url,
                secret_token=secret_token,
                allowed_updates=list(allowed_updates),
                drop_pending_updates=False,
            )
        except (NetworkError, TimedOut):
            if attempt >= retries:
                raise
            await asyncio.sleep(1.0)
        else:
            return
