"""Per-source polling on APScheduler 3 (`AsyncIOScheduler`).

Each enabled source has one job whose trigger is the next poll the pipeline worked out (interval with
jitter after a success, capped backoff after a failure), so a source never runs twice at once and a
failing one is polled less often. `sync` applies source edits while the bot runs: a new source is
polled at once, a disabled or removed one stops, a changed interval applies from the next run.

Several processes on one database (`claims` given): every process keeps a job per source, and
APScheduler stays each one's clock, but a job polls only after claiming the source in the database
(`bot.storage.leases.SourceClaims`; this process's side is `PollClaims`), where its state lives,
so one process polls it per interval.
A process that loses the claim reschedules the job at the source's stored next poll, or at the end
of the live claim (when the holder might die first): a dead process's sources are taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.errors import StoreError
from bot.models import Source, SourceState
from bot.polling.decide import SourceReport
from bot.polling.pipeline import Pipeline
from bot.storage.leases import SourceClaims
from bot.storage.outage import OutageReporter

log = logging.getLogger(__name__)

# Overdue sources start spread over up to STARTUP_SPREAD seconds (SPREAD_PER_SOURCE each), so that
# start-up is not one burst, and a small list still starts at once.
STARTUP_SPREAD = 15.0
SPREAD_PER_SOURCE = 0.1
# A job that reschedules itself for "now" can fire before its own run has ended; APScheduler then
# skips it (max_instances=1) and drops the one-shot trigger, and the source is never polled
# again. So a run reschedules its job only after it has ended (call_soon), and never for now.
RELEASE_TIMEOUT = 2.0  # seconds for handing back claims at a stop
RESCHEDULE_GAP = timedelta(seconds=1)

ReportHook = Callable[[Source, SourceReport], Awaitable[None]]


class SourceScheduler:
    """Owns the APScheduler instance and the set of polled sources."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        claims: SourceClaims | None = None,
        holder: str = "",
        claim_ttl: float = 120.0,
        max_running: int | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._claims = PollClaims(claims, holder, ttl=claim_ttl, clock=clock)
        # Polls at once. A claim is taken only once a poll may start: a source claimed and then
        # queued behind the fetch limit would outlive its claim, and another process would poll
        # it too.
        self._slots = asyncio.Semaphore(max_running) if max_running else None
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (spreading start-up, not security)
        self._on_report: tuple[ReportHook, ...] = ()  # given at `start`, in order
        # A database outage is told once, reminded each minute, and its end told: not a
        # traceback per source per poll.
        self._outage = OutageReporter("poll runs", log)
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._sources: dict[str, Source] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._polling: set[str] = set()  # sources whose poll is running now
        # Polls asked for (a push, /poll, a shorter interval) while the source was polling: its
        # job is gone until the run reschedules it, and the rescheduling takes the earliest.
        self._sooner: dict[str, datetime] = {}

    @property
    def sources(self) -> Mapping[str, Source]:
        """The sources being polled, by id."""
        return dict(self._sources)

    def start(
        self,
        sources: Iterable[Source],
        states: Mapping[str, SourceState],
        *,
        on_report: Sequence[ReportHook] = (),
    ) -> None:
        """Schedule each enabled source at its stored next poll (overdue ones spread over seconds).

        `on_report` are called in order with every poll's report. They come here, not to the
        constructor, because their parts (the web's health, metrics, WebSub) need the scheduler.
        """
        self._on_report = tuple(on_report)
        self._scheduler.start()
        for source, when in first_polls(sources, states, self._clock(), self._rng):
            self._sources[source.id] = source
            self._schedule(source.id, when)

    def sync(self, sources: Iterable[Source]) -> None:
        """Apply a new source list: add new ones (polled at once), drop removed or disabled ones."""
        wanted = {s.id: s for s in sources if s.enabled}
        for source_id in set(self._sources) - set(wanted):
            del self._sources[source_id]
            if self._scheduler.get_job(source_id):
                self._scheduler.remove_job(source_id)
            log.info("source=%s no longer polled", source_id)
        now = self._clock()
        for source_id, source in wanted.items():
            old = self._sources.get(source_id)
            self._sources[source_id] = source
            if old is None:
                log.info("source=%s scheduled now", source_id)
                self._schedule(source_id, now)
            elif old.url != source.url:
                log.info("source=%s scheduled now", source_id)
                self._plan(source_id, now)
            elif source.interval < old.interval:
                # A shorter interval applies now, not after the longer wait already planned.
                planned = self.next_poll(source_id)
                sooner = now + timedelta(seconds=source.interval)
                if planned is None or sooner < planned:
                    self._plan(source_id, sooner)

    @property
    def running(self) -> bool:
        """Whether the scheduler has been started and not shut down."""
        return bool(self._scheduler.running)

    def poll_now(self, source_id: str) -> None:
        """Move a source's next poll to now (right after the current one, if it is polling)."""
        if source_id in self._polling or source_id in self._sources:
            self._plan(source_id, self._clock())

    def next_poll(self, source_id: str) -> datetime | None:
        """When the source is next polled, or None when it is not scheduled."""
        job = self._scheduler.get_job(source_id)
        return job.next_run_time if job else None

    async def shutdown(self, grace: float) -> None:
        """Stop scheduling; give runs in flight `grace` seconds to finish, then cancel them.

        A cancelled run has not committed (the store writes one transaction per run), so it is simply
        redone after the restart.
        """
        if self._scheduler.running:
            # Paused first, shut down after the grace: APScheduler's shutdown cancels the runs
            # in flight at once, which left no grace at all (and a cancelled write behind).
            self._scheduler.pause()
        if self._running:
            _done, pending = await asyncio.wait(self._running, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self._claims.release()

    def _plan(self, source_id: str, when: datetime) -> None:
        """Poll the source at `when`, ahead of its plan (claimed in the database with the new time)."""
        if source_id in self._polling:
            # A job added now would be skipped (max_instances) and then overwritten by the
            # run's own rescheduling: leave the time for that rescheduling to take.
            self._sooner[source_id] = min(when, self._sooner.get(source_id, when))
            self._claims.pull(source_id, self._sooner[source_id])
        else:
            self._schedule(source_id, when, pull=True)

    def _schedule(self, source_id: str, when: datetime, *, pull: bool = False) -> None:
        if pull:
            self._claims.pull(source_id, when)
        self._scheduler.add_job(
            self._run,
            trigger=DateTrigger(run_date=when, timezone=UTC),
            args=[source_id],
            id=source_id,
            name=f"poll {source_id}",
            replace_existing=True,
        )

    async def _run(self, source_id: str) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 (APScheduler runs coroutine jobs as tasks)
        self._running.add(task)
        self._polling.add(source_id)
        source = self._sources.get(source_id)
        next_poll: datetime | None = None
        try:
            if source is None:
                return
            async with self._slots or contextlib.nullcontext():
                next_poll = await self._poll(source)
            self._outage.succeeded()
        except asyncio.CancelledError:
            # Only shutdown cancels a poll. Nothing half-stored: its transaction never committed,
            # so it is simply redone after the restart. Ending quietly keeps APScheduler from
            # logging the cancellation as a crash.
            log.info("source=%s poll interrupted by shutdown; redone at the next start", source_id)
            return
        except StoreError as exc:
            # Expected while the database is away: the poll is simply done again later.
            self._outage.failed(exc)
            next_poll = self._clock() + timedelta(seconds=source.interval if source else 60)
        except Exception:
            # The one broad catch: a bug in one run must not end the source's polling for good.
            log.exception("source=%s run crashed", source_id)
            next_poll = self._clock() + timedelta(seconds=source.interval if source else 60)
        finally:
            self._running.discard(task)
        if next_poll is None:
            self._polling.discard(source_id)
            self._sooner.pop(source_id, None)
            return
        # Queued before APScheduler's own callback that counts this run as ended, and run after
        # it: whatever the loop's lag, the new run never meets this one. Until then the source
        # still counts as polling, so that a poll asked for meanwhile is not overwritten.
        asyncio.get_running_loop().call_soon(self._reschedule, source_id, next_poll)

    def _reschedule(self, source_id: str, next_poll: datetime) -> None:
        self._polling.discard(source_id)
        sooner = self._sooner.pop(source_id, None)
        if sooner is not None:
            next_poll = min(next_poll, sooner)  # asked for while this one ran
        when = max(next_poll, self._clock() + RESCHEDULE_GAP)
        if source_id in self._sources and self._scheduler.running:
            self._schedule(source_id, when)

    async def _poll(self, source: Source) -> datetime:
        """Claim (with several processes) and poll the source; when to run its job next."""
        mine, state = await self._claims.take(source.id)
        if not mine:
            # Another process polls it now, or already did: look again when that is over.
            return await self._claims.next_look(source.id)
        report = await self._pipeline.run_source(source, state=state)
        for hook in self._on_report:
            await hook(source, report)
        return report.next_poll


def first_polls(
    sources: Iterable[Source], states: Mapping[str, SourceState], now: datetime, rng: random.Random
) -> list[tuple[Source, datetime]]:
    """When each enabled source is first polled: its stored next poll, or, when it has none or
    it is overdue, a moment in the next few seconds (so that start-up is not one burst)."""
    sources = list(sources)
    spread = min(STARTUP_SPREAD, SPREAD_PER_SOURCE * len(sources))
    first = []
    for source in sources:
        if not source.enabled:
            continue
        stored = states.get(source.id)
        when = stored.next_poll if stored and stored.next_poll else None
        if when is None or when <= now:
            when = now + timedelta(seconds=rng.uniform(0, spread))
        first.append((source, when))
    return first


class PollClaims:
    """This process's side of the sources' claims in the database (see the module docstring);
    with no `claims` this process polls every source itself and nothing is claimed."""

    def __init__(
        self,
        claims: SourceClaims | None,
        holder: str,
        *,
        ttl: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._claims = claims
        self._holder, self._ttl = holder, ttl
        self._clock = clock
        self._pull: dict[str, datetime] = {}  # sources to make due in the database before a run

    def pull(self, source_id: str, when: datetime) -> None:
        """The source was asked for at `when`: make it due in the database before its run."""
        self._pull[source_id] = when

    async def take(self, source_id: str) -> tuple[bool, SourceState | None]:
        """Whether this process may poll the source now, and its state as claimed (None when
        nothing is claimed)."""
        if self._claims is None:
            return True, None
        pull = self._pull.pop(source_id, None)
        if pull is not None:  # asked for sooner: make it due in the database first
            await self._claims.pull_forward(source_id, pull)
        now = self._clock()
        state = await self._claims.claim(source_id, self._holder, now=now, ttl=self._ttl)
        return state is not None, state

    async def next_look(self, source_id: str) -> datetime:
        """When to look again at a source another process holds (needs claims)."""
        assert self._claims is not None  # noqa: S101 (only after `take` said no)
        return await self._claims.next_look(source_id, now=self._clock())

    async def release(self) -> None:
        """Hand back the sources whose polls were cut short, so another process takes them now
        rather than when the claims expire; bounded, since they expire anyway."""
        if self._claims is None:
            return
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                await self._claims.release(self._holder)
        except (StoreError, TimeoutError) as exc:
            log.warning(
                "could not release source claims (they expire by themselves): %s",
                exc or "timed out",
            )
