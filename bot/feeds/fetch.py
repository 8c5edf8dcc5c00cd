"""The HTTP edge: one conditional GET per source, bounded in size, time and concurrency.

`Fetcher.fetch` asks with the remembered validators, streams the body under a byte cap (counted
after decompression, which `bot.feeds.inflate` does within the cap, so a gzip bomb is cut off
before it grows), refuses HTML pages posing as feeds, and turns
every httpx failure and unwanted status into a `TransientFetchError` or `PermanentFetchError`
in one place, `_map_httpx_errors`, the way httpx's own `map_httpcore_exceptions` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

from bot.errors import FetchError, PermanentFetchError, TransientFetchError
from bot.feeds.inflate import ACCEPT_ENCODING, InflateError, Inflater, TooLarge
from bot.feeds.netstream import Admit, AsyncioBackend, Resolve, loop_addresses
from bot.feeds.transport import FeedTransport
from bot.models import Fetched, Source, Validators

DEFAULT_USER_AGENT = "media-review-bot/0.1 (+https://github.com/media-review-bot)"
MAX_REDIRECTS = 5

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_PAGE_KINDS = frozenset({"telegram", "html"})  # source kinds whose body is an HTML page
_SNIFF_BYTES = 16_384
_NAME = re.compile(r"[A-Za-z_][\w.:-]*")
_MAX_CACHED_URLS = 100_000


def make_client(
    *,
    timeout: float = 20.0,
    connect_timeout: float = 10.0,
    max_connections: int = 20,
    admit: Admit | None = None,
    resolve: Resolve = loop_addresses,
) -> httpx.AsyncClient:
    """An HTTP client: explicit timeouts, at most 5 redirects, HTTP/1.1 on asyncio connections
    (`bot.feeds.transport`: a 304 costs a fifth less CPU than on anyio's). With `admit`, it
    connects only to addresses the policy admits, as `resolve` gives them (`bot.feeds.netstream`)."""
    # The pool is as wide as the Fetcher's own cap, so requests wait on our semaphores,
    # where the wait is fair and visible, rather than on the pool's timeout.
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=FeedTransport(
            limits=limits, backend=AsyncioBackend(admit=admit, resolve=resolve)
        ),
        headers={"User-Agent": DEFAULT_USER_AGENT},
    )


class Fetcher:
    """Fetches feeds through an injected client, capping body size and concurrency."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_bytes: int = 5_000_000,
        max_connections: int = 20,
        per_host: int = 2,
        user_agent: str = DEFAULT_USER_AGENT,
        deadline: float | None = 60.0,
    ) -> None:
        self._client = client
        self._max_bytes = max_bytes
        self._slots = asyncio.Semaphore(max_connections)
        self._per_host = per_host
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._user_agent = user_agent
        # httpx's timeouts are per network operation; a server that drips one byte at a time
        # never trips them, so a whole exchange also has a deadline.
        self._deadline = deadline
        # Parsed once per feed URL: parsing it again for the host and the request cost a
        # noticeable share of a 304. Bounded by the number of sources, cleared if it ever grows.
        self._urls: dict[str, httpx.URL] = {}

    async def fetch(
        self, source: Source, validators: Validators, *, any_body: bool = False
    ) -> Fetched:
        """GET the source's feed; 200 with a body, 304 without, or a FetchError.

        An HTML page is refused unless the source's kind reads pages (or `any_body`, for the
        probe, which finds out what the URL serves)."""
        url = self._urls.get(source.url)
        if url is None:
            with _map_httpx_errors():
                url = httpx.URL(source.url)
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()
            self._urls[source.url] = url
        async with self._host_slot(url.host), self._slots:
            started = time.perf_counter()
            with _map_httpx_errors():
                async with asyncio.timeout(self._deadline):
                    return await self._exchange(source, url, validators, started, any_body)

    async def _exchange(
        self,
        source: Source,
        url: httpx.URL,
        validators: Validators,
        started: float,
        any_body: bool,
    ) -> Fetched:
        headers = {
            "User-Agent": source.user_agent or self._user_agent,
            "Accept": _PAGE_ACCEPT if source.kind in _PAGE_KINDS else _ACCEPT,
            # Only the codings `Inflater` decodes within the cap (httpx would add br or zstd
            # when their packages are installed, and inflate whole network chunks).
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self._client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                # Reading the empty body lets h11 see the end of the message; an unread
                # response makes httpcore close the connection instead of keeping it alive.
                await response.aread()
                return Fetched(
                    status=304,
                    url=str(response.url),
                    body=None,
                    content_type=response.headers.get("content-type"),
                    # A 304 need not repeat the validators; the old ones still hold.
                    etag=response.headers.get("etag") or validators.etag,
                    last_modified=response.headers.get("last-modified") or validators.last_modified,
                    elapsed=time.perf_counter() - started,
                )
            response.raise_for_status()
            body = await self._read_capped(response)
            # The body decides, not Content-Type: feeds are often served as text/html or
            # text/plain, and an HTML page labelled as RSS is still no feed. Channel previews
            # and listing pages are HTML by nature; their parsers judge them.
            if source.kind not in _PAGE_KINDS and not any_body and sniff_root(body) == "html":
                raise PermanentFetchError(
                    "HTML page instead of a feed", status=response.status_code
                )
            return Fetched(
                status=response.status_code,
                url=str(response.url),
                body=body,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                elapsed=time.perf_counter() - started,
            )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        too_big = f"response larger than {_size(self._max_bytes)}"
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max_bytes:
            raise PermanentFetchError(too_big, status=response.status_code)
        try:
            # Raw bytes, decoded here under the cap: httpx's own decoding inflates a whole
            # network chunk at once (~64 KB of a gzip bomb is ~64 MB).
            inflater = Inflater(response.headers.get("content-encoding"), self._max_bytes)
            chunks: list[bytes] = []
            async for raw in response.aiter_raw():
                chunks.append(inflater.feed(raw))
            chunks.append(inflater.finish())
        except TooLarge as exc:
            raise PermanentFetchError(too_big, status=response.status_code) from exc
        except InflateError as exc:
            raise PermanentFetchError(
                f"body could not be decompressed: {exc}", status=response.status_code
            ) from exc
        return b"".join(chunks)

    # The article fetcher (bot.feeds.article) shares the client, the caps and the slots.

    @property
    def client(self) -> httpx.AsyncClient:
        """The injected HTTP client."""
        return self._client

    @property
    def user_agent(self) -> str:
        """The User-Agent sent unless a source overrides it."""
        return self._user_agent

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold a per-host and a global request slot, as `fetch` does."""
        async with self._host_slot(host), self._slots:
            yield

    async def read_body(self, response: httpx.Response) -> bytes:
        """The response body under the byte cap (counted after decompression)."""
        return await self._read_capped(response)

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        # Taken before the global slot, so tasks queued behind a busy host hold no global slot.
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self._per_host)
        async with slot:
            yield


def map_httpx_errors() -> contextlib.AbstractContextManager[None]:
    """Translate httpx's exceptions (and the deadline) into the bot's fetch errors."""
    return _map_httpx_errors()


@contextmanager
def _map_httpx_errors() -> Iterator[None]:
    """Translate httpx's exceptions (and the deadline) into the bot's fetch errors."""
    try:
        yield
    except httpx.HTTPStatusError as exc:
        raise status_error(exc.response) from exc
    except httpx.TooManyRedirects as exc:
        raise PermanentFetchError(f"redirect loop or more than {MAX_REDIRECTS} redirects") from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise PermanentFetchError("invalid URL") from exc
    except httpx.ConnectTimeout as exc:
        raise TransientFetchError("connect timed out") from exc
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise TransientFetchError("timed out") from exc
    except httpx.LocalProtocolError as exc:
        raise PermanentFetchError("request refused by httpx (bad header or URL?)") from exc
    except httpx.RemoteProtocolError as exc:
        raise TransientFetchError("server broke the HTTP protocol") from exc
    except httpx.DecodingError as exc:
        raise PermanentFetchError("body could not be decompressed") from exc
    except httpx.TransportError as exc:
        # The OS or TLS reason ("Connection refused", "certificate verify failed") helps an
        # operator and carries no URL or credentials.
        raise TransientFetchError(f"connection failed: {_short(exc)}") from exc


def status_error(response: httpx.Response) -> FetchError:
    """The error for an unwanted status: 5xx, 408 and 429 are transient, the rest permanent."""
    code = response.status_code
    label = f"HTTP {code} {response.reason_phrase}".strip()
    if code >= 500 or code in (408, 429):
        retry_after = parse_retry_after(
            response.headers.get("retry-after"), _http_date(response.headers.get("date"))
        )
        return TransientFetchError(label, status=code, retry_after=retry_after)
    return PermanentFetchError(label, status=code)


def parse_retry_after(value: str | None, now: datetime | None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds, or an HTTP-date relative to `now`.

    `now` is the response's own Date header, so no clock is read here; a date without a `now`
    to compare with, or a value that parses as neither, gives None (the caller's backoff applies).
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None or now is None:
        return None
    return max(0.0, (when - now).total_seconds())


def sniff_root(body: bytes) -> str | None:
    """The document's root element name, lower-cased and without prefix; "html" for an HTML doctype.

    Skips a BOM, the XML declaration, processing instructions, comments and a DOCTYPE (with its
    internal subset). None when the start of the body shows no element at all.
    """
    head = body[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "ignore")
    else:
        # Latin-1 never fails and keeps every ASCII markup character where it was.
        text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    pos = 0
    while True:
        pos = _skip_space(text, pos)
        if text.startswith("<?", pos):
            pos = _after(text, "?>", pos)
        elif text.startswith("<!--", pos):
            pos = _after(text, "-->", pos)
        elif text[pos : pos + 9].lower() == "<!doctype":
            name = _NAME.match(text, _skip_space(text, pos + 9))
            if name and name.group().lower() == "html":
                return "html"
            pos = _after_doctype(text, pos)
        elif text.startswith("<", pos):
            name = _NAME.match(text, pos + 1)
            if name is None:
                return None
            return name.group().rpartition(":")[2].lower()
        else:
            return None
        if pos < 0:
            return None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _after(text: str, end: str, pos: int) -> int:
    found = text.find(end, pos)
    return -1 if found < 0 else found + len(end)


def _after_doctype(text: str, pos: int) -> int:
    # An internal subset may hold ">" in its declarations; the doctype ends at "]" then ">".
    close = text.find(">", pos)
    bracket = text.find("[", pos)
    if 0 <= bracket < close:
        end = _after(text, "]", bracket)
        return -1 if end < 0 else _after(text, ">", end)
    return -1 if close < 0 else close + 1


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


def _size(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000} MB"
    if n % 1_000 == 0:
        return f"{n // 1_000} kB"
    return f"{n} bytes"


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
