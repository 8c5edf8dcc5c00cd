"""An httpcore network backend on plain asyncio streams, for the feed fetcher's connection pool.

httpcore's default backend goes through anyio: every read and write opens a cancel scope with a
timer, asks sniffio which event loop runs, and every pooled connection is probed with
`getpeername` and `poll` before each request. For a poll that ends in a 304 that was a fifth of
its CPU. This backend does the same job with asyncio's own streams: one `asyncio.timeout` per
operation, and a connection's liveness read from its StreamReader (the event loop has already
delivered the server's EOF or error to it), which needs no system call.

Errors are httpcore's own exception types, as httpcore's backends raise them, so httpx maps
them to `httpx.ConnectError`, `httpx.ReadTimeout` and so on exactly as before.

Given an `admit` policy (the article client's: public addresses only), the backend resolves the
host itself, refuses the connection if any address fails the policy, and connects to the
addresses it checked: a name cannot resolve to a public address for a check and to an internal
one for the connection (DNS rebinding). TLS still verifies the certificate against the name.
"""

# ruff: noqa: ASYNC109  (the timeouts are parameters of httpcore's network interface)

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import httpcore

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)
_READ_LIMIT = 2**16  # StreamReader's buffer before it pauses the socket (asyncio's default)

Admit = Callable[[str], str | None]  # an IP address → why it may not be connected to, or None
Resolve = Callable[[str, int], Awaitable[list[str]]]  # host, port → IP addresses


def refusal(host: str, addresses: list[str], admit: Admit) -> str | None:
    """Why `host` may not be connected to with these addresses (none, or one the policy does not
    admit), or None: the one judgement of the article check and of the connection itself."""
    if not addresses:
        return f"{host} has no address"
    for address in addresses:
        if (reason := admit(address)) is not None:
            return f"{host} is a {reason} address ({address})"
    return None


async def loop_addresses(host: str, port: int) -> list[str]:
    """The host's addresses, from the running event loop's getaddrinfo."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@contextlib.contextmanager
def _mapped(timeout: type[Exception], error: type[Exception]) -> Iterator[None]:
    """Turn asyncio's and the socket's exceptions into httpcore's."""
    try:
        yield
    except TimeoutError as exc:
        raise timeout(str(exc) or "timed out") from exc
    except (
        OSError,
        EOFError,
        ssl.SSLError,
    ) as exc:  # ssl.SSLError is an OSError; named for clarity
        raise error(str(exc) or type(exc).__name__) from exc


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection as a pair of asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()

    async def aclose(self) -> None:
        self._writer.close()
        # The peer may already be gone: closing is best effort, as in httpcore's backends.
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.CancelledError):
            await self._writer.wait_closed()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Asked of an idle pooled connection: readable means the server closed it (or sent
            # something unasked), and either way it must not be reused.
            return (
                self._reader.at_eof()
                or self._reader.exception() is not None
                or self._writer.is_closing()
            )
        names = {
            "ssl_object": "ssl_object",
            "client_addr": "sockname",
            "server_addr": "peername",
            "socket": "socket",
        }
        return self._writer.get_extra_info(names[info]) if info in names else None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens `AsyncioStream`s; what httpcore's pool calls to connect. With `admit`, only to
    addresses the policy admits, resolved once by `resolve` (see the module docstring)."""

    def __init__(self, *, admit: Admit | None = None, resolve: Resolve = loop_addresses) -> None:
        self._admit = admit
        self._resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                targets = [host] if self._admit is None else await self._admitted(host, port)
                reader, writer = await _open(targets, port, local_address)
        # asyncio has set TCP_NODELAY already; these are the caller's extra options, if any.
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def _admitted(self, host: str, port: int) -> list[str]:
        """The host's addresses, all admitted by the policy, or ConnectError saying which is not."""
        assert self._admit is not None  # noqa: S101 (only called with a policy)
        addresses = await self._resolve(host.strip("[]"), port)
        if (refused := refusal(host, addresses, self._admit)) is not None:
            raise httpcore.ConnectError(f"{refused}: refused")
        return addresses

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path, limit=_READ_LIMIT)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _open(
    targets: list[str], port: int, local_address: str | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the first target that answers, tried in order (each may be a name)."""
    for n, target in enumerate(targets):
        try:
            return await asyncio.open_connection(
                target,
                port,
                local_addr=(local_address, 0) if local_address else None,
                limit=_READ_LIMIT,
                # As anyio does: try the next address if one has not answered in 250 ms.
                happy_eyeballs_delay=0.25,
            )
        except OSError:
            if n == len(targets) - 1:
                raise
    raise OSError("no address to connect to")
