"""One poll of a source, and a pass over many: the I/O that carries out `bot.polling.decide`.

A run, in order (each "whether" is a pure decision in `decide`):
1. read the source's state (validators, failures) from the store;
2. fetch with a conditional GET; a 304, or a body byte-identical to the last one, ends the run here;
3. parse and key the entries in a worker thread (feedparser is CPU-bound and must not stall the
   event loop), ask the store once which keys it already knows (items it holds, and keys of items
   retention removed; not on first sight), then normalize and match only the new entries in a
   worker thread: a known item can change nothing, as the store keeps the first version of an
   item and its matches;
4. new flagged items get their review summary (`bot.polling.summaries`: the article page when the
   source's `fetch_article` asks for it, within the fetch timeout, else the feed text);
5. store new items, their matches and the new state in one transaction;
6. hand newly flagged items to the messenger, unless this is the source's first sight (a backlog).
A failure at 2 or 3 is counted on the source, which is then polled again after a capped exponential
backoff that honours Retry-After; the other sources carry on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.errors import FetchError, ParseError, StoreError
from bot.feeds.fetch import Fetcher
from bot.feeds.kinds import read_source
from bot.feeds.parse import KeyedFeed
from bot.messengers.base import Messenger
from bot.models import Fetched, MatchedItem, Source, SourceState
from bot.polling import decide
from bot.polling.decide import Seen, SourceReport
from bot.polling.summaries import Summaries
from bot.storage.items import KnownKeys, Store
from bot.topics.matcher import Matcher

log = logging.getLogger(__name__)


class Pipeline:
    """Runs sources through fetch → parse → match → store → announce."""

    def __init__(
        self,
        *,
        fetcher: Fetcher,
        store: Store,
        matcher: Matcher,
        messenger: Messenger,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        max_backoff: float = 3600.0,
        max_running: int = 64,
        summaries: Summaries | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._store = store
        self._matcher = matcher  # replaced by `set_matcher` when topics change; read once per run
        self._messenger = messenger
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self._max_backoff = max_backoff
        self._max_running = max_running
        self._summaries = summaries

    def set_matcher(self, matcher: Matcher) -> None:
        """Judge from the next poll on with `matcher` (the topics changed); polls running keep theirs."""
        self._matcher = matcher

    async def run_all(self, sources: Sequence[Source]) -> list[SourceReport]:
        """Run the sources concurrently, at most `max_running` at a time; one report each."""
        # One query for every state rather than one per source: with thousands of sources the
        # per-source reads cost as much as the fetches, and all queue for the pool at once.
        try:
            states: dict[str, SourceState] | None = await self._store.states.source_states()
        except StoreError as exc:
            log.warning("could not read the sources' states at once (%s); reading each", exc)
            states = None
        # Fetching outruns parsing, and each fetched body waits in memory for a parse thread:
        # unbounded, a pass over thousands of sources would hold nearly every body at once.
        running = asyncio.Semaphore(self._max_running)

        async def run(source: Source) -> SourceReport:
            async with running:
                state = None if states is None else states.get(source.id, SourceState(source.id))
                return await self.run_source(source, state=state)

        results = await asyncio.gather(*(run(s) for s in sources), return_exceptions=True)
        reports = []
        for source, result in zip(sources, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # cancellation and exits are not a source's failure
                log.error("source=%s run crashed: %r", source.id, result, exc_info=result)
                result = decide.report(
                    source.id,
                    "failed",
                    error=f"internal error: {type(result).__name__}",
                    elapsed=0.0,
                    next_poll=self._clock() + timedelta(seconds=source.interval),
                )
            reports.append(result)
        return reports

    async def run_source(self, source: Source, *, state: SourceState | None = None) -> SourceReport:
        """Poll one source once. Fetch and parse errors become a 'failed' report, never an exception.

        `state` is the source's state when the caller has just read it; otherwise it is read here.
        """
        started = time.perf_counter()
        if state is None:
            state = await self._store.states.source_state(source.id)
        try:
            fetched = await self._fetcher.fetch(source, state.validators)
            seen = decide.after_fetch(fetched, state)
            if seen.outcome is not None:
                return await self._unchanged(source, fetched, state, seen, started)
            matcher = self._matcher
            feed = await asyncio.to_thread(_read, source, fetched)
            # No memory of earlier runs here: the store is asked, so a fresh process skips known
            # items as cheaply as a long-running one, and retention cannot make them new again.
            known = (
                await self._store.known_keys(source.id, feed.keys, now=self._clock())
                if decide.asks_known_keys(state)
                else KnownKeys(frozenset())
            )
            items = []
            if decide.must_match(len(known.keys), len(feed.entries)):
                items = await asyncio.to_thread(
                    _normalize_and_match, feed, known.keys, matcher, self._clock()
                )
        except (FetchError, ParseError) as exc:
            return await self._failed(source, exc, state, started)

        offered = items
        if self._summaries is not None:
            offered = await self._summaries.add(
                source, offered, first_sight=state.first_sight, matcher=matcher
            )
        now = self._clock()
        next_poll = decide.next_poll_after_success(now, source.interval, self._rng)
        result = await self._store.save_fetch(
            source.id,
            items=offered,
            validators=seen.validators,
            now=now,
            next_poll=next_poll,
            announce=decide.announces(state),
            refresh=known.refresh,
        )
        if result.flagged:
            await self._messenger.announce(result.flagged)
        log.info(
            "source=%s status=%s items=%d new=%d flagged=%d%s",
            source.id,
            fetched.status,
            len(feed.entries),
            result.new_items,
            len(result.flagged),
            " (first sight: stored, not announced)" if state.first_sight else "",
        )
        return decide.report(
            source.id,
            "new",
            state=state,
            at=now,
            next_poll=next_poll,
            elapsed=time.perf_counter() - started,
            http_status=fetched.status,
            new_items=result.new_items,
            flagged=decide.flagged(state, items, len(result.flagged)),
            parsed=len(feed.entries),
            hub=feed.hub,
            self_url=feed.self_url,
        )

    async def _unchanged(
        self, source: Source, fetched: Fetched, state: SourceState, seen: Seen, started: float
    ) -> SourceReport:
        assert seen.outcome is not None  # noqa: S101 (the caller checked)
        now = self._clock()
        next_poll = decide.next_poll_after_success(now, source.interval, self._rng)
        await self._store.states.save_not_modified(
            source.id, now=now, next_poll=next_poll, validators=seen.validators
        )
        log.info("source=%s status=%s %s", source.id, fetched.status, seen.outcome)
        return decide.report(
            source.id,
            seen.outcome,
            state=state,
            at=now,
            next_poll=next_poll,
            elapsed=time.perf_counter() - started,
            http_status=fetched.status,
        )

    async def _failed(
        self, source: Source, exc: FetchError | ParseError, state: SourceState, started: float
    ) -> SourceReport:
        now = self._clock()
        failed = decide.failure(exc, state, interval=source.interval, max_backoff=self._max_backoff)
        next_poll = now + timedelta(seconds=failed.delay)
        count = await self._store.states.save_failure(
            source.id, error=failed.reason, now=now, next_poll=next_poll
        )
        log.warning(
            "source=%s failed (%d in a row): %s; next try in %.0fs",
            source.id,
            count,
            failed.reason,
            failed.delay,
        )
        return decide.report(
            source.id,
            "failed",
            state=state,
            at=now,
            failures=count,
            next_poll=next_poll,
            elapsed=time.perf_counter() - started,
            http_status=failed.http_status,
            error=failed.reason,
        )


def _read(source: Source, fetched: Fetched) -> KeyedFeed:
    """Parse and key a fetched body (in a worker thread: feedparser is CPU-bound)."""
    assert fetched.body is not None  # noqa: S101
    # Every source type (feed, JSON Feed, Telegram preview, listing page, news sitemap) yields
    # the same keyed feed, so nothing below knows which one this is.
    feed = read_source(
        fetched.body, source=source, url=fetched.url, content_type=fetched.content_type
    )
    if feed.warning:
        log.debug("source=%s feed is ill-formed but readable: %s", source.id, feed.warning)
    return feed


def _normalize_and_match(
    feed: KeyedFeed, known: frozenset[str], matcher: Matcher, now: datetime
) -> list[MatchedItem]:
    """Normalize the entries not in `known` and judge each against the topics."""
    return [
        MatchedItem(item, matcher.match(item.title, item.summary, item.language))
        for item in feed.items(now=now, skip=known)
    ]
