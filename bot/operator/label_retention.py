"""`BOT_KEEP_LABELS_DAYS`: labels last changed longer ago than that are removed, once a day.

Labels are not removed with their items (they keep their own copy of the text); by default they
are kept for ever, and only this setting cleans them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.errors import StoreError
from bot.storage.labels import LabelStore

log = logging.getLogger(__name__)


async def keep_labels(
    labels: LabelStore,
    days: int,
    clock: Callable[[], datetime],
    *,
    first_delay: float = 600.0,
    period: float = 86400.0,
) -> None:
    """Remove labels older than `days`, `first_delay` seconds from now and then every `period`,
    until cancelled; a failed pass is logged and tried again at the next."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            removed = await labels.prune(clock() - timedelta(days=days))
            if removed:
                log.info("removed %d label(s) older than %d days", removed, days)
        except StoreError as exc:
            log.warning("removing old labels failed (tried again in %.0fs): %s", period, exc)
        await asyncio.sleep(period)
