"""Probing a URL before an operator adds it: fetch once, find what it is, say what it holds or why not.

What it is comes from the content (`bot.feeds.detect`): a feed (RSS, Atom, RDF, JSON Feed), a
news sitemap, a Telegram channel preview (also known by its `t.me` URL, which becomes the
preview's `t.me/s/NAME`), or an HTML page that links a feed (followed once, to that feed). Other
HTML pages need CSS selectors: with `selectors` the page is read as an html source.

The reasons are the fetcher's and the parsers' own (`FetchError.reason`: "HTTP 404 Not Found",
"timed out"; `ParseError`: why the body is unreadable, "selector title 'h3' matched nothing"),
so what the operator reads is exactly why the bot would fail to poll it. Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.errors import PermanentFetchError
from bot.feeds.channel import PREVIEW_MESSAGES, keep_up_interval, preview_url
from bot.feeds.detect import detect
from bot.feeds.fetch import Fetcher
from bot.feeds.kinds import read_source
from bot.models import Fetched, Item, Selectors, Source, SourceKind, Validators
from bot.text.durations import format_duration

_PROBE_ID = "probe"
SHOWN = 5  # first items the probe lists


@dataclass(frozen=True)
class Probe:
    """What one fetch of a URL showed: its title, how many items, and the newest one; with the
    source type that reads it, the URL to poll, its first items, and for a Telegram channel how
    often it must be polled to keep up."""

    title: str
    item_count: int
    newest_title: str | None
    newest_published: datetime | None
    kind: SourceKind = "feed"
    url: str = field(default="", compare=False)
    first: tuple[Item, ...] = field(default=(), compare=False)
    keep_up: timedelta | None = None

    def describe(self) -> str:
        """One line for an operator: "Caliber.Az: 20 items, newest 'Baku …' (2025-01-01 12:00Z)"."""
        text = f"{self.title or '(untitled feed)'}: {self.item_count} items"
        if self.newest_title is not None:
            text += f", newest {self.newest_title!r}"
            if self.newest_published is not None:
                text += f" ({self.newest_published:%Y-%m-%d %H:%M}Z)"
        return text

    def keep_up_text(self) -> str | None:
        """How often a channel must be polled so no message scrolls off its preview, or None."""
        if self.kind != "telegram":
            return None
        if self.keep_up is None:
            return (
                f"the preview shows the last ~{PREVIEW_MESSAGES} messages; "
                "too few dated messages to say how often to poll"
            )
        return (
            f"the preview shows the last ~{PREVIEW_MESSAGES} messages: poll at least every "
            f"{format_duration(int(self.keep_up.total_seconds()))} to keep up"
        )

    def report(self) -> list[str]:
        """The lines of `python -m bot probe`: type, URL, title, count, keep-up, first items."""
        lines = [
            f"type: {self.kind}",
            f"url: {self.url}",
            f"title: {self.title or '(untitled)'}",
            f"items: {self.item_count}",
        ]
        if (keep_up := self.keep_up_text()) is not None:
            lines.append(f"keep up: {keep_up}")
        for item in self.first:
            lines.append(f"  {item.published:%Y-%m-%d %H:%M}Z  {item.title}")
            lines.append(f"      {item.url}")
        return lines


async def probe_source(
    fetcher: Fetcher,
    url: str,
    *,
    now: datetime,
    user_agent: str | None = None,
    selectors: Selectors | None = None,
) -> Probe:
    """Fetch `url`, find its type and parse it; FetchError or ParseError with the exact reason."""
    if selectors is not None:
        kind: SourceKind = "html"
    elif (preview := preview_url(url)) is not None:
        kind, url = "telegram", preview
    else:
        fetched = await _fetch(fetcher, _source(url, "feed", None, user_agent), any_body=True)
        found = detect(fetched.body or b"", url=fetched.url, content_type=fetched.content_type)
        if found.kind is not None:
            return _probe(_source(url, found.kind, None, user_agent), fetched, now)
        kind, url = "feed", found.follow or url
    source = _source(url, kind, selectors, user_agent)
    return _probe(source, await _fetch(fetcher, source), now)


# The name the first callers used; a feed is one of the things a probe finds.
probe_feed = probe_source


def _source(url: str, kind: SourceKind, selectors: Selectors | None, agent: str | None) -> Source:
    return Source(
        id=_PROBE_ID,
        name=_PROBE_ID,
        url=url,
        interval=600.0,
        user_agent=agent,
        kind=kind,
        selectors=selectors,
    )


async def _fetch(fetcher: Fetcher, source: Source, *, any_body: bool = False) -> Fetched:
    fetched = await fetcher.fetch(source, Validators(), any_body=any_body)
    if fetched.body is None:  # a 304 to a request without validators
        raise PermanentFetchError(f"HTTP {fetched.status} without a body", status=fetched.status)
    return fetched


def _probe(source: Source, fetched: Fetched, now: datetime) -> Probe:
    assert fetched.body is not None  # noqa: S101 (_fetch refuses a response without one)
    feed = read_source(
        fetched.body, source=source, url=fetched.url, content_type=fetched.content_type
    )
    items = feed.items(now=now)
    newest = max(items, key=lambda item: item.published, default=None)
    dated = [item.published for item in items if item.published != now]
    return Probe(
        title=feed.title,
        item_count=len(items),
        newest_title=newest.title if newest else None,
        newest_published=newest.published if newest else None,
        kind=source.kind,
        url=source.url,
        first=tuple(sorted(items, key=lambda item: item.published, reverse=True)[:SHOWN]),
        keep_up=keep_up_interval(dated) if source.kind == "telegram" else None,
    )
