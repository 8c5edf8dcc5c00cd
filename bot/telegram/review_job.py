"""The daily review: sent at BOT_DIGEST_TIME (BOT_TIMEZONE) by an APScheduler cron job, or on /digest.

`ReviewJob.send_due` is the cron job: for every active chat in "digest" or "both" mode it first
claims the chat's row for the local day (`ReviewClaims.claim_review`, one row per chat and day,
unique in the database), so the review goes out at most once per chat and day whatever the
number of processes or restarts; then, per topic the chat follows, the stories with a report in
the last 24 h are rendered (`bot.review.digest`) and sent, most-covered first, in as many
messages as needed. A topic without stories sends nothing. Known limit: the messages are sent
right after the claim, not through the outbox, so a crash between the two loses that day's
review for the chat (at most once, never twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.errors import DeliveryError, RetryLaterError, StoreError
from bot.models import StoredItem
from bot.review.digest import feed_summary, review_messages
from bot.storage.chats import Chat, ChatStore
from bot.storage.review_claims import ReviewClaims
from bot.storage.stories import StoryStore
from bot.telegram.delivery import Sender

log = logging.getLogger(__name__)

PERIOD = timedelta(hours=24)
_RETRIES = 3  # flood-control waits per message before the rest of a chat's review is given up


class ReviewJob:
    """Builds and sends reviews; `start(hour, minute)` schedules the daily run."""

    def __init__(
        self,
        chats: ChatStore,
        stories: StoryStore,
        sender: Sender,
        *,
        claims: ReviewClaims,
        topic_names: Callable[[], Mapping[str, str]],
        tz: tzinfo,
        clock: Callable[[], datetime],
        summarize: Callable[[StoredItem], str] = feed_summary,
    ) -> None:
        self._chats = chats
        self._claims = claims
        self._stories = stories
        self._sender = sender
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
            sent = await self.send_due()
            log.info("daily review: sent to %d chat(s)", sent)
        except Exception:  # the one broad catch of a job: tomorrow's run must still happen
            log.exception("daily review failed")

    async def send_due(self) -> int:
        """Today's review to every chat that wants it and has not had it; chats served."""
        now = self._clock()
        day = now.astimezone(self._tz).date()
        served = 0
        for chat in await self._chats.chats():
            if chat.mode not in ("digest", "both") or not chat.topics:
                continue
            messages = await self.messages(chat.topics, now)
            if not await self._claims.claim_review(
                chat.chat_id, day.isoformat(), stories=len(messages), now=now
            ):
                continue  # another process, or this one before a restart, has it
            if messages and await self._send(chat, messages):
                served += 1
        return served

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

    async def _send(self, chat: Chat, messages: Sequence[str]) -> bool:
        for text in messages:
            for attempt in range(_RETRIES + 1):
                try:
                    await self._sender.send(chat.chat_id, text, html=True, thread_id=chat.thread_id)
                    break
                except RetryLaterError as exc:
                    if attempt == _RETRIES:
                        log.warning("daily review: chat %d: %s; giving up", chat.chat_id, exc)
                        return False
                    await asyncio.sleep(exc.retry_after)
                except (DeliveryError, StoreError) as exc:
                    log.warning("daily review: chat %d not served: %s", chat.chat_id, exc)
                    return False
        return True
