"""A small multilingual archive for the search tests: items in English, Russian, Azerbaijani and
Persian, stored through the real `Store` with the search index and (optionally) other hooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.storage.items import SavedHook, Store
from bot.storage.search_index import SearchIndex
from bot.topics.folding import normalize

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SOURCES = [
    Source(id="apa-en", name="APA (English)", url="https://apa.test/en", interval=600),
    Source(id="tass", name="TASS", url="https://tass.test/rss", interval=600),
    Source(id="report-az", name="Report.az", url="https://report.test/az", interval=600),
    Source(id="irna", name="IRNA", url="https://irna.test/fa", interval=600),
]
TOPIC = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran", "title", "Iran"),))

# (source, key, hours before NOW, title, summary, language, flagged)
ROWS = [
    ("apa-en", "en1", 1, "Astara bridge over the border river opens",
     "The new road bridge links Astara with its Iranian twin town.", "en", True),
    ("apa-en", "en2", 5, "Drone debris found near Lankaran",
     "Pieces of two drones were found in fields, officials said.", "en", False),
    ("apa-en", "en3", 30, "Bridges and roads: the corridor in numbers",
     "Three new bridges are planned on the North–South corridor.", "en", False),
    ("tass", "ru1", 2, "Мост через пограничную реку Астара открыт",
     "Движение по мосту началось в понедельник.", "ru", True),
    ("tass", "ru2", 8, "Иранские власти усилили контроль на границе",
     "На границе с Азербайджаном выставлены новые посты.", "ru", True),
    ("tass", "ru3", 50, "Обломки дронов нашли у границы",
     "Обломки двух беспилотников обнаружены в поле.", "ru", False),
    ("report-az", "az1", 3, "Astara körpüsünün tikintisi başa çatıb",
     "Körpü İran ilə sərhəddə yerləşir.", "az", False),
    ("report-az", "az2", 9, "Bakıda İran səfiri ilə görüş",
     "BAKI: görüşdə sərhəd məsələləri müzakirə edilib.", "az", True),
    ("irna", "fa1", 4, "پل‌های مرزی آستارا افتتاح شد",
     "این پل دو شهر را به هم متصل می‌کند.", "fa", True),
    ("irna", "fa2", 12, "سفیر ايران در باکو",
     "ديدار سفير با مقامات آذربايجان.", "fa", False),
]  # fmt: skip


def matched(row: tuple[str, str, int, str, str, str, bool]) -> MatchedItem:
    source, key, hours, title, summary, lang, flagged = row
    item = Item(
        source_id=source,
        key=key,
        url=f"https://{source}.test/news/{key}",
        title=title,
        summary=summary,
        published=NOW - timedelta(hours=hours),
        language=lang,
    )
    return MatchedItem(item, (TOPIC,) if flagged else ())


def search_store(db: object, extra: Sequence[SavedHook] = (), **kwargs: object) -> Store:
    """A Store whose saves also write the search index (and run `extra` hooks)."""
    dialect = db.dialect.name  # type: ignore[attr-defined]
    return Store(db, on_saved=[SearchIndex(dialect, normalize), *extra], **kwargs)  # type: ignore[arg-type]


async def fill(
    store: Store, rows: Sequence[tuple] = ROWS, *, announce: bool = True
) -> dict[str, int]:
    """Store the rows (one fetch per source); item ids by key."""
    await store.sync_sources(SOURCES, now=NOW)
    for source in SOURCES:
        batch = [matched(r) for r in rows if r[0] == source.id]
        if batch:
            await store.save_fetch(
                source.id,
                items=batch,
                validators=Validators(),
                now=NOW,
                next_poll=NOW + timedelta(minutes=10),
                announce=announce,
            )
    return {}
