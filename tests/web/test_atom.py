"""bot.web.atom: pure rendering of a topic's Atom feed of stories, read back by feedparser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import feedparser
import pytest

from bot.models import Item, StoredItem, Story, TermHit, TopicMatch
from bot.web.atom import entries_from_stories, entry_id, etag, feed_id, render_atom

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
MATCH = TopicMatch("azerbaijan-iran", (TermHit("iran", "Iran*", "title", "Iran"),))
OUTLETS = {"apa": "APA English", "trend": "Trend News Agency", "irna": "IRNA English"}


def stored(
    n: int,
    *,
    source: str = "apa",
    minutes: int | None = None,
    title: str = "",
    summary: str = "",
    review_summary: str | None = None,
    url: str = "",
    outlet: str = "",
) -> StoredItem:
    published = T0 + timedelta(minutes=n if minutes is None else minutes)
    return StoredItem(
        id=n,
        item=Item(
            source_id=source,
            key=f"key-{n}",
            url=url or f"https://{source}.example/news/{n}",
            title=title or f"Item {n}",
            summary=summary,
            published=published,
        ),
        source_name=outlet or OUTLETS[source],
        first_seen=published + timedelta(seconds=30),
        matches=(MATCH,),
        review_summary=review_summary,
    )


def story(*reports: StoredItem, founder: int | None = None) -> Story:
    """A story as the store reads it: reports earliest first; its id is its founding report's."""
    ordered = tuple(sorted(reports, key=lambda r: (r.item.published, r.id)))
    return Story(id=founder if founder is not None else ordered[0].id, reports=ordered)


def render(stories: list[Story]) -> bytes:
    return render_atom(
        topic_id="azerbaijan-iran",
        title="Azerbaijan–Iran relations",
        entries=entries_from_stories(stories),
        self_url="http://127.0.0.1:8080/topics/azerbaijan-iran.atom",
        home_url="http://127.0.0.1:8080/",
    )


def related(entry) -> list[tuple[str, str]]:
    return [(link.href, link.title) for link in entry.links if link.rel == "related"]


def test_one_entry_per_story_with_every_outlet_as_author_and_a_related_link():
    call = story(
        stored(1, summary="Two presidents spoke."),
        stored(2, source="trend", minutes=40),
        stored(3, source="apa", minutes=50),  # a second APA report: APA is still one outlet
    )
    single = story(stored(5, source="irna", minutes=20))
    parsed = feedparser.parse(render([call, single]))
    assert not parsed.bozo
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Azerbaijan–Iran relations"
    assert parsed.feed.id == feed_id("azerbaijan-iran")
    assert parsed.feed.updated == "2026-11-27T10:50:00Z"  # the newest report of all
    assert len(parsed.entries) == 2
    first = parsed.entries[0]
    assert first.title == "Item 1"
    assert first.link == "https://apa.example/news/1"  # rel="alternate": the first report
    assert related(first) == [("https://trend.example/news/2", "Trend News Agency")]
    assert [a.name for a in first.authors] == ["APA English", "Trend News Agency"]
    assert first.id == entry_id("apa", "key-1")
    assert first.summary == "Two presidents spoke."
    assert first.published == "2026-11-27T10:01:00Z"  # the first report's time
    assert first.updated == "2026-11-27T10:50:00Z"  # the newest report's time
    second = parsed.entries[1]
    assert [a.name for a in second.authors] == ["IRNA English"]
    assert related(second) == []
    assert second.published == second.updated == "2026-11-27T10:20:00Z"
    assert "summary" not in second  # no empty summary element


def test_the_entry_keeps_its_id_and_shows_the_update_when_another_outlet_joins():
    alone = render([story(stored(1))])
    joined = render([story(stored(1), stored(2, source="trend", minutes=90))])
    before, after = feedparser.parse(alone).entries[0], feedparser.parse(joined).entries[0]
    assert after.id == before.id == entry_id("apa", "key-1")
    assert before.updated == "2026-11-27T10:01:00Z"
    assert after.updated == "2026-11-27T11:30:00Z"
    assert [a.name for a in after.authors] == ["APA English", "Trend News Agency"]
    assert etag(alone) != etag(joined)  # a conditional GET sees the change


