"""`GET /search?q=…` (an HTML page of results, paged) and `GET /search.atom?q=…` (an Atom feed
of the newest `ATOM_ENTRIES` matches, so any feed reader can follow a query).

The page is server-rendered with Jinja2 (autoescaping on, no JavaScript), like the status page:
a form, then the results newest first (or `sort=relevance`), reports of one story together, each
with its outlet, time, title linked to the report (http(s) links only) and topics; plain
previous/next links page through them (`page=N`). A malformed query is answered 400 with its
one-line reason on the page (or as text for the feed); the database failing is a 503. Nothing
else is shown: no traceback, no settings.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import tornado.web

from bot.errors import StoreError
from bot.models import StoredItem
from bot.review.listing import outlet_name
from bot.review.query import MAX_LENGTH, QueryError, parse_query
from bot.review.searchresults import group_by_story
from bot.storage.search import SORTS, SearchStore, Sort
from bot.text.markup import safe_href
from bot.web import atom
from bot.web.rendering import environment

log = logging.getLogger(__name__)

PAGE_SIZE = 20
ATOM_ENTRIES = 50
MAX_PAGE = 500  # pages past this are refused (an OFFSET that deep is a crawler, not a reader)
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One found report, ready to print."""

    title: str
    url: str
    outlet: str
    when: str
    topics: str
    later: bool  # another report of the story above it


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page's status code and HTML."""

    status: int
    html: str


class SearchPage:
    """Runs a query for the page or the feed (see the module docstring)."""

    def __init__(self, search: SearchStore, *, tz: tzinfo, clock: Callable[[], datetime]) -> None:
        self._search = search
        self._tz = tz
        self._clock = clock
        self._env = environment()

    async def render(self, q: str, *, page: str = "1", sort: str = "newest") -> Rendered:
        """The results page (200), or the form with the query's problem (400)."""
        number = _page_number(page)
        order: Sort = "relevance" if sort == "relevance" else "newest"
        context: dict[str, Any] = {
            "q": q,
            "sort": order,
            "sorts": SORTS,
            "page": number,
            "rows": [],
            "error": "",
            "more": False,
            "max_length": MAX_LENGTH,
            "searched": False,
        }
        status = 200
        if q.strip():
            try:
                query = parse_query(q, now=self._clock())
            except QueryError as exc:
                context["error"] = str(exc)
                status = 400
            else:
                offset = (number - 1) * PAGE_SIZE
                hits = await self._search.search(
                    query, limit=PAGE_SIZE + 1, offset=offset, sort=order
                )
                context["more"] = len(hits) > PAGE_SIZE
                groups = group_by_story([(h.stored, h.story_id) for h in hits[:PAGE_SIZE]])
                context["rows"] = [
                    self._row(s, later=n > 0) for g in groups for n, s in enumerate(g)
                ]
                context["searched"] = True
        html = self._env.get_template("search.html").render(**context)
        return Rendered(status, html)

    async def feed(self, q: str, *, self_url: str, home_url: str) -> bytes:
        """The Atom feed of the newest matches; QueryError when the query is malformed."""
        query = parse_query(q, now=self._clock())
        hits = await self._search.search(query, limit=ATOM_ENTRIES)
        entries = [_entry(h.stored) for h in hits]
        return atom.render_atom(
            topic_id=f"search/{uuid.uuid5(atom.ID_NAMESPACE, query.text)}",
            title=f"Search: {query.text}",
            entries=entries,
            self_url=self_url,
            home_url=home_url,
        )

    def _row(self, stored: StoredItem, *, later: bool) -> ResultRow:
        item = stored.item
        return ResultRow(
            title=item.title or "(untitled)",
            url=safe_href(item.url) or "",
            outlet=outlet_name(stored),
            when=item.published.astimezone(self._tz).strftime("%d %b %Y, %H:%M %Z"),
            topics=", ".join(stored.topics),
            later=later,
        )


def _entry(stored: StoredItem) -> atom.FeedEntry:
    item = stored.item
    return atom.FeedEntry(
        id=atom.entry_id(item.source_id, item.key),
        title=item.title,
        link=item.url,
        outlets=(outlet_name(stored),),
        summary=stored.review_summary or item.summary,
        published=item.published,
        updated=item.published,
    )


def _page_number(asked: str) -> int:
    digits = asked.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 6:
        return 1
    return min(max(1, int(digits)), MAX_PAGE)


class _SearchBase(tornado.web.RequestHandler):
    page: SearchPage | None

    def initialize(self, search: Callable[[], SearchPage | None]) -> None:
        self.page = search()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")

    def _arg(self, name: str, default: str = "") -> str:
        # Raw bytes, decoded leniently: a query that is not UTF-8 is searched, not a 400/500.
        raw = self.request.query_arguments.get(name, [default.encode()])[-1]
        return raw.decode("utf-8", "replace")[: 4 * MAX_LENGTH]


class SearchHandler(_SearchBase):
    """`GET /search?q=…&page=N&sort=relevance`."""

    async def get(self) -> None:
        if self.page is None:
            raise tornado.web.HTTPError(404)
        try:
            rendered = await self.page.render(
                self._arg("q"), page=self._arg("page", "1"), sort=self._arg("sort", "newest")
            )
        except StoreError as exc:
            log.warning("search page: %s", exc)
            raise tornado.web.HTTPError(503) from None
        self.set_status(rendered.status)
        self.set_header("Content-Type", HTML_TYPE)
        self.set_header("Cache-Control", "no-cache")
        self.finish(rendered.html)


class SearchAtomHandler(_SearchBase):
    """`GET /search.atom?q=…`."""

    async def get(self) -> None:
        if self.page is None:
            raise tornado.web.HTTPError(404)
        try:
            body = await self.page.feed(
                self._arg("q"),
                self_url=self.request.full_url(),
                home_url=f"{self.request.protocol}://{self.request.host}/",
            )
        except QueryError as exc:
            self.set_status(400)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"bad query: {exc}\n")
            return
        except StoreError as exc:
            log.warning("search feed: %s", exc)
            raise tornado.web.HTTPError(503) from None
        self.set_header("Content-Type", atom.CONTENT_TYPE)
        self.set_header("Cache-Control", "no-cache")
        self.finish(body)
