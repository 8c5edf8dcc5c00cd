"""An HTML listing page read with the source's CSS selectors (`type = "html"`). No I/O.

Selectors are compiled by cssselect into XPath and run by lxml (`css`, cached per selector text);
`check_selector` is what `check-config` asks. On a page (bounds: `bot.feeds.htmldoc`):

1. `item` selects the items' elements in the page;
2. inside each: `title` (its text), `link` (the `href` of the element, else of its first `a`
   inside), optional `date` (a `datetime`, `content` or `title` attribute, else the text, read by
   `bot.feeds.dates`; unread → the first-seen time) and `summary` (its text);
3. links are made absolute against the page's `<base href>`, else its URL;
4. a selector that matches nothing on the whole page is a `ParseError` naming it ("selector
   title 'h3 a' matched nothing"): a redesigned page must fail loudly, not look quiet. An item
   without a title or link is skipped.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import cssselect
import lxml.etree
import lxml.html
from lxml.cssselect import CSSSelector

from bot.errors import ParseError
from bot.feeds.dates import read_date
from bot.feeds.htmldoc import parse_html
from bot.feeds.normalize import canonical_url
from bot.feeds.parse import KeyedFeed, keyed_feed
from bot.models import Selectors

_DATE_ATTRIBUTES = ("datetime", "content", "title")
_FIELDS = ("item", "title", "link", "date", "summary")
_REQUIRED = ("item", "title", "link")


def check_selector(text: str) -> str | None:
    """Why `text` is not a usable CSS selector, or None when it is."""
    try:
        css(text)
    except (cssselect.SelectorError, lxml.etree.XPathError) as exc:
        return f"not a CSS selector: {text!r} ({exc})"
    return None


def selectors_of(kind: str, table: Mapping[str, Any] | None) -> Selectors | None:
    """The `[sources.selectors]` of a source of `kind`, checked; ValueError naming the field."""
    if kind != "html":
        if table is not None:
            raise ValueError(f"selectors: only html sources have selectors (this one is {kind})")
        return None
    if table is None:
        raise ValueError(
            "selectors: an html source needs a [sources.selectors] table "
            "(item, title, link; optional date, summary)"
        )
    for name in table:
        if name not in _FIELDS:
            raise ValueError(f"selectors.{name}: unknown field (use {', '.join(_FIELDS)})")
    for name in _FIELDS:
        value = table.get(name)
        if value is None and name in _REQUIRED:
            raise ValueError(f"selectors.{name}: missing (item, title and link are required)")
        if value is not None and not isinstance(value, str):
            raise ValueError(f"selectors.{name}: must be a string")
        if value is not None and (problem := check_selector(value.strip())) is not None:
            raise ValueError(f"selectors.{name}: {problem}")
    return Selectors(**{name: str(value).strip() for name, value in table.items()})


@functools.lru_cache(maxsize=512)
def css(text: str) -> CSSSelector:
    """The compiled selector (cssselect's HTML translator: `:checked`, `:link` …)."""
    return CSSSelector(text, translator="html")


def read_listing(
    body: bytes,
    *,
    selectors: Selectors,
    source_id: str,
    url: str,
    language: str | None = None,
    content_type: str | None = None,
) -> KeyedFeed:
    """The page's items as a keyed feed, in page order."""
    root = parse_html(body, content_type)
    base = canonical_url(str(next(iter(root.xpath("//base/@href")), "")), url) or url
    items = css(selectors.item)(root)
    if not items:
        raise ParseError(_nothing("item", selectors.item))
    optional = {"date": selectors.date, "summary": selectors.summary}
    found = dict.fromkeys(("title", "link", *[k for k, v in optional.items() if v]), False)
    entries: list[dict[str, Any]] = []
    for element in items:
        title_el = _first(element, selectors.title)
        link_el = _first(element, selectors.link)
        found["title"] |= title_el is not None
        found["link"] |= link_el is not None
        entry: dict[str, Any] = {
            "title": _text(title_el),
            "link": _href(link_el, base),
        }
        if selectors.summary:
            summary_el = _first(element, selectors.summary)
            found["summary"] |= summary_el is not None
            entry["summary"] = _text(summary_el)
        if selectors.date:
            date_el = _first(element, selectors.date)
            found["date"] |= date_el is not None
            moment = _date(date_el)
            if moment is not None:
                entry["published_parsed"] = moment
        if entry["title"] and entry["link"]:
            entries.append(entry)
    for field, matched in found.items():
        if not matched:
            raise ParseError(_nothing(field, str(getattr(selectors, field))))
    title = " ".join(" ".join(root.xpath("//title//text()")).split())
    return keyed_feed(
        entries,
        title=title,
        source_id=source_id,
        url=url,
        home=url,
        language=language,
        notes=[f"{len(items) - len(entries)} item(s) without a title or link skipped"]
        if len(entries) < len(items)
        else [],
    )


def _nothing(field: str, selector: str) -> str:
    return f"selector {field} {selector!r} matched nothing on the page"


def _first(element: lxml.html.HtmlElement, selector: str) -> lxml.html.HtmlElement | None:
    found = css(selector)(element)
    return found[0] if found else None


def _text(element: lxml.html.HtmlElement | None) -> str:
    return "" if element is None else " ".join(str(element.text_content()).split())


def _href(element: lxml.html.HtmlElement | None, base: str) -> str:
    if element is None:
        return ""
    href = element.get("href")
    if href is None:
        inner = element.xpath(".//a[@href][1]/@href")
        href = str(inner[0]) if inner else ""
    return canonical_url(str(href), base)


def _date(element: lxml.html.HtmlElement | None) -> Any:
    if element is None:
        return None
    texts = [element.get(name) for name in _DATE_ATTRIBUTES]
    for text in [*[t for t in texts if t], str(element.text_content())]:
        moment = read_date(text)
        if moment is not None:
            aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
            return aware.astimezone(UTC).timetuple()
    return None
