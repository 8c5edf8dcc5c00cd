"""Web wiring for `run`: opens the HTTP wing (status, metrics, health, WebSub, the Telegram webhook
route) on BOT_HTTP_PORT, and on PORT in webhook mode.

Only `bot.app` imports this module; it does not import `bot.app` back: the parts it serves arrive
as arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime

from bot.config import Settings
from bot.errors import ConfigError
from bot.operator.live import LiveConfig
from bot.polling.scheduler import SourceScheduler
from bot.storage.access import DbAccess
from bot.storage.stories import StoryStore
from bot.web.service import WebService, open_web


async def start_web(
    stack: AsyncExitStack,
    settings: Settings,
    *,
    db: DbAccess | None,
    stories: StoryStore,
    live: LiveConfig,
    scheduler: SourceScheduler,
    clock: Callable[[], datetime],
    leader: Callable[[], bool],
) -> WebService | None:
    """The HTTP wing on BOT_HTTP_PORT, and on PORT in webhook mode; None when neither is set.

    `stack` closes it. A port that cannot be bound is a ConfigError naming the variables.
    """
    binds: list[tuple[str, int]] = []
    webhook = settings.webhook_url and settings.telegram_bot_token and settings.port is not None
    if webhook and settings.port is not None:
        binds.append(("", settings.port))  # every interface: the platform routes to PORT
    if settings.http_port is not None and not (webhook and settings.http_port == settings.port):
        binds.append((settings.http_host, settings.http_port))
    if not binds or db is None:
        return None
    try:
        web = await open_web(
            db=db,
            stories=stories,
            scheduler=scheduler,
            topics=lambda: live.current.topics,
            sources=lambda: live.current.sources,
            binds=binds,
            public_url=settings.public_url,
            tz=settings.timezone,
            clock=clock,
            leader=leader,
        )
    except OSError as exc:
        where = ", ".join(f"{host or '*'}:{port}" for host, port in binds)
        raise ConfigError(
            [f"environment: BOT_HTTP_PORT/PORT: cannot listen on {where} ({exc.strerror or exc})"]
        ) from exc
    stack.push_async_callback(web.close)
    return web
