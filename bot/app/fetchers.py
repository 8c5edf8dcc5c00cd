"""The two kinds of fetcher, each built in one place from the settings.

Feeds, which the operator chose, may be on internal addresses; article pages, linked from feed
entries, are fetched by a client that connects only to public addresses
(`bot.feeds.article.article_client`) unless BOT_ALLOW_PRIVATE_URLS says otherwise. Each client is
closed by the given exit stack.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx

from bot.config import Settings
from bot.feeds.article import ArticleFetcher, article_client
from bot.feeds.fetch import Fetcher, make_client


def feed_fetcher(stack: AsyncExitStack, settings: Settings) -> Fetcher:
    """The feeds' fetcher: one client, the body cap and the concurrency limits from the settings."""
    client = make_client(timeout=settings.fetch_timeout, max_connections=settings.fetch_concurrency)
    stack.push_async_callback(client.aclose)
    return _fetcher(client, settings)


def article_fetcher(stack: AsyncExitStack, settings: Settings) -> ArticleFetcher:
    """The article pages' fetcher (the `extract` command uses it too)."""
    client = article_client(
        timeout=settings.fetch_timeout,
        allow_private=settings.allow_private_urls,
        max_connections=settings.fetch_concurrency,
    )
    stack.push_async_callback(client.aclose)
    return ArticleFetcher(
        _fetcher(client, settings),
        timeout=settings.fetch_timeout,
        allow_private=settings.allow_private_urls,
    )


def _fetcher(client: httpx.AsyncClient, settings: Settings) -> Fetcher:
    return Fetcher(
        client,
        max_bytes=settings.max_body_bytes,
        max_connections=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
    )
