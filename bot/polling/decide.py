"""The decisions of one poll, as pure functions over values; `bot.polling.pipeline` carries them out.

No I/O, no clock (times are passed in), no randomness of its own (the generator is passed in).
In the order a poll meets them:
1. `after_fetch`: a 304, or a body byte-identical to the last one, ends the poll ("not-modified",
   "unchanged", the stored validators merged with the new ones); otherwise the body is new, and
   the validators to store are the answer's, with the body's fingerprint;
2. `asks_known_keys`: a source never fetched (first sight) has nothing stored, so the store is
   not asked which entries it knows; `must_match`: normalizing and matching run only when some
   entry is not known;
3. `announces`: first sight is a backlog, stored and not announced;
4. `flagged`: the report counts what was announced, or on first sight what would have been;
5. `next_poll_after_success` (the interval, give or take the jitter) and `failure` (the reason,
   the HTTP status, and a capped exponential backoff that honours Retry-After);
6. `report`: the one place a `SourceReport` is built.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.errors import FetchError, ParseError, PermanentFetchError
from bot.models import Fetched, MatchedItem, SourceState, Validators

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


@dataclass(frozen=True, slots=True)
class Seen:
    """What a fetch tells: `outcome` "not-modified"/"unchanged" ends the poll (None: a new body),
    and the validators to store either way."""

    outcome: Outcome | None
    validators: Validators


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed fetch or parse: why, the HTTP status if any, and how long to wait."""

    reason: str
    http_status: int | None
    delay: float  # seconds


def body_hash(body: bytes) -> str:
    """Fingerprint of a body, to skip parsing one we have already parsed."""
    return hashlib.sha256(body).hexdigest()


def after_fetch(fetched: Fetched, state: SourceState) -> Seen:
    """Whether the answer is news (see rule 1), and the validators to store."""
    old = state.validators
    if not fetched.not_modified:
        assert fetched.body is not None  # noqa: S101 (a 200 always carries a body)
        digest = body_hash(fetched.body)
        if digest != old.body_hash:
            return Seen(None, Validators(fetched.etag, fetched.last_modified, digest))
    merged = Validators(
        fetched.etag or old.etag, fetched.last_modified or old.last_modified, old.body_hash
    )
    return Seen("not-modified" if fetched.not_modified else "unchanged", merged)


def asks_known_keys(state: SourceState) -> bool:
    """Whether to ask the store which entries it knows (never on first sight: nothing stored)."""
    return not state.first_sight


def must_match(known: int, entries: int) -> bool:
    """Whether any entry is new, so normalizing and matching have work to do."""
    return known < entries


def announces(state: SourceState) -> bool:
    """Whether newly flagged items are announced (not on first sight: they are a backlog)."""
    return not state.first_sight


def flagged(state: SourceState, matched: Sequence[MatchedItem], announced: int) -> int:
    """The report's flagged count: announced items, or on first sight the items that matched."""
    if state.first_sight:
        return sum(1 for m in matched if m.matches)
    return announced


def poll_delay(interval: float, rng: random.Random) -> float:
    """The next regular poll: the interval, give or take the jitter."""
    return interval * (1 + rng.uniform(-JITTER, JITTER))


def next_poll_after_success(now: datetime, interval: float, rng: random.Random) -> datetime:
    """When a source that answered is polled next."""
    return now + timedelta(seconds=poll_delay(interval, rng))


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


def failure(
    exc: FetchError | ParseError, state: SourceState, *, interval: float, max_backoff: float
) -> Failure:
    """The reason to store and report, and the backoff after this failure."""
    delay = backoff_delay(
        interval,
        state.consecutive_failures,
        retry_after=exc.retry_after if isinstance(exc, FetchError) else None,
        max_backoff=max_backoff,
        permanent=isinstance(exc, PermanentFetchError),
    )
    if isinstance(exc, FetchError):
        return Failure(exc.reason, exc.status, delay)
    return Failure(f"not a readable feed: {exc}", None, delay)


def report(
    source_id: str,
    outcome: Outcome,
    *,
    next_poll: datetime,
    elapsed: float,
    state: SourceState | None = None,
    at: datetime | None = None,
    failures: int = 0,
    http_status: int | None = None,
    error: str | None = None,
    new_items: int = 0,
    flagged: int = 0,
    parsed: int = 0,
    hub: str | None = None,
    self_url: str | None = None,
) -> SourceReport:
    """The report of one run. With `state` (as read before the run) and `at` (when its outcome
    was stored) it carries the run's place in the source's history; `first_sight` comes from it."""
    first_sight = outcome == "new" and state is not None and state.first_sight
    return SourceReport(
        source_id,
        outcome,
        http_status,
        error,
        new_items,
        flagged,
        elapsed,
        next_poll,
        first_sight,
        parsed,
        hub,
        self_url,
        at=at if state is not None else None,
        failures_before=state.consecutive_failures if state is not None else 0,
        failures=failures,
        last_success_before=state.last_success if state is not None else None,
    )
