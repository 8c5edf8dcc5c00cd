"""A loopback farm of misbehaving RSS feeds for the soak run, with a ledger of what it published.

`SoakFarm` serves `GET /s/<i>.xml` (i in 0..N-1) over HTTP/1.1 keep-alive with ETag validators
(304 on a match). Each request is answered, with probability `fault_rate`, by one of the faults
below instead of the feed, chosen at random:

- timeout: no answer at all (the connection is held until the client gives up);
- 500: "HTTP 500 Internal Server Error";
- garbage: a 200 of random bytes labelled as RSS;
- slow: the real feed, trickled in small pieces over several seconds;
- html: a 200 HTML page ("please enable JavaScript") instead of the feed.

`publish` adds one new on-topic item at the top of a feed (the oldest scrolls off). Every item's
title carries a unique tag `[soak F-N]`, so that what the Bot API emulator receives can be
compared with the ledger: an item counts as published for the bot ("expected") when a complete
feed body containing it was written to the bot after the feed's first complete body (the bot
stores its first sight of a feed without announcing it).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
from dataclasses import dataclass, field

ITEMS_PER_FEED = 20
FAULTS = ("timeout", "500", "garbage", "slow", "html")
TAG = re.compile(r"\[soak (\d+)-(\d+)\]")
_BASE_TIME = 1_780_000_000
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><p>Please enable JavaScript and cookies to continue.</p></body></html>"
)


def tag(feed: int, n: int) -> str:
    """The unique tag of item `n` of feed `feed`, as it appears in the title."""
    return f"[soak {feed}-{n}]"


def _item(feed: int, n: int, initial: bool) -> str:
    # Initial items are the backlog the bot sees first (not announced); new ones are on topic.
    title = (
        f"Local news of the day {tag(feed, n)}"
        if initial
        else f"Azerbaijan and Iran sign transit deal on the Aras corridor {tag(feed, n)}"
    )
    link = f"https://soak{feed}.example/news/{n}"
    published = email.utils.formatdate(_BASE_TIME + n * 60, usegmt=True)
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>soak{feed}-{n}</guid>"
        f"<pubDate>{published}</pubDate><description>Officials from Baku and Tehran met "
        f"to discuss trade, customs and the railway. Report {n}.</description></item>\n"
    )


@dataclass
class Feed:
    """One feed: its items (newest first), body, validator, and what reached the bot."""

    number: int
    items: list[tuple[int, str]] = field(default_factory=list)
    newest: int = ITEMS_PER_FEED
    body: bytes = b""
    etag: str = ""
    first_body: set[int] | None = None  # item numbers in the first complete body served
    delivered: set[int] = field(default_factory=set)  # in any complete body served

    def __post_init__(self) -> None:
        self.items = [(n, _item(self.number, n, True)) for n in range(ITEMS_PER_FEED, 0, -1)]
        self.build()

    def build(self) -> None:
        """Render the body and a new ETag."""
        self.body = (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Soak {self.number}</title><link>https://soak{self.number}.example/</link>"
            "<description>News</description><language>en</language>\n"
            + "".join(xml for _, xml in self.items)
            + "</channel></rss>\n"
        ).encode()
        self.etag = f'"{self.number}-{self.newest}"'

    def add(self) -> int:
        """One new on-topic item at the top; the oldest scrolls off. Its number."""
        self.newest += 1
        self.items = [(self.newest, _item(self.number, self.newest, False)), *self.items]
        del self.items[ITEMS_PER_FEED:]
        self.build()
        return self.newest

    def served(self, numbers: set[int]) -> None:
        """A complete body holding `numbers` reached the client."""
        if self.first_body is None:
            self.first_body = set(numbers)
        self.delivered |= numbers


@dataclass
class Counters:
    """Requests answered, by kind."""

    ok: int = 0
    not_modified: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))


class SoakFarm:
    """The feeds, the fault dice and the ledger."""

    def __init__(self, feeds: int, fault_rate: float, rng: random.Random) -> None:
        self.feeds = [Feed(i) for i in range(feeds)]
        self.fault_rate = fault_rate
        self.rng = rng
        self.counters = Counters()
        self.published: set[tuple[int, int]] = set()

    def publish(self) -> tuple[int, int]:
        """A new on-topic item in a random feed: (feed, item number)."""
        feed = self.rng.choice(self.feeds)
        n = feed.add()
        self.published.add((feed.number, n))
        return feed.number, n

    def expected(self) -> set[tuple[int, int]]:
        """Published items the bot was shown after its first sight of their feed."""
        return {
            (f, n)
            for (f, n) in self.published
            if self.feeds[f].first_body is not None
            and n in self.feeds[f].delivered
            and n not in self.feeds[f].first_body
        }

    def never_shown(self) -> int:
        """Published items no complete body carried (their feed kept failing, or the run ended)."""
        return sum(1 for (f, n) in self.published if n not in self.feeds[f].delivered)

    def pick_fault(self) -> str | None:
        """None for a normal answer, else one of FAULTS."""
        if self.rng.random() >= self.fault_rate:
            return None
        fault = self.rng.choice(FAULTS)
        self.counters.faults[fault] += 1
        return fault


def _head(status: str, length: int, ctype: str, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\n{extra}Content-Type: {ctype}\r\nContent-Length: {length}\r\n\r\n"
    ).encode("latin-1")


class _Connection(asyncio.Protocol):
    """One client connection; answers one request at a time (httpx does not pipeline)."""

    def __init__(self, farm: SoakFarm) -> None:
        self.farm = farm
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._next()

    def _next(self) -> None:
        assert self.transport is not None
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.closed:
            return
        raw, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        match = re.fullmatch(r"/s/(\d+)\.xml", parts[1] if len(parts) == 3 else "")
        if match is None or int(match.group(1)) >= len(self.farm.feeds):
            self.transport.write(_head("404 Not Found", 0, "text/plain"))
            return
        self._answer(self.farm.feeds[int(match.group(1))], headers)

    def _answer(self, feed: Feed, headers: dict[str, str]) -> None:
        assert self.transport is not None
        fault = self.farm.pick_fault()
        if fault == "timeout":
            self.busy = True  # never answered; the client closes the connection
            return
        if fault == "500":
            body = b"Internal Server Error\n"
            self.transport.write(_head("500 Internal Server Error", len(body), "text/plain") + body)
        elif fault == "garbage":
            body = self.farm.rng.randbytes(self.farm.rng.randint(10, 5000))
            self.transport.write(_head("200 OK", len(body), "application/rss+xml") + body)
        elif fault == "html":
            self.transport.write(_head("200 OK", len(_HTML_PAGE), "text/html") + _HTML_PAGE)
        elif feed.etag in headers.get("if-none-match", ""):
            self.farm.counters.not_modified += 1
            self.transport.write(f"HTTP/1.1 304 Not Modified\r\nETag: {feed.etag}\r\n\r\n".encode())
        else:
            numbers = {n for n, _ in feed.items}
            head = _head("200 OK", len(feed.body), "application/rss+xml", f"ETag: {feed.etag}\r\n")
            if fault == "slow":
                self.busy = True
                asyncio.get_running_loop().create_task(self._trickle(feed, head, numbers))
                return
            self.farm.counters.ok += 1
            self.transport.write(head + feed.body)
            feed.served(numbers)

    async def _trickle(self, feed: Feed, head: bytes, numbers: set[int]) -> None:
        # The real body in ~20 pieces over 2-8 s: slow, but within the bot's 60 s deadline.
        data, pause = head + feed.body, self.farm.rng.uniform(0.1, 0.4)
        step = max(1, len(data) // 20)
        for start in range(0, len(data), step):
            if self.closed or self.transport is None:
                return
            self.transport.write(data[start : start + step])
            await asyncio.sleep(pause)
        if not self.closed:
            feed.served(numbers)
            self.busy = False
            self._next()


async def serve(farm: SoakFarm) -> asyncio.Server:
    """Listen on 127.0.0.1 with an OS-chosen port."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(farm), "127.0.0.1", 0, backlog=1024)
