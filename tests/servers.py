"""A real HTTP feed server on loopback: the `feed_server` fixture, and `FeedServer` for benchmarks.

`FeedServer` is a `ThreadingHTTPServer` speaking HTTP/1.1 with keep-alive on 127.0.0.1 and an
OS-chosen port, run in a background thread; `with FeedServer() as server:` starts and stops it, so a
benchmark can run one in another process. It serves:

- the files under `root` (default `tests/fixtures/feeds/`) by path: `/fetch/feed.xml` is
  `tests/fixtures/feeds/fetch/feed.xml`, its content type guessed from the extension;
- routes set at run time, which win over files: `put(path, body, *, content_type=..., status=200,
  headers=None, gzip=False, chunked=False, validators=True)` sets or replaces a route, so a test can
  append items to a feed while the bot runs; `remove(path)` drops it.

Every 200 carries an ETag (hash of the body as sent) and a Last-Modified (file mtime, or the time of
the `put`, strictly increasing per path), and conditional requests get correct 304s: If-None-Match
wins over If-Modified-Since, as RFC 9110 says.

Faults, programmed per path and applied in this order (`clear_faults(path)` removes them):

- `delay(path, seconds)`: wait before answering (timeout tests); the wait ends early on stop;
- `redirect(path, to, *, status=302)`: answer with a redirect (chains a→b→c, loops a→b→a);
- `fail(path, status, *, times=None, retry_after=None, headers=None, body=b"")`: answer `status`
  for the next `times` requests (None: until cleared), with Retry-After (seconds or HTTP-date);
- `stall(path, after_bytes)`: send the headers (with the full Content-Length unless chunked) and
  only the first `after_bytes` of the body, then wait until the client hangs up; this shows a
  client cutting a body off at its cap instead of reading it all;
- oversized bodies: `put` a big body; `gzip_bomb(size)` builds a gzip body that expands to `size`
  zero bytes, to be `put` with `headers={"Content-Encoding": "gzip"}`; `put(..., gzip=True)`
  compresses an ordinary body; a wrong charset label is just `put(body, content_type=...)`.

What was seen, all thread-safe: `requests(path=None)` lists `Request`s (method, path, query,
host, lower-cased headers); `wait_for_requests(path, count, timeout=5.0)` blocks on a Condition
until `count` requests for `path` arrived (`wait_for_requests_async` for async tests);
`request_count(path)`; `bytes_sent(path)` counts body bytes written; `connections_opened()`
counts TCP connections (keep-alive reuse keeps it low); `peak_in_flight(host=None)` is the most
requests (for a host, by Host header without port) that waited for their answer at once;
`clear_log()` forgets all of it. `url(path, *, host=None)` builds an absolute URL; pass
`host="localhost"` to reach the same server under a second host name. Unexpected handler
exceptions are kept in `errors`; the fixture fails on any.

Benchmarks: `FeedServer(root=None, log_requests=False)` keeps no per-request log; run it in its
own process, since its threads share the GIL with whatever runs beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import gzip as gzip_module
import hashlib
import select
import socket
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
RSS_TYPE = "application/rss+xml; charset=utf-8"
_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
_QUIET_ERRORS = (ConnectionError, TimeoutError, BrokenPipeError)


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    host: str
    headers: dict[str, str]


@dataclass
class _Route:
    body: bytes
    content_type: str | None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: float | None = None
    gzip: bool = False
    chunked: bool = False


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: bytes
    remaining: int | None


@dataclass
class _Faults:
    delay: float | None = None
    redirect: tuple[int, str] | None = None
    failure: _Failure | None = None
    stall_after: int | None = None


@functools.lru_cache(maxsize=4)
def gzip_bomb(size: int) -> bytes:
    """A gzip body that decompresses to `size` zero bytes (about 1000 times smaller than that)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(size >> 20)]
    parts.append(compressor.compress(bytes(size & ((1 << 20) - 1))))
    parts.append(compressor.flush())
    return b"".join(parts)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    # Weak comparison, as RFC 9110 prescribes for If-None-Match.
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of connections must not overflow a backlog of 5

    def __init__(self, owner: FeedServer, address: tuple[str, int]) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.owner._lock:
            self.owner._connections.add(request)
            self.owner._opened += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.owner._lock:
                self.owner._connections.discard(request)
                self.owner._lock.notify_all()

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, _QUIET_ERRORS) or self.owner._stopping.is_set():
            return  # clients hang up mid-answer on purpose (size caps, timeouts)
        with self.owner._lock:
            self.owner.errors.append(repr(error))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes; no 40 ms Nagle stalls
    timeout = 30
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.owner._handle(self, head=False)

    def do_HEAD(self) -> None:
        self.server.owner._handle(self, head=True)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FeedServer:
    """A threaded HTTP/1.1 server on loopback serving feed files, run-time routes and faults."""

    def __init__(
        self, root: Path | None = FIXTURES, *, host: str = "127.0.0.1", log_requests: bool = True
    ) -> None:
        self.root = root.resolve() if root is not None else None
        self.host = host
        self.port = 0
        self.errors: list[str] = []
        self._log_requests = log_requests
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._routes: dict[str, _Route] = {}
        self._faults: dict[str, _Faults] = {}
        self._log: list[Request] = []
        self._counts: Counter[str] = Counter()
        self._sent: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._peak: Counter[str] = Counter()
        self._connections: set[socket.socket] = set()
        self._opened = 0
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FeedServer:
        """Bind an OS-chosen port and serve in a background thread."""
        self._server = _HTTPServer(self, (self.host, 0))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and wait for the handler threads."""
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._thread.join(timeout=5)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                conn.shutdown(socket.SHUT_RDWR)
        with self._lock:
            if not self._lock.wait_for(lambda: not self._connections, timeout=5):
                self.errors.append(f"{len(self._connections)} handler(s) still running at stop")
        self._server.server_close()
        self._server = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str, *, host: str | None = None) -> str:
        """Absolute URL of `path` on this server, optionally under another loopback host name."""
        path = path if path.startswith("/") else "/" + path
        return f"http://{host or self.host}:{self.port}{path}"

    # -- content and faults ------------------------------------------------------------------

    def put(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str | None = RSS_TYPE,
        status: int = 200,
        headers: dict[str, str] | None = None,
        gzip: bool = False,
        chunked: bool = False,
        validators: bool = True,
    ) -> None:
        """Set or replace what `path` answers (with ETag and Last-Modified unless told not to)."""
        with self._lock:
            old = self._routes.get(path)
            modified = time.time()
            if old is not None and old.last_modified is not None:
                # HTTP dates have one-second resolution: a new version must look newer.
                modified = max(modified, old.last_modified + 1)
            sent = gzip_module.compress(body, mtime=0) if gzip else body
            self._routes[path] = _Route(
                body=body,
                content_type=content_type,
                status=status,
                headers=dict(headers or {}),
                etag=_etag(sent) if validators else None,
                last_modified=modified if validators else None,
                gzip=gzip,
                chunked=chunked,
            )

    def remove(self, path: str) -> None:
        """Drop a run-time route (a file of the same path shows through again)."""
        with self._lock:
            self._routes.pop(path, None)

    def delay(self, path: str, seconds: float) -> None:
        """Wait `seconds` before answering each request for `path`."""
        with self._lock:
            self._faults.setdefault(path, _Faults()).delay = seconds

    def redirect(self, path: str, to: str, *, status: int = 302) -> None:
        """Answer `path` with a redirect to `to` (a path or an absolute URL)."""
        with self._lock:
            self._faults.setdefault(path, _Faults()).redirect = (status, to)

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int | None = None,
        retry_after: int | str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer `status` for the next `times` requests for `path` (None: until cleared)."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = str(retry_after)
        with self._lock:
            self._faults.setdefault(path, _Faults()).failure = _Failure(status, extra, body, times)

    def stall(self, path: str, after_bytes: int) -> None:
        """Send only the first `after_bytes` of the body, then hold until the client hangs up."""
        with self._lock:
            self._faults.setdefault(path, _Faults()).stall_after = after_bytes

    def clear_faults(self, path: str | None = None) -> None:
        """Remove the faults of `path`, or of every path."""
        with self._lock:
            if path is None:
                self._faults.clear()
            else:
                self._faults.pop(path, None)

    # -- observations --------------------------------------------------------------------------

    def requests(self, path: str | None = None) -> list[Request]:
        """The requests seen so far, for `path` or for all paths, oldest first."""
        with self._lock:
            return [r for r in self._log if path is None or r.path == path]

    def request_count(self, path: str) -> int:
        """How many requests for `path` arrived (counted even with `log_requests=False`)."""
        with self._lock:
            return self._counts[path]

    def wait_for_requests(self, path: str, count: int, timeout: float = 5.0) -> list[Request]:
        """Block until `count` requests for `path` arrived; AssertionError after `timeout`."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._counts[path] >= count, timeout=timeout):
                raise AssertionError(
                    f"{path}: waited {timeout}s for {count} requests, saw {self._counts[path]}"
                )
            return [r for r in self._log if r.path == path]

    async def wait_for_requests_async(
        self,
        path: str,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 (the wait runs in a thread, bounded by this)
    ) -> list[Request]:
        """`wait_for_requests` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for_requests, path, count, timeout)

    def bytes_sent(self, path: str) -> int:
        """Body bytes written for `path`, over all its requests (after compression)."""
        with self._lock:
            return self._sent[path]

    def peak_in_flight(self, host: str | None = None) -> int:
        """Most requests (for `host`, or for any host) waiting for their answer at the same time."""
        with self._lock:
            return self._peak[host or ""]

    def connections_opened(self) -> int:
        """How many TCP connections clients opened (keep-alive reuse keeps this low)."""
        with self._lock:
            return self._opened

    def clear_log(self) -> None:
        """Forget requests, counts, bytes sent and peaks seen so far."""
        with self._lock:
            self._log.clear()
            self._counts.clear()
            self._sent.clear()
            self._peak.clear()

    # -- request handling (server threads) -------------------------------------------------------

    def _handle(self, h: _Handler, *, head: bool) -> None:
        split = urlsplit(h.path)
        path = unquote(split.path)
        headers = {k.lower(): v for k, v in h.headers.items()}
        host = headers.get("host", "").rpartition(":")[0] or headers.get("host", "")
        with self._lock:
            if self._log_requests:
                self._log.append(Request(h.command, path, split.query, host, headers))
            self._counts[path] += 1
            for key in ("", host):
                self._in_flight[key] += 1
                self._peak[key] = max(self._peak[key], self._in_flight[key])
            faults = self._faults.get(path, _Faults())
            self._lock.notify_all()
        try:
            if faults.delay:
                self._stopping.wait(faults.delay)
        finally:
            # Counted out before the answer is written, so a client that sends its next
            # request the moment it has this answer is never counted twice.
            with self._lock:
                for key in ("", host):
                    self._in_flight[key] -= 1
        self._answer(h, path, headers, faults, head=head)

    def _answer(
        self, h: _Handler, path: str, headers: dict[str, str], faults: _Faults, *, head: bool
    ) -> None:
        if faults.redirect is not None:
            status, to = faults.redirect
            self._send(h, path, status, {"Location": to}, b"", head=head)
            return
        failure = self._take_failure(path, faults)
        if failure is not None:
            self._send(h, path, failure.status, failure.headers, failure.body, head=head)
            return
        route = self._route(path)
        if route is None:
            self._send(h, path, 404, {"Content-Type": "text/plain"}, b"not found", head=head)
            return
        out: dict[str, str] = {}
        if route.content_type is not None:
            out["Content-Type"] = route.content_type
        if route.etag is not None:
            out["ETag"] = route.etag
        if route.last_modified is not None:
            out["Last-Modified"] = email.utils.formatdate(route.last_modified, usegmt=True)
        if route.gzip:
            out["Content-Encoding"] = "gzip"
        out.update(route.headers)
        if route.status == 200 and self._not_modified(route, headers):
            self._send(h, path, 304, {k: v for k, v in out.items() if k != "Content-Type"}, b"")
            return
        body = gzip_module.compress(route.body, mtime=0) if route.gzip else route.body
        self._send(
            h, path, route.status, out, body,
            head=head, chunked=route.chunked, stall_after=faults.stall_after,
        )  # fmt: skip

    def _take_failure(self, path: str, faults: _Faults) -> _Failure | None:
        with self._lock:
            failure = faults.failure
            if failure is None:
                return None
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    faults.failure = None
            return failure

    def _route(self, path: str) -> _Route | None:
        with self._lock:
            route = self._routes.get(path)
        if route is not None or self.root is None:
            return route
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        body = file.read_bytes()
        return _Route(
            body=body,
            content_type=_TYPES.get(file.suffix.lower()),
            etag=_etag(body),
            last_modified=file.stat().st_mtime,
        )

    @staticmethod
    def _not_modified(route: _Route, headers: dict[str, str]) -> bool:
        if "if-none-match" in headers:
            return route.etag is not None and _etag_matches(headers["if-none-match"], route.etag)
        since = headers.get("if-modified-since")
        if since is None or route.last_modified is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(route.last_modified) <= when

    def _send(
        self,
        h: _Handler,
        path: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        head: bool = False,
        chunked: bool = False,
        stall_after: int | None = None,
    ) -> None:
        h.send_response_only(status)
        names = {k.lower() for k in headers}
        if "date" not in names:
            h.send_header("Date", h.date_time_string())
        for name, value in headers.items():
            h.send_header(name, value)
        has_body = status not in (204, 304) and not 100 <= status < 200
        if chunked and has_body:
            h.send_header("Transfer-Encoding", "chunked")
        elif has_body and "content-length" not in names:
            h.send_header("Content-Length", str(len(body)))
        if stall_after is not None:
            h.send_header("Connection", "close")
        h.end_headers()
        if head or not has_body:
            return
        data = body if stall_after is None else body[:stall_after]
        with self._lock:
            self._sent[path] += len(data)  # counted first: a client that hangs up breaks the write
        if chunked:
            frame = f"{len(data):x}\r\n".encode() + data + b"\r\n" if data else b""
            h.wfile.write(frame if stall_after is not None else frame + b"0\r\n\r\n")
        else:
            h.wfile.write(data)
        if stall_after is not None:
            h.close_connection = True
            self._hold_until_hangup(h.connection)

    def _hold_until_hangup(self, conn: socket.socket) -> None:
        # A closed client makes its socket readable (EOF); stop() also ends the wait.
        while not self._stopping.is_set():
            readable, _, _ = select.select([conn], [], [], 0.05)
            if readable:
                return


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A `FeedServer` on 127.0.0.1 serving `tests/fixtures/feeds/`, stopped after the test."""
    with FeedServer() as server:
        yield server
    assert not server.errors, f"feed server handler errors: {server.errors}"
