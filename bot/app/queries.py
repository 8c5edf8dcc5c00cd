"""The database reads the command line needs: `latest` and `digest`'s stories.

Each opens the database (`bot.storage.engine.open_engine`: migrated, disposed of on exit) and reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.config import Config, Settings
from bot.models import Story, Topic
from bot.review.lexicon import Lexicon
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.engine import open_engine
from bot.storage.stories import StoryStore


def story_store(db: DbAccess, settings: Settings, topics: Iterable[Topic] = ()) -> StoryStore:
    """Stories grouped with the bot's rules (window from BOT_STORY_WINDOW), the event lexicon
    knowing the gazetteer entities of `topics`."""
    window = timedelta(seconds=settings.story_window)
    grouper = Grouper(Rules(window=window), Lexicon.for_topics(topics))
    return StoryStore(db, grouper, window=window)


async def latest(config: Config, *, n: int, topic: str | None) -> list[Story]:
    """The newest stories (each once, with its outlets), newest first."""
    async with open_engine(config.settings.database_url) as engine:
        stories = story_store(DbAccess(engine), config.settings)
        return await stories.stories(limit=n, topics=[topic] if topic else None)


async def review_stories(
    config: Config, *, topic: str, since: datetime, until: datetime
) -> list[Story]:
    """Stories of `topic` with a report published in [since, until), for the review."""
    async with open_engine(config.settings.database_url) as engine:
        stories = story_store(DbAccess(engine), config.settings)
        return await stories.stories(since=since, until=until, topics=[topic])
