"""Web wiring for `run`: opens the HTTP wing (status, metrics, health, WebSub, the Telegram webhook
route) on BOT_HTTP_PORT, and on PORT in webhook mode.

Only `bot.app.main` imports this module; the parts it serves arrive as arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime

from bot.app.runtime import Runtime
from bot.config import Settings
from bot.errors import ConfigError
from bot.polling.scheduler import SourceScheduler
from bot.web.handlers import TelegramWebhook
from bot.web.metrics import Metrics
from bot.web.service import WebService, open_web


def web_binds(settings: Settings) -> list[tuple[str, int]]:
    """Where the HTTP wing listens: PORT in webhook mode, BOT_HTTP_PORT; empty: it does not run."""
    binds: list[tuple[str, int]] = []
    webhook = settings.webhook_url and settings.telegram_bot_token and settings.port is not None
    if webhook and settings.port is not None:
        binds.append(("", settings.port))  # every interface: the platform routes to PORT
    if settings.http_port is not None and not (webhook and settings.http_port == settings.port):
        binds.append((settings.http_host, settings.http_port))
    return binds


async def start_web(
    stack: AsyncExitStack,
    settings: Settings,
    binds: list[tuple[str, int]],
    *,
    rt: Runtime,
    scheduler: SourceScheduler,
    metrics: Metrics | None,
    webhook: TelegramWebhook | None,
    clock: Callable[[], datetime],
) -> WebService | None:
    """The HTTP wing on `binds` (`web_binds`); None when there are none.

    `stack` closes it. A port that cannot be bound is a ConfigError naming the variables.
    """
    if not binds:
        return None
    try:
        web = await open_web(
            db=rt.db,
            stories=rt.stories,
            scheduler=scheduler,
            topics=lambda: rt.live.current.topics,
            sources=lambda: rt.live.current.sources,
            binds=binds,
            public_url=settings.public_url,
            tz=settings.timezone,
            clock=clock,
            metrics=metrics,
            webhook=webhook,
        )
    except OSError as exc:
        where = ", ".join(f"{host or '*'}:{port}" for host, port in binds)
        raise ConfigError(
            [f"environment: BOT_HTTP_PORT/PORT: cannot listen on {where} ({exc.strerror or exc})"]
        ) from exc
    stack.push_async_callback(web.close)
    return web