def test_a_late_report_with_an_earlier_time_takes_the_title_but_not_the_id():
    # APA's report (item 7) started the story; IRNA's, stored later, says it was published earlier.
    founder = stored(7, minutes=30, title="APA: presidents spoke")
    earlier = stored(8, source="irna", minutes=10, title="IRNA: presidents spoke")
    entry = feedparser.parse(render([story(founder, earlier, founder=7)])).entries[0]
    assert entry.id == entry_id("apa", "key-7")
    assert entry.title == "IRNA: presidents spoke"
    assert entry.link == "https://irna.example/news/8"
    assert [a.name for a in entry.authors] == ["IRNA English", "APA English"]
    assert related(entry) == [("https://apa.example/news/7", "APA English")]


def test_without_its_founding_report_the_first_report_gives_the_id():
    # The report that started the story matched another topic: it is not among those read.
    entry = feedparser.parse(render([story(stored(4), founder=3)])).entries[0]
    assert entry.id == entry_id("apa", "key-4")


@pytest.mark.parametrize(
    ("review_summary", "shown"),
    [("Aliyev and Pezeshkian spoke by phone.", "Aliyev and Pezeshkian spoke by phone."),
     (None, "The feed's teaser."), ("", "The feed's teaser.")],
)  # fmt: skip
def test_the_summary_is_the_first_reports_review_summary_else_its_feed_summary(
    review_summary: str | None, shown: str
):
    first = stored(1, summary="The feed's teaser.", review_summary=review_summary)
    later = stored(2, source="trend", summary="Trend's teaser.", review_summary="Trend's review.")
    entry = feedparser.parse(render([story(first, later)])).entries[0]
    assert entry.summary == shown


@pytest.mark.parametrize(
    "text",
    [
        'Baku & Tehran: "tariffs" < 5% > 1',
        "<script>alert(1)</script>",
        "]]> CDATA end and &amp; an entity",
        "Ceyhun Bayramov: İran ilə Azərbaycan · Пезешкиан · پزشکیان",
    ],
)
def test_text_is_escaped_and_comes_back_exactly(text: str):
    body = render(
        [story(stored(1, title=text, summary=text), stored(2, source="trend", outlet=text))]
    )
    ET.fromstring(body)  # noqa: S314  (our own output: it must be well-formed XML)
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    entry = parsed.entries[0]
    assert entry.title == text
    assert entry.summary == text
    assert entry.authors[1].name == text
    assert related(entry) == [("https://trend.example/news/2", text)]


def test_characters_xml_cannot_carry_are_dropped_rather_than_breaking_the_feed():
    body = render([story(stored(1, title="bell\x07 and nul\x00 gone"))])
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries[0].title == "bell and nul gone"


def test_links_with_quotes_and_ampersands_are_escaped_as_attributes():
    url = 'https://example.com/a?b=1&c="2"'
    other = 'https://example.com/b?x=<1>&y="3"'
    parsed = feedparser.parse(
        render([story(stored(1, url=url), stored(2, source="trend", url=other))])
    )
    assert not parsed.bozo
    assert parsed.entries[0].link == url
    assert related(parsed.entries[0]) == [(other, "Trend News Agency")]


def test_ids_are_stable_and_distinct():
    assert entry_id("apa", "k") == entry_id("apa", "k")
    assert entry_id("apa", "k") != entry_id("apa", "k2")
    assert entry_id("apa", "k") != entry_id("trend", "k")
    assert entry_id("apa", "k").startswith("urn:uuid:")


def test_an_empty_topic_is_a_valid_feed_with_a_fixed_updated_time():
    body = render([])
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries == []
    assert etag(body) == etag(render([]))  # same content, same tag


def test_the_etag_changes_with_the_content():
    assert etag(render([story(stored(1))])) != etag(render([story(stored(2)), story(stored(1))]))
