"""The HTTP server: one tornado application on one or more (host, port) binds.

Paths (see `bot.web` for what each serves): `/healthz`, `/metrics`, `/topics/{id}.atom`, `/`,
`/websub/{callback}`, and in webhook mode Telegram's secret webhook path, which `app` hands over
as a `TelegramWebhook`. PTB's own webhook server is a tornado application too, but it is built
inside `Updater.start_webhook` and reachable only through private attributes, so in webhook mode
this server takes `PORT` and forwards the webhook's updates to PTB's update queue instead.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from bot.web.handlers import (
    AtomHandler,
    HealthHandler,
    MetricsHandler,
    Routes,
    StatusHandler,
    WebhookHandler,
    WebSubHandler,
)
from bot.web.search import SearchAtomHandler, SearchHandler

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024  # bytes; a WebSub push carries a feed, a Telegram update far less
BODY_TIMEOUT = 30.0  # seconds to receive a request body
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may sit idle


def make_application(routes: Routes) -> tornado.web.Application:
    """The tornado application serving `routes` (debug off: no tracebacks to clients)."""
    args = {"routes": routes}
    return tornado.web.Application(
        [
            (r"/healthz", HealthHandler, args),
            (r"/metrics", MetricsHandler, args),
            (r"/topics/([^/]+)\.atom", AtomHandler, args),
            (r"/websub/([A-Za-z0-9_-]{1,64})", WebSubHandler, args),
            (r"/search", SearchHandler, {"search": lambda: routes.search}),
            (r"/search\.atom", SearchAtomHandler, {"search": lambda: routes.search}),
            (r"/", StatusHandler, args),
            (r"/(.+)", WebhookHandler, args),
        ],
        debug=False,
        compress_response=True,
        log_function=_log_request,
    )


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # The webhook path is a secret: log the route's name, never the path.
    status = handler.get_status()
    name = type(handler).__name__.removesuffix("Handler").lower()
    if status >= 500 and name != "health":  # /healthz says why itself, to whoever asks
        log.warning("http %s %s → %d", handler.request.method, name, status)
    else:
        log.debug("http %s %s → %d", handler.request.method, name, status)


class WebServer:
    """Listens on the binds given to `start` until `stop`."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes
        self._server = HTTPServer(
            make_application(routes),
            max_body_size=MAX_BODY,
            body_timeout=BODY_TIMEOUT,
            idle_connection_timeout=IDLE_TIMEOUT,
            xheaders=False,
        )
        self.ports: list[int] = []

    def start(self, binds: Sequence[tuple[str, int]]) -> list[int]:
        """Listen on each (host, port); port 0 picks a free one. The ports actually bound."""
        for host, port in binds:
            sockets = bind_sockets(port, address=host, family=socket.AF_UNSPEC)
            self._server.add_sockets(sockets)
            bound = sockets[0].getsockname()[1]
            self.ports.append(bound)
            log.info("HTTP server listening on %s:%d", host or "*", bound)
        return list(self.ports)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        self._server.stop()
        await self._server.close_all_connections()
