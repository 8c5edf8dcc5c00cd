"""One poll of a source, and a pass over many.

A run, in order:
1. read the source's state (validators, failures) from the store;
2. fetch with a conditional GET; a 304, or a body byte-identical to the last one, ends the run here;
3. parse and key the entries in a worker thread (feedparser is CPU-bound and must not stall the
   event loop), ask the store once which keys it already knows (items it holds, and keys of items
   retention removed), then normalize and match only the new entries in a worker thread: a known
   item can change nothing, as the store keeps the first version of an item and its matches;
4. new flagged items get their review summary (`bot.polling.summaries`: the article page when the
   source's `fetch_article` asks for it, within the fetch timeout, else the feed text);
5. store new items, their matches and the new state in one transaction;
5. hand newly flagged items to the messenger, unless this is the source's first sight (a backlog).
A failure at 2 or 3 is counted on the source, which is then polled again after a capped exponential
backoff that honours Retry-After; the other sources carry on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypedDict

from bot.errors import FetchError, ParseError, PermanentFetchError, StoreError
from bot.feeds.fetch import Fetcher
from bot.feeds.parse import KeyedFeed, read_feed
from bot.messengers.base import Messenger
from bot.models import Fetched, MatchedItem, Source, SourceState, Validators
from bot.polling.summaries import Summaries
from bot.storage.items import KnownKeys, Store
from bot.topics.matcher import Matcher

log = logging.getLogger(__name__)

Outcome = Literal["new", "not-modified", "unchanged", "failed"]
JITTER = 0.1  # fraction of the interval, so that sources with one interval drift apart


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one run of one source did."""

    source_id: str
    outcome: Outcome
    http_status: int | None
    error: str | None
    new_items: int
    flagged: int
    elapsed: float
    next_poll: datetime
    first_sight: bool = False
    parsed: int = 0  # items the feed held (after normalization)
    hub: str | None = None  # WebSub hub the feed advertises, and the topic URL it names
    self_url: str | None = None
    # The run's place in the source's stored history, for judgements any process can make alike
    # (operator alerts): when it stored its outcome (its new items' first sight), the failed runs
    # in a row as stored before and after it, and the good run before it. None/0: nothing stored.
    at: datetime | None = None
    failures_before: int = 0
    failures: int = 0
    last_success_before: datetime | None = None


class _History(TypedDict):
    at: datetime
    failures_before: int
    failures: int
    last_success_before: datetime | None


def _history(state: SourceState, at: datetime, failures: int = 0) -> _History:
    """A report's place in the source's stored history (see `SourceReport`)."""
    return _History(
        at=at,
        failures_before=state.consecutive_failures,
        failures=failures,
        last_success_before=state.last_success,
    )


def poll_delay(interval: float, rng: random.Random) -> float:
    """The next regular poll: the interval, give or take the jitter."""
    return interval * (1 + rng.uniform(-JITTER, JITTER))


def backoff_delay(
    interval: float,
    failures: int,
    *,
    retry_after: float | None,
    max_backoff: float,
    permanent: bool = False,
) -> float:
    """Delay after `failures` consecutive failures: doubling from the interval, capped, never below
    the server's Retry-After. A permanent error starts further up the curve: it rarely fixes itself."""
    steps = failures + (2 if permanent else 0)
    cap = max(interval, max_backoff)
    delay: float = min(cap, interval * 2.0 ** min(steps, 20))
    if retry_after is not None:
        delay = max(delay, min(retry_after, 86400.0))
    return delay


