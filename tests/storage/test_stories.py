"""bot.storage.stories on SQLite and PostgreSQL: stories assigned as items are stored, read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.review.stories import Grouper, Rules
from bot.storage.access import DbAccess
from bot.storage.items import Store
from bot.storage.stories import StoryStore

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=48)
SOURCES = [
    Source("apa", "APA", "https://apa.az/rss", 300.0),
    Source("irna", "IRNA", "https://irna.ir/rss", 300.0),
    Source("trend", "Trend", "https://trend.az/rss", 300.0),
]
AZ_IR = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran*", "title", "Iran"),))
ENERGY = TopicMatch("energy", (TermHit("gas", "gas", "title", "gas"),))
CALL = {
    "apa": (
        "Ilham Aliyev and Masoud Pezeshkian hold phone conversation",
        "President Ilham Aliyev had a phone conversation with Iranian President Masoud "
        "Pezeshkian. They discussed the Aras corridor and the Aghband bridge.",
    ),
    "irna": (
        "Pezeshkian, Aliyev discuss Aras corridor in phone call",
        "Iran's President Masoud Pezeshkian spoke by phone with Azerbaijan's Ilham Aliyev, "
        "discussing the Aras transit corridor and the Aghband bridge.",
    ),
    "trend": (
        "Azerbaijani, Iranian presidents talk Aras corridor, Aghband bridge by phone",
        "In a telephone conversation, Ilham Aliyev and Masoud Pezeshkian reviewed the Aras "
        "corridor and the road bridge at Aghband.",
    ),
}
GAS = (
    "Mustafayev, Paknejad discuss gas swap via Iran",
    "Shahin Mustafayev met Iranian Oil Minister Mohsen Paknejad on the Turkmen gas swap.",
)


def report(source: str, key: str, text: tuple[str, str], minutes: int, *matches: TopicMatch):
    item = Item(
        source_id=source,
        key=key,
        url=f"https://{source}.example/{key}",
        title=text[0],
        summary=text[1],
        published=T0 + timedelta(minutes=minutes),
        language="en",
    )
    return MatchedItem(item, matches or (AZ_IR,))


def stores(engine: AsyncEngine) -> tuple[Store, StoryStore]:
    db = DbAccess(engine)
    stories = StoryStore(db, Grouper(Rules(window=WINDOW)), window=WINDOW)
    return Store(db, on_matched=[stories.assign]), stories


async def save(store: Store, source: str, entries, *, announce: bool = True) -> None:
    await store.save_fetch(
        source,
        items=entries,
        validators=Validators(),
        now=T0 + timedelta(hours=1),
        next_poll=T0 + timedelta(hours=2),
        announce=announce,
    )


async def test_reports_from_two_outlets_are_one_story_with_both(db_engine: AsyncEngine) -> None:
    store, stories = stores(db_engine)
    await store.sync_sources(SOURCES, now=T0)
    # First sight (not announced) still gets its story.
    await save(
        store,
        "apa",
        [report("apa", "a1", CALL["apa"], 0), report("apa", "a2", GAS, 5)],
        announce=False,
    )
    await save(store, "irna", [report("irna", "i1", CALL["irna"], 30)])
    found = await stories.stories()
    assert [len(s.reports) for s in found] == [2, 1]  # newest report first: the call (09:30)
    call = found[0]
    assert [r.source_name for r in call.outlets] == ["APA", "IRNA"]
    assert call.first.item.key == "a1"
    assert call.id == call.first.id


async def test_another_process_groups_against_stored_stories(db_engine: AsyncEngine) -> None:
    store, _stories = stores(db_engine)
    await store.sync_sources(SOURCES, now=T0)
    await save(store, "apa", [report("apa", "a1", CALL["apa"], 0)])
    # A second process (or a restart): a fresh grouper, fed from the database on first use.
    other_store, other = stores(db_engine)
    await save(other_store, "trend", [report("trend", "t1", CALL["trend"], 60)])
    found = await other.stories()
    assert len(found) == 1
    assert [r.source_name for r in found[0].outlets] == ["APA", "Trend"]


async def test_stories_filter_by_topic_time_and_limit(db_engine: AsyncEngine) -> None:
    store, stories = stores(db_engine)
    await store.sync_sources(SOURCES, now=T0)
    await save(
        store, "apa", [report("apa", "a1", CALL["apa"], 0), report("apa", "g", GAS, 10, ENERGY)]
    )
    await save(store, "irna", [report("irna", "i1", CALL["irna"], 30)])
    assert [s.first.item.key for s in await stories.stories(topics=["energy"])] == ["g"]
    assert await stories.stories(topics=[]) == []
    assert [s.first.item.key for s in await stories.stories(limit=1)] == ["a1"]
    # A story counts when a report falls in the period; it comes with all its reports.
    late = await stories.stories(since=T0 + timedelta(minutes=20))
    assert [len(s.reports) for s in late] == [2]
    early = await stories.stories(until=T0 + timedelta(minutes=20))
    assert sorted(s.first.item.key for s in early) == ["a1", "g"]
