"""bot.polling.decide: the decisions of one poll, over plain values (no database, no network)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import ParseError, PermanentFetchError, TransientFetchError
from bot.models import Fetched, Item, MatchedItem, SourceState, TopicMatch, Validators
from bot.polling import decide

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BODY = b"<rss>one</rss>"
SEEN = SourceState(
    "apa",
    Validators('"v1"', "Mon, 07 Dec 2026 10:00:00 GMT", decide.body_hash(BODY)),
    last_success=NOW - timedelta(hours=1),
    consecutive_failures=2,
)
NEVER = SourceState("apa")


def answer(status: int, body: bytes | None, etag: str | None = None) -> Fetched:
    return Fetched(status, "https://apa.az/rss", body, "application/rss+xml", etag, None, 0.1)


@pytest.mark.parametrize(
    ("fetched", "state", "outcome", "validators"),
    [
        # 304: ends the poll; a new ETag is kept, the missing Last-Modified and the hash too.
        (
            answer(304, None, '"v2"'),
            SEEN,
            "not-modified",
            Validators('"v2"', SEEN.validators.last_modified, SEEN.validators.body_hash),
        ),
        # 200 with the very body parsed last time: ends the poll, old validators where none came.
        (answer(200, BODY), SEEN, "unchanged", SEEN.validators),
        # 200 with a new body: parse it; store exactly the answer's validators and the new hash.
        (
            answer(200, b"<rss>two</rss>", '"v3"'),
            SEEN,
            None,
            Validators('"v3"', None, decide.body_hash(b"<rss>two</rss>")),
        ),
        # Never fetched: every body is new.
        (answer(200, BODY), NEVER, None, Validators(None, None, decide.body_hash(BODY))),
    ],
)
def test_after_fetch_ends_the_poll_on_nothing_new_and_says_what_to_store(
    fetched: Fetched, state: SourceState, outcome: str | None, validators: Validators
) -> None:
    seen = decide.after_fetch(fetched, state)
    assert (seen.outcome, seen.validators) == (outcome, validators)


def test_first_sight_neither_asks_the_store_nor_announces() -> None:
    assert NEVER.first_sight
    assert not SEEN.first_sight
    assert (decide.asks_known_keys(NEVER), decide.announces(NEVER)) == (False, False)
    assert (decide.asks_known_keys(SEEN), decide.announces(SEEN)) == (True, True)


@pytest.mark.parametrize(
    ("known", "entries", "expected"), [(0, 0, False), (3, 3, False), (2, 3, True)]
)
def test_matching_runs_only_when_some_entry_is_new(
    known: int, entries: int, expected: bool
) -> None:
    assert decide.must_match(known, entries) is expected


def _matched(n_flagged: int, n_plain: int) -> list[MatchedItem]:
    item = Item("apa", "k", "https://apa.az/1", "t", "s", NOW)
    hit = TopicMatch("azerbaijan-iran", ())
    return [MatchedItem(item, (hit,))] * n_flagged + [MatchedItem(item, ())] * n_plain


def test_the_flagged_count_is_what_was_announced_or_on_first_sight_what_would_have_been() -> None:
    matched = _matched(3, 4)
    assert decide.flagged(SEEN, matched, announced=2) == 2  # the store announced two of three
    assert decide.flagged(NEVER, matched, announced=0) == 3


def test_the_next_poll_is_the_interval_give_or_take_the_jitter() -> None:
    rng = random.Random(1)
    delays = [
        (decide.next_poll_after_success(NOW, 600, rng) - NOW).total_seconds() for _ in range(50)
    ]
    assert all(540 <= d <= 660 for d in delays)
    assert len(set(delays)) > 1


def test_a_failure_backs_off_from_the_stored_count_and_honours_retry_after() -> None:
    transient = TransientFetchError("HTTP 503", status=503, retry_after=5000.0)
    failed = decide.failure(transient, SEEN, interval=300, max_backoff=3600)
    assert (failed.reason, failed.http_status, failed.delay) == ("HTTP 503", 503, 5000.0)
    permanent = decide.failure(
        PermanentFetchError("HTTP 404", status=404), SEEN, interval=300, max_backoff=1e6
    )
    assert permanent.delay == 300 * 2**4  # two failures stored, two steps more for permanent
    unreadable = decide.failure(ParseError("no feed"), NEVER, interval=300, max_backoff=3600)
    assert (unreadable.reason, unreadable.http_status, unreadable.delay) == (
        "not a readable feed: no feed",
        None,
        300,
    )


def test_a_report_carries_the_run_s_place_in_the_stored_history() -> None:
    report = decide.report(
        "apa", "failed", state=SEEN, at=NOW, failures=3, next_poll=NOW, elapsed=0.5, error="x"
    )
    assert (report.at, report.failures_before, report.failures, report.last_success_before) == (
        NOW,
        2,
        3,
        SEEN.last_success,
    )
    assert not report.first_sight
    crashed = decide.report("apa", "failed", next_poll=NOW, elapsed=0.0, error="internal error")
    assert (crashed.at, crashed.failures_before, crashed.last_success_before) == (None, 0, None)


def test_only_a_new_run_on_first_sight_is_reported_as_first_sight() -> None:
    assert decide.report("apa", "new", state=NEVER, at=NOW, next_poll=NOW, elapsed=0).first_sight
    assert not decide.report(
        "apa", "unchanged", state=NEVER, at=NOW, next_poll=NOW, elapsed=0
    ).first_sight
    assert not decide.report("apa", "new", state=SEEN, at=NOW, next_poll=NOW, elapsed=0).first_sight