def body_hash(body: bytes) -> str:
    """Fingerprint of a body, to skip parsing one we have already parsed."""
    return hashlib.sha256(body).hexdigest()


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
        self.matcher = matcher  # replaced when topics change; read once per run
        self._messenger = messenger
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self._max_backoff = max_backoff
        self._max_running = max_running
        self._summaries = summaries

    async def run_all(self, sources: Sequence[Source]) -> list[SourceReport]:
        """Run the sources concurrently, at most `max_running` at a time; one report each."""
        # One query for every state rather than one per source: with thousands of sources the
        # per-source reads cost as much as the fetches, and all queue for the pool at once.
        try:
            states: dict[str, SourceState] | None = await self._store.source_states()
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
                result = SourceReport(
                    source.id,
                    "failed",
                    None,
                    f"internal error: {type(result).__name__}",
                    0,
                    0,
                    0.0,
                    self._clock() + timedelta(seconds=source.interval),
                )
            reports.append(result)
        return reports

    async def run_source(self, source: Source, *, state: SourceState | None = None) -> SourceReport:
        """Poll one source once. Fetch and parse errors become a 'failed' report, never an exception.

        `state` is the source's state when the caller has just read it; otherwise it is read here.
        """
        started = time.perf_counter()
        if state is None:
            state = await self._store.source_state(source.id)
        try:
            fetched = await self._fetcher.fetch(source, state.validators)
            if fetched.not_modified:
                return await self._unchanged(source, fetched, state, started, "not-modified")
            assert fetched.body is not None  # noqa: S101 (a 200 always carries a body)
            digest = body_hash(fetched.body)
            if digest == state.validators.body_hash:
                return await self._unchanged(source, fetched, state, started, "unchanged")
            matcher = self.matcher
            feed = await asyncio.to_thread(self._read, source, fetched)
            # No memory of earlier runs here: the store is asked, so a fresh process skips known
            # items as cheaply as a long-running one, and retention cannot make them new again.
            # A source never fetched has nothing stored (and should a concurrent writer have
            # stored some, the store's insert keeps the first version): no need to ask.
            known = (
                KnownKeys(frozenset())
                if state.first_sight
                else await self._store.known_keys(source.id, feed.keys, now=self._clock())
            )
            items = []
            if len(known.keys) < len(feed.entries):
                items = await asyncio.to_thread(
                    self._normalize_and_match, feed, known.keys, matcher, self._clock()
                )
        except (FetchError, ParseError) as exc:
            return await self._failed(source, exc, state, started)

        offered = items
        if self._summaries is not None:
            offered = await self._summaries.add(
                source, offered, first_sight=state.first_sight, matcher=matcher
            )
        now = self._clock()
        next_poll = now + timedelta(seconds=poll_delay(source.interval, self._rng))
        validators = Validators(fetched.etag, fetched.last_modified, digest)
        result = await self._store.save_fetch(
            source.id,
            items=offered,
            validators=validators,
            now=now,
            next_poll=next_poll,
            announce=not state.first_sight,
            refresh=known.refresh,
        )
        if result.flagged:
            await self._messenger.announce(result.flagged)
        flagged = sum(1 for m in items if m.matches)
        log.info(
            "source=%s status=%s items=%d new=%d flagged=%d%s",
            source.id,
            fetched.status,
            len(feed.entries),
            result.new_items,
            len(result.flagged),
            " (first sight: stored, not announced)" if state.first_sight else "",
        )
        return SourceReport(
            source.id,
            "new",
            fetched.status,
            None,
            result.new_items,
            len(result.flagged) if not state.first_sight else flagged,
            time.perf_counter() - started,
            next_poll,
            state.first_sight,
            len(feed.entries),
            feed.hub,
            feed.self_url,
            **_history(state, now),
        )

    @staticmethod
    def _read(source: Source, fetched: Fetched) -> KeyedFeed:
        assert fetched.body is not None  # noqa: S101
        feed = read_feed(
            fetched.body,
            source_id=source.id,
            url=fetched.url,
            language=source.language,
            content_type=fetched.content_type,
        )
        if feed.warning:
            log.debug("source=%s feed is ill-formed but readable: %s", source.id, feed.warning)
        return feed

    @staticmethod
    def _normalize_and_match(
        feed: KeyedFeed, known: frozenset[str], matcher: Matcher, now: datetime
    ) -> list[MatchedItem]:
        return [
            MatchedItem(item, matcher.match(item.title, item.summary, item.language))
            for item in feed.items(now=now, skip=known)
        ]

    async def _unchanged(
        self, source: Source, fetched: Fetched, state: SourceState, started: float, outcome: Outcome
    ) -> SourceReport:
        now = self._clock()
        next_poll = now + timedelta(seconds=poll_delay(source.interval, self._rng))
        old = state.validators
        validators = Validators(
            fetched.etag or old.etag, fetched.last_modified or old.last_modified, old.body_hash
        )
        await self._store.save_not_modified(
            source.id, now=now, next_poll=next_poll, validators=validators
        )
        log.info("source=%s status=%s %s", source.id, fetched.status, outcome)
        return SourceReport(
            source.id,
            outcome,
            fetched.status,
            None,
            0,
            0,
            time.perf_counter() - started,
            next_poll,
            **_history(state, now),
        )

    async def _failed(
        self, source: Source, exc: FetchError | ParseError, state: SourceState, started: float
    ) -> SourceReport:
        now = self._clock()
        delay = backoff_delay(
            source.interval,
            state.consecutive_failures,
            retry_after=exc.retry_after if isinstance(exc, FetchError) else None,
            max_backoff=self._max_backoff,
            permanent=isinstance(exc, PermanentFetchError),
        )
        next_poll = now + timedelta(seconds=delay)
        reason = exc.reason if isinstance(exc, FetchError) else f"not a readable feed: {exc}"
        count = await self._store.save_failure(
            source.id, error=reason, now=now, next_poll=next_poll
        )
        log.warning(
            "source=%s failed (%d in a row): %s; next try in %.0fs", source.id, count, reason, delay
        )
        return SourceReport(
            source.id,
            "failed",
            exc.status if isinstance(exc, FetchError) else None,
            reason,
            0,
            0,
            time.perf_counter() - started,
            next_poll,
            **_history(state, now, count),
        )
