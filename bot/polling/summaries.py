"""The pipeline's summary step: article text (when the source asks for it) and the review summary.

For the items of a poll that matched a topic and are new to the store, in order:
1. decide whether to fetch the article page, by the source's `fetch_article`: "never"; "always";
   "short" (the default) when the feed text, cleaned, is under 200 characters — and never for a
   source's first sight (a backlog that is stored, not announced);
2. fetch and extract the pages concurrently (`bot.feeds.article`, bounded by the fetch timeout);
   any failure — HTTP error, timeout, refused link, no article, text shorter than the feed's —
   falls back to the feed text, and is logged at WARNING once per source (then at DEBUG);
3. summarize (`bot.review.summary`) with the terms that flagged the item, plus those the topic
   matcher finds in the article text (a teaser naming the presidents may flag an item whose
   article names the countries), at most `limit` characters; the result rides on the `MatchedItem` into the store, so the outbox row written in
   the same transaction already has it, and delivery never waits on a page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from bot.errors import FetchError
from bot.feeds.extract import Article
from bot.models import Item, MatchedItem, Source, TopicMatch
from bot.review.summary import matched_terms, summarize
from bot.text.clean import plain_text
from bot.topics.matcher import Matcher

log = logging.getLogger(__name__)

SHORT_TEXT = 200  # characters of cleaned feed text under which "short" fetches the article


class ArticleSource(Protocol):
    """Gives the article at a URL (None: the page holds none), or raises FetchError."""

    async def article(self, url: str) -> Article | None: ...


def review_terms(
    matcher: Matcher | None,
    matches: Sequence[TopicMatch],
    *,
    title: str,
    text: str | None,
    language: str | None,
) -> list[str]:
    """The terms a review summary looks for: those that flagged the item (`matches`, on its feed
    text), then those the matcher finds in the article text, when there is one."""
    terms = matched_terms(matches)
    if text and matcher is not None:
        terms += matched_terms(matcher.match(title, text, language))
    return terms


def wants_article(mode: str, feed_text: str) -> bool:
    """Whether a flagged item's page is fetched under `mode`, given its feed text."""
    if mode == "always":
        return True
    if mode == "short":
        return len(plain_text(feed_text)) < SHORT_TEXT
    return False


def article_url(item: Item) -> str:
    """The page to read for an item: its own link, unless its source named another ("": none)."""
    return item.url if item.article_url is None else item.article_url


class Summaries:
    """Adds the review summary (and the article text behind it) to a poll's new flagged items."""

    def __init__(
        self,
        *,
        articles: ArticleSource | None,
        limit: int = 300,
        timeout: float = 20.0,
    ) -> None:
        self._articles = articles
        self._limit = limit
        self._timeout = timeout
        self._warned: set[str] = set()

    async def add(
        self,
        source: Source,
        items: Sequence[MatchedItem],
        *,
        first_sight: bool,
        matcher: Matcher | None = None,
    ) -> list[MatchedItem]:
        """`items` with `review_summary` set on the flagged ones.

        The pipeline hands over only items the store does not hold yet (it asks the store for
        the feed's known keys first), so no page is fetched again after a restart.
        """
        fresh = [m for m in items if m.matches]
        if not fresh:
            return list(items)
        fetch = [
            m
            for m in fresh
            if self._articles is not None
            and not first_sight
            and wants_article(source.fetch_article, m.item.summary)
            and article_url(m.item)
        ]
        texts = await asyncio.gather(*(self._text(source, m) for m in fetch))
        article_of = {m.item.key: text for m, text in zip(fetch, texts, strict=True)}
        done = {
            m.item.key: replace(
                m, review_summary=self._summary(m, article_of.get(m.item.key), matcher) or None
            )
            for m in fresh
        }
        return [done.get(m.item.key, m) if m.matches else m for m in items]

    def _summary(self, matched: MatchedItem, text: str | None, matcher: Matcher | None) -> str:
        item = matched.item
        terms = review_terms(
            matcher, matched.matches, title=item.title, text=text, language=item.language
        )
        return summarize(
            title=item.title, summary=item.summary, text=text, terms=terms, limit=self._limit
        )

    async def _text(self, source: Source, matched: MatchedItem) -> str | None:
        assert self._articles is not None  # noqa: S101 (only called when there is a fetcher)
        url = article_url(matched.item)
        try:
            async with asyncio.timeout(self._timeout):
                article = await self._articles.article(url)
        except FetchError as exc:
            self._fell_back(source, f"{exc.reason} ({url})")
            return None
        except TimeoutError:
            self._fell_back(source, f"timed out ({url})")
            return None
        if article is None:
            self._fell_back(source, f"no article text on the page ({url})")
            return None
        if len(article.text) < len(matched.item.summary):
            self._fell_back(source, f"article shorter than the feed text, a stub? ({url})")
            return None
        return article.text

    def _fell_back(self, source: Source, reason: str) -> None:
        if source.id in self._warned:
            log.debug("source=%s article not used: %s", source.id, reason)
            return
        self._warned.add(source.id)
        log.warning(
            "source=%s article not used, the feed text is summarized instead: %s "
            "(further article failures of this source are logged at DEBUG)",
            source.id,
            reason,
        )
