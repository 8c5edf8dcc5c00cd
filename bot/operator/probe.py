"""Probing a feed before an operator adds it: fetch once, parse, and say what it holds or why not.

The reasons are the fetcher's and the parser's own (`FetchError.reason`: "HTTP 404 Not Found",
"timed out", "HTML page instead of a feed"; `ParseError`: why the body is no feed), so what the
operator reads is exactly why the bot would fail to poll it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import PermanentFetchError
from bot.feeds.fetch import Fetcher
from bot.feeds.parse import parse_feed
from bot.models import Source, Validators

_PROBE_ID = "probe"


@dataclass(frozen=True)
class Probe:
    """What one fetch of a feed showed: its title, how many items, and the newest one."""

    title: str
    item_count: int
    newest_title: str | None
    newest_published: datetime | None
    links: tuple[str, ...] = ()  # the items' links, to recognise a feed already polled

    def describe(self) -> str:
        """One line for an operator: "Caliber.Az: 20 items, newest 'Baku …' (2025-01-01 12:00Z)"."""
        text = f"{self.title or '(untitled feed)'}: {self.item_count} items"
        if self.newest_title is not None:
            text += f", newest {self.newest_title!r}"
            if self.newest_published is not None:
                text += f" ({self.newest_published:%Y-%m-%d %H:%M}Z)"
        return text


async def probe_feed(
    fetcher: Fetcher, url: str, *, now: datetime, user_agent: str | None = None
) -> Probe:
    """Fetch `url` once and parse it; FetchError or ParseError with the exact reason otherwise."""
    source = Source(id=_PROBE_ID, name=_PROBE_ID, url=url, interval=600.0, user_agent=user_agent)
    fetched = await fetcher.fetch(source, Validators())
    if fetched.body is None:  # a 304 to a request without validators
        raise PermanentFetchError(f"HTTP {fetched.status} without a body", status=fetched.status)
    parsed = parse_feed(
        fetched.body,
        source_id=_PROBE_ID,
        url=fetched.url,
        now=now,
        content_type=fetched.content_type,
    )
    newest = max(parsed.items, key=lambda item: item.published, default=None)
    return Probe(
        title=parsed.title,
        item_count=len(parsed.items),
        newest_title=newest.title if newest else None,
        newest_published=newest.published if newest else None,
        links=tuple(item.url for item in parsed.items if item.url),
    )
