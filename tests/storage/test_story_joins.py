"""The console says when a report joins a story another outlet started (`StoryJoins` on a real
store, `ConsoleMessenger` writing to a text stream), as Telegram edits the story's message
instead of posting a second one. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.messengers.console import ConsoleMessenger
from bot.models import Validators
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.items import Store
from bot.storage.stories import StoryStore
from bot.storage.story_joins import StoryJoins
from tests.storage.test_stories import CALL, GAS, SOURCES, T0, report

WINDOW = timedelta(hours=48)


async def test_a_second_outlets_report_says_it_joins_the_story(db_engine: AsyncEngine):
    db = DbAccess(db_engine)
    stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
    store = Store(db, on_matched=[stories.assign])
    await store.sync_sources(SOURCES, now=T0)
    out = io.StringIO()
    console = ConsoleMessenger(
        out, tz=ZoneInfo("Asia/Baku"), topic_names={}, joined=StoryJoins(db).first_reports
    )
    for source, entries in (
        ("apa", [report("apa", "a1", CALL["apa"], 0), report("apa", "g", GAS, 3)]),
        ("irna", [report("irna", "i1", CALL["irna"], 30)]),
    ):
        saved = await store.save_fetch(
            source, items=entries, validators=Validators(), now=T0 + timedelta(hours=1),
            next_poll=T0 + timedelta(hours=2), announce=True,
        )  # fmt: skip
        await console.announce(saved.flagged)
    blocks = out.getvalue().strip().split("\n\n")
    joins = [b for b in blocks if b.startswith("↳ joins the story")]
    assert len(joins) == 1
    assert joins[0].splitlines()[0] == (
        f"↳ joins the story first reported by APA: {CALL['apa'][0]}"
    )
    assert CALL["irna"][0] in joins[0]
    # The stories' first reports print as news of their own.
    assert sum(1 for b in blocks if "↳" not in b) == 2
