"""`GET /metrics`: Prometheus exposition from a registry of this app's own (no global registry).

Counters and the latency histogram are fed as things happen, by small recorders that `app`
injects: `on_report` (a scheduler report hook: fetches by outcome, items parsed/new/flagged),
`CountingSender` (wraps the Telegram sender: sends by outcome, 429s) and `delivered` (the delivery
worker's latency hook). Gauges are read from the database at scrape time (`collect`): per-source
last success and consecutive failures, `bot_source_paused` (1 for a paused or disabled source:
every source is listed, polled or not), `bot_sources` by state, outbox depth and the age of its
oldest message, so every process reports the shared truth. Leadership comes from a callable `app` provides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.errors import (
    ChatMigratedError,
    ChatUnavailableError,
    DeliveryError,
    RetryLaterError,
    TransientDeliveryError,
    UnparsableMessageError,
)
from bot.models import Source
from bot.polling.decide import SourceReport
from bot.storage.status import SourceHealth, StatusStore
from bot.web.states import ACTIVE, STATES, configured, state_of

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds from an item's first sight to its delivery: pacing keeps most under a minute.
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, float("inf"))


class Sender(Protocol):
    """The shape of `bot.telegram.sending.Sender` (a sibling wing, so not imported)."""

    async def send(
        self, chat_id: int, text: str, *, html: bool, thread_id: int | None, buttons: Any = None
    ) -> int:
        """Send one message (with its inline keyboard, if any); the id Telegram gave it."""
        ...

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, html: bool, buttons: Any = None
    ) -> None: ...


class Metrics:
    """The app's Prometheus registry and the recorders that feed it."""

    def __init__(
        self,
        status: StatusStore,
        *,
        clock: Callable[[], datetime],
        leader: Callable[[], bool] = lambda: True,
        sources: Callable[[], Sequence[Source]] = tuple,
    ) -> None:
        self._status = status
        self._sources = sources
        self._clock = clock
        self._leader = leader
        self.registry = CollectorRegistry()
        r = self.registry
        self.fetches = Counter(
            "bot_fetches", "Polls of a source by outcome", ["outcome"], registry=r
        )
        self.items = Counter(
            "bot_items", "Feed items by stage: parsed, new, flagged", ["stage"], registry=r
        )
        self.sends = Counter("bot_sends", "Telegram sends by outcome", ["outcome"], registry=r)
        self.rate_limited = Counter(
            "bot_telegram_429", "Telegram flood-control answers (HTTP 429)", registry=r
        )
        self.latency = Histogram(
            "bot_delivery_latency_seconds",
            "From an item's first sight to its delivery to a chat",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pushes = Counter(
            "bot_websub_pushes", "WebSub pushes received by outcome", ["outcome"], registry=r
        )
        self._gauges = _DatabaseGauges()
        r.register(self._gauges)

    async def on_report(self, source: Source, report: SourceReport) -> None:
        """A scheduler report hook: count the poll and its items."""
        self.fetches.labels(report.outcome).inc()
        if report.parsed:
            self.items.labels("parsed").inc(report.parsed)
        if report.new_items:
            self.items.labels("new").inc(report.new_items)
        if report.flagged:
            self.items.labels("flagged").inc(report.flagged)

    def delivered(self, latency: float) -> None:
        """The delivery worker's hook: a message was accepted `latency` s after first sight."""
        self.latency.observe(max(0.0, latency))

    def pushed(self, outcome: str) -> None:
        """A WebSub push arrived: "accepted", "bad-signature" or "unknown"."""
        self.pushes.labels(outcome).inc()

    async def collect(self) -> bytes:
        """Read the gauges from the database, then render the exposition text."""
        sources = await self._status.sources(enabled_only=False)
        config = configured(self._sources())
        states = [state_of(s, config) for s in sources]
        outbox = await self._status.outbox()
        age = (self._clock() - outbox.oldest).total_seconds() if outbox.oldest else 0.0
        # One snapshot, swapped in whole: a concurrent scrape sees this one or the last.
        self._gauges.snapshot = _Snapshot(
            sources, states, outbox.depth, max(0.0, age), self._leader()
        )
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    sources: list[SourceHealth]
    states: list[str]  # each source's state (`bot.web.states`), in the same order
    outbox_depth: int
    outbox_age: float
    leader: bool


class _DatabaseGauges(Collector):
    """The gauges read at scrape time, as metric families (thousands of labelled gauge children
    would cost more to update than the query)."""

    def __init__(self) -> None:
        self.snapshot = _Snapshot([], [], 0, 0.0, False)

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        success = GaugeMetricFamily(
            "bot_source_last_success_timestamp_seconds",
            "Unix time of the source's last successful poll",
            labels=["source"],
        )
        failures = GaugeMetricFamily(
            "bot_source_consecutive_failures",
            "Failed polls of the source in a row",
            labels=["source"],
        )
        paused = GaugeMetricFamily(
            "bot_source_paused",
            "1 when the source is not polled: paused, or disabled (no longer in the config)",
            labels=["source"],
        )
        counts = dict.fromkeys(STATES, 0)
        for source, state in zip(snap.sources, snap.states, strict=True):
            if source.last_success is not None:
                success.add_metric([source.id], source.last_success.timestamp())
            failures.add_metric([source.id], source.failures)
            paused.add_metric([source.id], int(state != ACTIVE))
            counts[state] += 1
        yield success
        yield failures
        yield paused
        by_state = GaugeMetricFamily(
            "bot_sources", "Sources by state: active, paused, disabled", labels=["state"]
        )
        for state, n in counts.items():
            by_state.add_metric([state], n)
        yield by_state
        yield GaugeMetricFamily(
            "bot_outbox_depth", "Messages waiting to be sent", value=snap.outbox_depth
        )
        yield GaugeMetricFamily(
            "bot_outbox_oldest_age_seconds",
            "Age of the oldest message waiting to be sent (0 when none)",
            value=snap.outbox_age,
        )
        yield GaugeMetricFamily(
            "bot_process_leader", "1 when this process holds the leadership", value=int(snap.leader)
        )


class CountingSender:
    """Wraps the Telegram sender: counts each send by outcome (and 429s), changes nothing."""

    def __init__(self, inner: Sender, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def send(
        self, chat_id: int, text: str, *, html: bool, thread_id: int | None, buttons: Any = None
    ) -> int:
        """Send through the wrapped sender; its result or its error, unchanged."""
        try:
            message_id = await self._inner.send(
                chat_id, text, html=html, thread_id=thread_id, buttons=buttons
            )
        except DeliveryError as exc:
            self._metrics.sends.labels(_outcome(exc)).inc()
            if isinstance(exc, RetryLaterError):
                self._metrics.rate_limited.inc()
            raise
        self._metrics.sends.labels("sent").inc()
        return message_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, html: bool, buttons: Any = None
    ) -> None:
        """Edit through the wrapped sender (a story's "Also: …"); counted like a send."""
        try:
            await self._inner.edit(chat_id, message_id, text, html=html, buttons=buttons)
        except DeliveryError as exc:
            self._metrics.sends.labels(_outcome(exc)).inc()
            if isinstance(exc, RetryLaterError):
                self._metrics.rate_limited.inc()
            raise
        self._metrics.sends.labels("edited").inc()


def _outcome(exc: DeliveryError) -> str:
    for kind, name in (
        (RetryLaterError, "rate-limited"),
        (TransientDeliveryError, "transient-error"),
        (UnparsableMessageError, "unparsable"),
        (ChatMigratedError, "chat-migrated"),
        (ChatUnavailableError, "chat-unavailable"),
    ):
        if isinstance(exc, kind):
            return name
    return "rejected"
