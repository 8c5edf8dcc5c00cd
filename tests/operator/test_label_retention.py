"""bot.operator.label_retention: `BOT_KEEP_LABELS_DAYS` removes old labels and nothing else."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.operator.label_retention import keep_labels
from bot.storage.labels import LabelStore, NewLabel, Vote

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def labelled(ref: str, days_old: int) -> NewLabel:
    vote = Vote("telegram:1", True, NOW - timedelta(days=days_old), 1, None, 1)
    return NewLabel(ref, ref, "", "en", "APA", None, None, (), (vote,), True)


async def test_labels_older_than_the_setting_go_and_the_rest_stay(db_engine: AsyncEngine) -> None:
    labels = LabelStore(db_engine)
    await labels.add([labelled("old", 40), labelled("recent", 5)], now=NOW)
    task = asyncio.create_task(keep_labels(labels, 30, lambda: NOW, first_delay=0, period=3600))
    try:
        async with asyncio.timeout(5):
            # The pass runs on its own schedule; bounded by the timeout.
            while len(await labels.labelled()) != 1:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert [i.ref for i in await labels.labelled()] == ["recent"]
