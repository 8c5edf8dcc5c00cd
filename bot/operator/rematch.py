"""`/rematch`: run one topic's current rules over the items stored in the last hours.

New terms apply to the items fetched after the edit; an operator who wants them applied to the
recent past asks for it. In order:

1. read the items published in the last `hours` (with the topics they already matched);
2. match the ones not yet flagged for the topic with its live rules, in a worker thread (pure);
3. store the new matches in one transaction; with `announce`, the same transaction enqueues them
   for the chats that follow the topic (the outbox hook), and the delivery worker is woken.

Without `announce` the matches are only stored: they show in /latest, nobody is messaged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.models import StoredItem, Topic
from bot.storage.ops import OpsStore
from bot.topics.matcher import Matcher, compile_topics

log = logging.getLogger(__name__)

DEFAULT_HOURS = 24.0
MAX_HOURS = 24.0 * 30  # a month: more is a re-import, not a rematch


@dataclass(frozen=True, slots=True)
class RematchResult:
    """What a rematch did."""

    topic_id: str
    hours: float
    scanned: int  # stored items in the window
    already: int  # of them already flagged for the topic
    matched: tuple[StoredItem, ...]  # newly flagged, each with just this topic's match
    announced: bool


def new_matches(matcher: Matcher, topic_id: str, items: Sequence[StoredItem]) -> list[StoredItem]:
    """Items not yet flagged for `topic_id` that its rules match now, each with that match only."""
    found = []
    for stored in items:
        if topic_id in stored.topics:
            continue
        item = stored.item
        for match in matcher.match(item.title, item.summary, item.language):
            if match.topic_id == topic_id:
                found.append(
                    StoredItem(
                        id=stored.id,
                        item=item,
                        source_name=stored.source_name,
                        first_seen=stored.first_seen,
                        matches=(match,),
                    )
                )
    return found


async def rematch(
    ops: OpsStore,
    topic: Topic,
    *,
    hours: float,
    now: datetime,
    announce: bool,
    wake: Callable[[], None] | None = None,
) -> RematchResult:
    """Flag the items of the last `hours` that `topic` matches now; enqueue them if `announce`."""
    if not 0 < hours <= MAX_HOURS:
        raise ValueError(f"hours must be more than 0 and at most {MAX_HOURS:g}")
    items = await ops.recent(now - timedelta(hours=hours))
    matcher = compile_topics([topic])
    found = await asyncio.to_thread(new_matches, matcher, topic.id, items)
    added = await ops.add_matches(found, now=now, announce=announce) if found else []
    if announce and added and wake is not None:
        wake()
    log.info(
        "rematch topic=%s hours=%g scanned=%d new=%d announce=%s",
        topic.id,
        hours,
        len(items),
        len(added),
        announce,
    )
    return RematchResult(
        topic_id=topic.id,
        hours=hours,
        scanned=len(items),
        already=sum(1 for s in items if topic.id in s.topics),
        matched=tuple(added),
        announced=announce and bool(added),
    )
