"""Article pages of flagged items: fetched safely, their main text extracted off the event loop.

Article links come from feeds, which are untrusted, so before every request (the first and each
redirect, which are followed here one hop at a time, never by httpx) the link must be http(s)
and its host must resolve, through the event loop's getaddrinfo, only to public addresses: no
loopback, private, shared (CGNAT), link-local, multicast, reserved or unspecified ones, IPv4-mapped
IPv6 included. `allow_private` (BOT_ALLOW_PRIVATE_URLS=1) lifts that for tests and intranet
outlets. A refused link raises `LinkRefused`.

The page goes through a `Fetcher` (`bot.feeds.fetch`: byte cap, per-host and global slots, error
mapping), in the bot one of its own over `article_client`, under one deadline for the whole
exchange, redirects included. Extraction (`bot.feeds.extract`) runs in a worker thread.

The check before each hop gives a clear refusal; the article client (`article_client`) closes
the gap behind it: it resolves each host once more at connect time, refuses the connection if any
address is non-public, and connects to the addresses it checked, so a DNS answer that changes
between the check and the connection (rebinding) reaches nothing internal. Behind an HTTP proxy
(HTTP_PROXY and friends) the proxy resolves and connects: only the check before each hop applies.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass

import httpx

from bot.errors import PermanentFetchError
from bot.feeds.extract import Article, decode_html, extract_article
from bot.feeds.fetch import MAX_REDIRECTS, Fetcher, make_client, map_httpx_errors, status_error
from bot.feeds.netstream import Resolve, loop_addresses, refusal

_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
_REDIRECTS = (301, 302, 303, 307, 308)


class LinkRefused(PermanentFetchError):
    """The link is not http(s), or its host is (or resolves to) a non-public address."""


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page: final URL, body and its Content-Type."""

    url: str
    body: bytes
    content_type: str | None
    elapsed: float


def non_public(address: str) -> str | None:
    """Why `address` may not be fetched ("loopback", "private" …), or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, flag in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),
    ):
        if flag:
            return reason
    return None


def article_client(
    *,
    timeout: float,
    allow_private: bool,
    max_connections: int = 20,
    resolve: Resolve = loop_addresses,
) -> httpx.AsyncClient:
    """The client for article pages: it connects only to public addresses, resolved once at
    connect time, unless `allow_private` (BOT_ALLOW_PRIVATE_URLS) lifts that."""
    return make_client(
        timeout=timeout,
        max_connections=max_connections,
        admit=None if allow_private else non_public,
        resolve=resolve,
    )


class ArticleFetcher:
    """Fetches article pages through the feed `Fetcher`, refusing links to non-public addresses."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        timeout: float = 20.0,
        allow_private: bool = False,
        resolver: Resolve = loop_addresses,
    ) -> None:
        self._fetcher = fetcher
        self._timeout = timeout
        self._allow_private = allow_private
        self._resolve = resolver

    async def page(self, url: str) -> Page:
        """GET the page, following up to 5 redirects, each checked; a FetchError on failure."""
        started = time.perf_counter()
        with map_httpx_errors():
            async with asyncio.timeout(self._timeout):
                current = httpx.URL(url)
                for _ in range(MAX_REDIRECTS + 1):
                    await self.check(current)
                    page, location = await self._hop(current, started)
                    if page is not None:
                        return page
                    assert location is not None  # noqa: S101 (a hop returns one or the other)
                    current = current.join(location)
        raise PermanentFetchError(f"redirect loop or more than {MAX_REDIRECTS} redirects")

    async def article(self, url: str) -> Article | None:
        """The page's article (None when it holds none); a FetchError when it cannot be fetched."""
        page = await self.page(url)
        text = decode_html(page.body, page.content_type)
        return await asyncio.to_thread(extract_article, text, url=page.url)

    async def check(self, url: httpx.URL) -> None:
        """Raise LinkRefused unless `url` is http(s) to a host with only public addresses."""
        if url.scheme not in ("http", "https"):
            raise LinkRefused(f"not an http(s) link ({url.scheme or 'no'} scheme)")
        host = url.host
        if not host:
            raise LinkRefused("link without a host")
        if self._allow_private:
            return
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolve(
                    host, url.port or (443 if url.scheme == "https" else 80)
                )
            except OSError as exc:
                raise LinkRefused(f"cannot resolve {host}: {exc.strerror or exc}") from exc
        if (refused := refusal(host, addresses, non_public)) is not None:
            raise LinkRefused(refused)

    async def _hop(self, url: httpx.URL, started: float) -> tuple[Page | None, str | None]:
        fetcher = self._fetcher
        headers = {"User-Agent": fetcher.user_agent, "Accept": _ACCEPT}
        async with (
            fetcher.slot(url.host),
            fetcher.client.stream("GET", url, headers=headers, follow_redirects=False) as response,
        ):
            if response.status_code in _REDIRECTS and "location" in response.headers:
                await response.aclose()
                return None, response.headers["location"]
            if response.status_code != 200:
                raise status_error(response)
            content_type = response.headers.get("content-type")
            if content_type and not content_type.split(";")[0].strip().lower().startswith(
                _HTML_TYPES
            ):
                raise PermanentFetchError(f"not a web page ({content_type.split(';')[0]})")
            body = await fetcher.read_body(response)
            elapsed = time.perf_counter() - started
            return Page(str(response.url), body, content_type, elapsed), None
