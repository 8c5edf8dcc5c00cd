"""bot.feeds.netstream and bot.feeds.transport: the feed client's connections, on real loopback
servers (plain TCP and TLS with a test CA from trustme).

The rest of tests/feeds drives the same transport through `make_client`; these tests cover what
only the connection layer decides: a server's close of an idle connection is seen before reuse,
errors come out as the httpx types the fetcher maps, keep-alive reuse, and TLS verification.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpcore
import httpx
import pytest
import trustme

from bot.errors import TransientFetchError
from bot.feeds.fetch import Fetcher, make_client
from bot.feeds.netstream import AsyncioBackend
from bot.feeds.transport import FeedTransport
from bot.models import Source, Validators
from tests.servers import FeedServer

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
WAIT = 5.0  # seconds, the bound of every wait below


@dataclass
class OneShotServer:
    """An asyncio server that answers each connection's first request, then behaves as told."""

    close_after_answer: bool = True
    hang: bool = False  # accept, read the request, never answer
    ssl_context: ssl.SSLContext | None = None
    port: int = 0
    connections: int = 0
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None

    async def start(self) -> OneShotServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                if self.hang:
                    await reader.read()  # until the client gives up
                    return
                writer.write(RESPONSE)
                await writer.drain()
                if self.close_after_answer:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            await writer.wait_closed()
            self.closed.set()


@pytest.fixture
async def one_shot() -> AsyncIterator[Callable[..., Awaitable[OneShotServer]]]:
    servers: list[OneShotServer] = []

    async def start(**kwargs: object) -> OneShotServer:
        server = await OneShotServer(**kwargs).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until `condition` holds, at most WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 (a stream's EOF has no event to wait on)
            await asyncio.sleep(0.001)


async def test_a_connection_the_server_closed_while_idle_reads_as_readable(one_shot):
    server = await one_shot(close_after_answer=True)
    stream = await AsyncioBackend().connect_tcp("127.0.0.1", server.port, timeout=WAIT)
    assert stream.get_extra_info("is_readable") is False  # open and idle: reusable
    await stream.write(REQUEST, timeout=WAIT)
    assert await stream.read(len(RESPONSE), timeout=WAIT) == RESPONSE
    await asyncio.wait_for(server.closed.wait(), WAIT)
    # What httpcore's pool asks before reusing a connection: the server's EOF must show.
    await until(lambda: stream.get_extra_info("is_readable") is True)
    assert await stream.read(100, timeout=WAIT) == b""
    await stream.aclose()


async def test_an_open_idle_connection_stays_reusable(one_shot):
    server = await one_shot(close_after_answer=False)
    stream = await AsyncioBackend().connect_tcp("127.0.0.1", server.port, timeout=WAIT)
    for _ in range(3):
        await stream.write(REQUEST, timeout=WAIT)
        assert await stream.read(len(RESPONSE), timeout=WAIT) == RESPONSE
        assert stream.get_extra_info("is_readable") is False
    assert stream.get_extra_info("server_addr") == ("127.0.0.1", server.port)
    assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
    assert stream.get_extra_info("ssl_object") is None
    await stream.aclose()
    assert server.connections == 1


async def test_errors_are_httpcores_types():
    backend = AsyncioBackend()
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("127.0.0.1", port, timeout=WAIT)


async def test_a_silent_server_is_a_read_timeout(one_shot):
    server = await one_shot(hang=True)
    stream = await AsyncioBackend().connect_tcp("127.0.0.1", server.port, timeout=WAIT)
    await stream.write(REQUEST, timeout=WAIT)
    with pytest.raises(httpcore.ReadTimeout):
        await stream.read(100, timeout=0.05)
    await stream.aclose()


async def test_tls_is_verified_against_the_trusted_roots(one_shot, ca):
    server = await one_shot(ssl_context=server_tls(ca), close_after_answer=False)
    url = f"https://127.0.0.1:{server.port}/"
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with httpx.AsyncClient(
        transport=FeedTransport(limits=limits, verify=client_tls(ca))
    ) as c:
        for _ in range(3):
            response = await c.get(url)
            assert (response.status_code, response.text) == (200, "hello")
        assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
    assert server.connections == 1  # kept alive over TLS
    # Without the test CA among the trusted roots the handshake fails, as an httpx ConnectError.
    async with httpx.AsyncClient(transport=FeedTransport(limits=limits)) as c:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await c.get(url)


async def test_the_fetcher_sees_a_dead_host_and_a_hung_server_as_transient(one_shot):
    hung = await one_shot(hang=True)
    async with make_client(timeout=0.2) as client:
        fetcher = Fetcher(client)
        source = Source("hung", "Hung", f"http://127.0.0.1:{hung.port}/feed.xml", 60.0)
        with pytest.raises(TransientFetchError, match=r"(?i)timed out|timeout"):
            await fetcher.fetch(source, Validators())
        await hung.stop()
        with pytest.raises(TransientFetchError):
            await fetcher.fetch(source, Validators())


async def test_feeds_are_fetched_over_one_kept_alive_connection(feed_server: FeedServer):
    path = "/transport/feed.xml"
    feed_server.put(path, b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    async with make_client() as client:
        fetcher = Fetcher(client, max_connections=1, per_host=1)
        source = Source("t", "T", feed_server.url(path), 60.0)
        first = await fetcher.fetch(source, Validators())
        etag = Validators(first.etag, first.last_modified)
        statuses = [(await fetcher.fetch(source, etag)).status for _ in range(5)]
    assert first.status == 200
    assert statuses == [304] * 5
    assert feed_server.connections_opened() == 1
