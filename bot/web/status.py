"""`GET /`: the status page, server-rendered with Jinja2 (autoescaping on, no JavaScript).

It shows each polled source's health (last success, failures in a row, last error, next poll),
the newest flagged stories (each once: its first report's title linked to that report, every
outlet that carried it linked to its own report, the time of its newest report, its topics), the
outbox depth and links to the topics' Atom feeds. Times are shown in the configured time zone;
only http(s) links become hrefs. Nothing operator-only is passed to the template: no chat ids,
no admin ids, no token; only what `/sources` and `/latest` already show subscribers.

Above everything, one line sums up the sources' health (how many are ok, failing, new, paused,
disabled, and which fail) and links to the table, so a phone need not scroll past the stories.
Paused and disabled sources are listed too, marked (`bot.web.states`); a row names the source's
id, so two outlets of one name can be told apart.

The sources table lists failing sources first, then the rest (each by id), in pages of
`PAGE_SIZE` (`GET /?page=N`, with plain previous/next links): at 3,000 sources one page of
them all is about 1 MB. A page value that is not a positive number shows page 1, a number past
the end the last page. The summary counts (sources, failing) are always of all sources.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.models import Source, Story, Topic
from bot.review.listing import outlet_name, story_title
from bot.storage.status import SourceHealth, StatusStore
from bot.text.markup import safe_href
from bot.web.rendering import environment
from bot.web.states import ACTIVE, configured, state_of

CONTENT_TYPE = "text/html; charset=utf-8"
NEWEST = 20  # flagged stories on the page
NAMED_FAILING = 3  # failing sources named in the summary line
PAGE_SIZE = 200  # sources per page of the table

LatestStories = Callable[[int], Awaitable[list[Story]]]
QualityLines = Callable[[], Awaitable[Sequence[str]]]  # the desk's verdicts, without names


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One line of the sources table, ready to print."""

    id: str
    name: str
    url: str
    health: str  # "ok", "failing", "new", "paused", "disabled"
    last_success: str
    failures: int
    last_error: str
    next_poll: str


@dataclass(frozen=True, slots=True)
class OutletLink:
    """An outlet that carried a story, linked to its own report ("" when it has no http(s) URL)."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class StoryRow:
    """One story of the newest-stories list, ready to print."""

    title: str
    url: str
    outlets: tuple[OutletLink, ...]
    latest: str  # when its newest report was published
    topics: str


@dataclass(frozen=True, slots=True)
class Pager:
    """Which rows of the sources table a page shows: `start` up to `stop` (0-based), of `total`."""

    number: int
    pages: int
    start: int
    stop: int
    total: int

    @property
    def previous(self) -> int | None:
        """The previous page's number, if any."""
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        """The next page's number, if any."""
        return self.number + 1 if self.number < self.pages else None

    @property
    def label(self) -> str:
        """What the page shows, as in "sources 201–400 of 3,000"."""
        if not self.total:
            return "no sources"
        return f"sources {self.start + 1:,}–{self.stop:,} of {self.total:,}"


def pager(asked: str, total: int, size: int = PAGE_SIZE) -> Pager:
    """The page `asked` for (as written in the query): page 1 unless it is a positive number,
    the last page when it is past the end."""
    pages = max(1, -(-total // size))
    digits = asked.strip().lstrip("0")
    if not (digits.isascii() and digits.isdigit()):
        number = 1  # not a number, or zero
    elif len(digits) > 9:
        number = pages  # past any end (and int() of thousands of digits is slow)
    else:
        number = min(int(digits), pages)
    start = (number - 1) * size
    return Pager(number, pages, start, min(start + size, total), total)


class StatusPage:
    """Renders the status page from the database and the live config."""

    def __init__(
        self,
        status: StatusStore,
        *,
        latest: LatestStories,
        topics: Callable[[], Sequence[Topic]],
        sources: Callable[[], Sequence[Source]] = tuple,
        next_poll: Callable[[str], datetime | None],
        tz: tzinfo,
        clock: Callable[[], datetime],
        quality: QualityLines | None = None,
    ) -> None:
        self._status = status
        self._quality = quality
        self._latest = latest
        self._topics = topics
        self._sources = sources
        self._next_poll = next_poll
        self._tz = tz
        self._clock = clock
        self._env = environment()

    async def render(self, *, page: str = "1") -> str:
        """The page's HTML, with page `page` of the sources table (see `pager`)."""
        sources = await self._status.sources(enabled_only=False)
        config = configured(self._sources())
        rows = [self._row(s, state_of(s, config)) for s in sources]
        # Failing first; sorted() is stable, so each group keeps the store's order (by id).
        ordered = sorted(rows, key=lambda r: r.health != "failing")
        shown = pager(page, len(ordered))
        outbox = await self._status.outbox()
        stories = await self._latest(NEWEST)
        topics = list(self._topics())
        names = {t.id: t.name for t in topics}
        template = self._env.get_template("status.html")
        return template.render(
            now=self._when(self._clock()),
            sources=ordered[shown.start : shown.stop],
            pager=shown,
            health=_health_counts(rows),
            failing=[r for r in ordered if r.health == "failing"][:NAMED_FAILING],
            stories=[self._story(s, names) for s in stories],
            outbox=outbox.depth,
            topics=[{"id": t.id, "name": t.name} for t in topics],
            quality=list(await self._quality()) if self._quality is not None else None,
        )

    def _story(self, story: Story, names: dict[str, str]) -> StoryRow:
        topic_ids = dict.fromkeys(t for r in story.reports for t in r.topics)
        return StoryRow(
            title=story_title(story),
            url=_href(story.first.item.url),
            outlets=tuple(OutletLink(outlet_name(r), _href(r.item.url)) for r in story.outlets),
            latest=self._when(story.latest),
            topics=", ".join(names.get(t, t) for t in topic_ids),
        )

    def _row(self, source: SourceHealth, state: str) -> SourceRow:
        if state != ACTIVE:
            health = state  # not polled: its failures, if any, are old news
        elif source.failures:
            health = "failing"
        elif source.last_success is None:
            health = "new"
        else:
            health = "ok"
        planned = (self._next_poll(source.id) or source.next_poll) if state == ACTIVE else None
        return SourceRow(
            id=source.id,
            name=source.name,
            url=_href(source.url),
            health=health,
            last_success=self._when(source.last_success),
            failures=source.failures,
            last_error=(source.last_error or "")[:300],
            next_poll=self._when(planned),
        )

    def _when(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return moment.astimezone(self._tz).strftime("%d %b %Y, %H:%M %Z")


def _health_counts(rows: Sequence[SourceRow]) -> dict[str, int]:
    """How many rows are in each health, in the summary's order (zeros left out, but "failing")."""
    counts = {h: 0 for h in ("ok", "failing", "new", "paused", "disabled")}
    for row in rows:
        counts[row.health] += 1
    return {h: n for h, n in counts.items() if n or h == "failing"}


def _href(url: str) -> str:
    """The URL when it is a plain absolute http(s) link, else "" (shown without a link)."""
    return safe_href(url) or ""
