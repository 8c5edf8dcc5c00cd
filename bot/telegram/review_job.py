"""The daily review: sent at BOT_DIGEST_TIME (BOT_TIMEZONE) by an APScheduler cron job, or on /digest.

`ReviewJob.send_due` is the cron job: for every active chat in "digest" or "both" mode, per
topic the chat follows, the stories with a report in the last 24 h are rendered
(`bot.review.digest`), most-covered first, in as many messages as needed; then the chat's row
for the local day is claimed together with those messages, in one transaction
(`ReviewOutbox.claim_and_enqueue`, one row per chat and day, unique in the database). The
messages then go like every other message: `bot.telegram.review_sender.ReviewSender`, on the
leader, claims, paces, retries and marks them. So the review goes out once per chat and day
whatever the number of processes, restarts or outages: a crash after the claim leaves the
messages waiting in the database, not lost. A topic without stories sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.models import StoredItem
from bot.review.digest import feed_summary, review_messages
from bot.storage.chats import ChatStore
from bot.storage.review_outbox import ReviewOutbox
from bot.storage.stories import StoryStore

log = logging.getLogger(__name__)

PERIOD = timedelta(hours=24)


class ReviewJob:
    """Builds and queues reviews; `start(hour, minute)` schedules the daily run."""

    def __init__(
        self,
        chats: ChatStore,
        stories: StoryStore,
        outbox: ReviewOutbox,
        *,
        topic_names: Callable[[], Mapping[str, str]],
        tz: tzinfo,
        clock: Callable[[], datetime],
        summarize: Callable[[StoredItem], str] = feed_summary,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self._chats = chats
        self._stories = stories
        self._outbox = outbox
        self._wake = wake  # the review sender, when it runs in this process
        self._topic_names = topic_names
        self._tz = tz
        self._clock = clock
        self._summarize = summarize
        self._scheduler: AsyncIOScheduler | None = None

    def trigger(self, hour: int, minute: int) -> CronTrigger:
        """Every day at hour:minute in the bot's time zone."""
        return CronTrigger(hour=hour, minute=minute, timezone=self._tz)

    def start(self, hour: int, minute: int) -> None:
        """Run `send_due` every day at hour:minute (BOT_TIMEZONE)."""
        self._scheduler = AsyncIOScheduler(
            timezone=self._tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self._scheduler.add_job(self._run, self.trigger(hour, minute), id="daily-review")
        self._scheduler.start()

    async def shutdown(self) -> None:
        """Stop the cron job (a run in flight is cancelled with the loop's other tasks)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def _run(self) -> None:
        try:
            queued = await self.send_due()
            log.info("daily review: queued for %d chat(s)", queued)
        except Exception:  # the one broad catch of a job: tomorrow's run must still happen
            log.exception("daily review failed")

    async def send_due(self) -> int:
        """Queue today's review for every chat that wants it and has not had it; how many chats
        got one (with at least one message)."""
        now = self._clock()
        day = now.astimezone(self._tz).date()
        queued = 0
        for chat in await self._chats.chats():
            if chat.mode not in ("digest", "both") or not chat.topics:
                continue
            messages = await self.messages(chat.topics, now)
            if not await self._outbox.claim_and_enqueue(
                chat.chat_id, day.isoformat(), messages, thread_id=chat.thread_id, now=now
            ):
                continue  # another process, or this one before a restart, has it
            if messages:
                queued += 1
        if queued and self._wake is not None:
            self._wake()
        return queued

    async def messages(self, topics: Sequence[str], now: datetime) -> list[str]:
        """The review of the 24 h before `now`, per topic, as Telegram HTML messages."""
        names = self._topic_names()
        day = now.astimezone(self._tz).date()
        out: list[str] = []
        for topic in topics:
            stories = await self._stories.stories(since=now - PERIOD, until=now, topics=[topic])
            out += review_messages(
                stories,
                topic_name=names.get(topic, topic),
                day=day,
                fmt="html",
                summarize=self._summarize,
            )
        return out
