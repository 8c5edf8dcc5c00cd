"""parse_feed over real feed files: formats, identities, charsets, bozo feeds and hostile input."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import ParseError
from bot.feeds.parse import parse_feed, read_feed
from bot.feeds.safety import MAX_MARKUP
from bot.models import Item, ParsedFeed
from tests.feeds.build import atom, rss
from tests.feeds.build import item as feed_item
from tests.web.rig import with_hub

FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"
NOW = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
FEED_URL = "https://feeds.example.az/rss"


def parse(name_or_body: str | bytes, **kwargs) -> ParsedFeed:
    body = name_or_body if isinstance(name_or_body, bytes) else (FEEDS / name_or_body).read_bytes()
    kwargs.setdefault("source_id", "src")
    kwargs.setdefault("url", FEED_URL)
    kwargs.setdefault("now", NOW)
    return parse_feed(body, **kwargs)


def all_text(feed: ParsedFeed) -> str:
    return "\n".join(
        [feed.title, feed.warning or ""]
        + [f"{i.title}\n{i.summary}\n{i.url}\n{i.guid}" for i in feed.items]
    )


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    title: str
    url: str
    published: datetime
    language: str | None
    summary: str | None = None  # checked when given


CASES = {
    "rss2.xml": (
        "Regional Wire & Review",
        [
            Expected(
                "Azerbaijan and Iran agree to open the Astara road bridge",
                "https://news.example.az/2025/01/astara-bridge/",
                utc(2025, 1, 6, 10, 30),
                "en",
                "Baku and Tehran signed a protocol on the Astara bridge across the border river.",
            ),
            Expected(
                "Iranian FM Araghchi visits Baku for talks on the Aras corridor",
                "https://feeds.example.az/2025/01/araghchi-baku/",
                utc(2025, 1, 7, 4, 0),
                "en",
                "Iran’s foreign minister met his Azerbaijani counterpart …",
            ),
            Expected(
                "Georgia's parliament passes the annual budget",
                "https://news.example.az/2025/01/georgia-budget/",
                utc(2025, 1, 8, 18, 15),
                "en",
                "Tbilisi lawmakers approved spending for the year",
            ),
            Expected(
                "Футбол: «Карабах» вышел в плей-офф",
                "https://news.example.az/ru/2025/01/qarabag/",
                NOW,  # no date
                "ru",
            ),
            Expected(
                "Weather: snow expected in the Greater Caucasus",
                "https://news.example.az/2025/01/snow/?id=7",
                NOW,  # dated 2031: absurd
                "en",
                "Forecasters warn of heavy snow.",
            ),
        ],
    ),
    "atom.xml": (
        "Agency Example",
        [
            Expected(
                "Azərbaycan və İran arasında yeni gömrük razılaşması imzalanıb",
                "https://agency.example.org/az/news/5501",
                utc(2025, 1, 7, 6, 0),
                "az",
                "Bakı və Tehran Astara keçid məntəqəsində yeni qaydalar barədə razılığa gəliblər.",
            ),
            Expected(
                "سفر وزیر امور خارجه ایران به باکو",
                "https://agency.example.org/fa/news/5502",
                utc(2025, 1, 6, 5, 0),
                "fa",
                "عراقچی در باکو با همتای جمهوری آذربایجان دیدار کرد.",
            ),
            Expected(
                "Markets: oil prices edge up in Asian trade",
                "https://agency.example.org/en/markets/5503",
                utc(2025, 1, 5, 7, 0),
                "en",
            ),
        ],
    ),
    "rdf.xml": (
        "Кавказ Пресс",
        [
            Expected(
                "Алиев и Пезешкиан обсудили азербайджано-иранские отношения",
                "https://ru.example.net/news/301",
                utc(2025, 1, 8, 11, 45),
                "ru",
                "Президенты Азербайджана и Ирана провели телефонный разговор.",
            ),
            Expected(
                "Курс доллара к манату на 8 января",
                "https://ru.example.net/news/302",
                utc(2025, 1, 8, 5, 0),
                "ru",
            ),
            Expected(
                "In English: Baku hosts a chess festival",
                "https://ru.example.net/en/news/303",
                NOW,  # dated 1970: absurd
                "en",
            ),
        ],
    ),
    "timezones.xml": (
        "Zones",
        [
            Expected(
                "Summer time in Baku, 2015",
                "https://zones.example.az/1",
                utc(2015, 7, 6, 7, 0),
                None,
            ),
            Expected("Baku winter time", "https://zones.example.az/2", utc(2025, 1, 6, 8, 0), None),
            Expected(
                "Tehran standard time", "https://zones.example.az/3", utc(2025, 1, 6, 8, 30), None
            ),
            Expected("Named zone AZT", "https://zones.example.az/4", utc(2025, 1, 6, 8, 0), None),
            Expected("Named zone IRST", "https://zones.example.az/5", utc(2025, 1, 6, 8, 30), None),
            Expected("No date at all", "https://zones.example.az/6", NOW, None),
            Expected("Unparseable date", "https://zones.example.az/7", NOW, None),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_feed_files_yield_normalized_items(name):
    feed_title, expected = CASES[name]
    feed = parse(name)
    assert feed.title == feed_title
    assert feed.warning is None
    got = [
        Expected(i.title, i.url, i.published, i.language, i.summary if e.summary else None)
        for i, e in zip(feed.items, expected, strict=False)
    ]
    assert got == expected
    assert len(feed.items) == len(expected)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_item_is_well_formed(name):
    for item in parse(name).items:
        assert isinstance(item, Item)
        assert item.source_id == "src"
        assert item.published.utcoffset() == timedelta(0)
        assert "<" not in item.title
        assert "&amp;" not in item.title + item.summary
        assert "utm_" not in item.url
        assert "#" not in item.url
        assert item.title == item.title.strip()
        assert "  " not in item.title + item.summary


def test_wordpress_footer_and_full_content_are_not_in_the_summary():
    first = parse("rss2.xml").items[0]
    assert "appeared first on" not in first.summary
    assert "Full text" not in first.summary  # the teaser wins over content:encoded


def test_language_falls_back_from_item_to_feed_to_configured_source_language():
    rss = parse("rss2.xml", language="az")
    assert [i.language for i in rss.items] == ["en", "en", "en", "ru", "en"]  # feed says en-US
    zones = parse("timezones.xml", language="az")  # the feed names no language
    assert {i.language for i in zones.items} == {"az"}
    unset = parse("timezones.xml")
    assert {i.language for i in unset.items} == {None}


@pytest.mark.parametrize("name", [*sorted(CASES), "same_guid.xml", "no_guid.xml"])
def test_keys_are_unique_within_a_feed_and_stable_across_polls(name):
    first = parse(name)
    later = parse(name, now=datetime(2025, 6, 1, tzinfo=UTC))
    keys = [i.key for i in first.items]
    assert len(set(keys)) == len(keys)
    assert keys == [i.key for i in later.items]


def test_a_guid_shared_by_every_item_is_not_used_as_identity():
    feed = parse("same_guid.xml")
    assert len(feed.items) == 3
    assert len({i.key for i in feed.items}) == 3
    assert {i.guid for i in feed.items} == {"https://portal.example.az/"}  # still recorded


def test_keys_without_guids_survive_a_new_item_arriving():
    body = (FEEDS / "no_guid.xml").read_bytes()
    before = {i.title: i.key for i in parse(body).items}
    extra = (
        b"<item><title>Breaking: new item</title>"
        b"<link>https://agency.example.az/en/news/3013</link></item>"
    )
    after = {
        i.title: i.key
        for i in parse(
            body.replace(b"<language>en</language>", b"<language>en</language>" + extra)
        ).items
    }
    assert len(after) == len(before) + 1
    assert all(after[title] == key for title, key in before.items())


def test_items_without_guid_or_usable_link_get_distinct_keys_from_their_text():
    feed = parse("no_guid.xml")
    by_title = {i.title: i for i in feed.items}
    digest = by_title["Agency publishes its weekly digest"]  # links to the home page only
    unlinked = by_title["Announcement without a link"]
    assert digest.url == "https://agency.example.az/"
    assert unlinked.url == ""
    assert len({i.key for i in feed.items}) == 4


def test_a_guid_that_is_the_home_page_is_ignored_even_in_a_one_item_feed():
    one = b"""<rss version="2.0"><channel><title>t</title><link>https://one.example/</link>
    <item><title>A</title><link>https://one.example/a</link><guid>https://one.example/</guid></item>
    </channel></rss>"""
    two = one.replace(
        b"<title>A</title><link>https://one.example/a",
        b"<title>B</title><link>https://one.example/b",
    )
    assert parse(one).items[0].key != parse(two).items[0].key


def test_duplicate_items_collapse_to_the_first():
    item = b"<item><title>Same</title><link>https://d.example/1</link><guid>g1</guid></item>"
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        + item
        + item.replace(b"<guid>g1", b"<guid>g2")
        + b"</channel></rss>"
    )
    assert len(parse(body).items) == 2  # different guids: two items
    body = b'<rss version="2.0"><channel><title>t</title>' + item + item + b"</channel></rss>"
    assert [i.title for i in parse(body).items] == ["Same"]


def test_placeholders_with_a_number_for_a_title_and_nothing_else_are_dropped():
    feed = parse("tehran_times_placeholders.xml")
    titles = [i.title for i in feed.items]
    assert titles[0] == "Tehran, Baku discuss North-South corridor"
    assert len(titles) == 2  # pages "4" and "12" dropped
    stand_in = feed.items[1]
    assert stand_in.url == "https://www.tehrantimes.example/news/501007"
    assert stand_in.title.startswith("ARDABIL – A new border market opened")
    assert stand_in.title.endswith("…")
    assert len(stand_in.title) <= 81


def test_undefined_html_entities_leave_a_bozo_feed_that_still_yields_items():
    feed = parse("undefined_entities.xml")
    assert feed.warning
    assert "entity" in feed.warning
    assert [i.title for i in feed.items] == ["“Iran and Azerbaijan” — a new chapter", "Second item"]
    assert feed.items[0].summary == "Officials met in Baku."
    assert feed.items[0].published == utc(2025, 1, 3, 8, 0)


def test_windows_1251_bytes_under_a_utf8_label_are_read_as_cyrillic():
    feed = parse("cp1251_labelled_utf8.xml", content_type="application/rss+xml; charset=utf-8")
    assert feed.title == "Новости Азербайджана"
    assert feed.items[0].title == "Азербайджан и Иран подписали соглашение о мосте через Астару"
    assert feed.items[1].title == "Курс маната — «стабилен», сообщает ЦБ"
    assert feed.items[1].summary == "Ёлки и ёжики: проверка буквы Ё."
    assert "1251" in (feed.warning or "")


def test_a_correct_charset_header_is_honoured_without_repair():
    text = (FEEDS / "cp1251_labelled_utf8.xml").read_text("cp1251")
    body = text.replace('<?xml version="1.0" encoding="utf-8"?>', "").encode("cp1251")
    feed = parse(body, content_type="text/xml; charset=windows-1251")
    assert feed.items[0].title.startswith("Азербайджан и Иран")
    assert "1251 bytes" not in (feed.warning or "")


def test_mojibake_inside_the_feed_is_repaired_and_genuine_text_kept():
    feed = parse("mojibake.xml")
    assert feed.items[0].title == "Azərbaycan və İran Bakıda danışıqlar aparıb"
    assert feed.items[0].summary == "Азербайджан и Тегеран обсудили транзит"
    assert feed.items[1].title == "Genuine Latin text: café, naïve, Zürich"
    assert feed.items[1].summary == "Genuine Russian text: Тегеран и Баку."


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((FEEDS / "html_page.html").read_bytes(), "HTML page"),
        ((FEEDS / "bot_challenge.html").read_bytes(), "HTML page"),
        (b"", "empty"),
        (b" \r\n\t ", "empty"),
        (bytes(range(256)) * 40, "not a feed"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x00" * 64, "not a feed"),
        (b'{"items": [{"title": "json, not a feed"}]}', "not a feed"),
        (b"Just some plain text, no markup at all.", "not a feed"),
    ],
    ids=["html", "bot-challenge", "empty", "blank", "binary", "gzip", "json", "text"],
)
def test_what_is_not_a_feed_is_a_parse_error_with_a_reason(body, reason):
    with pytest.raises(ParseError, match=reason):
        parse(body)


def test_a_path_as_body_is_treated_as_bytes_never_opened():
    # Were the body handed to feedparser as a string, it would open this file and parse it.
    path = str(FEEDS / "rss2.xml").encode()
    with pytest.raises(ParseError):
        parse(path)


def test_a_valid_feed_with_no_items_is_empty_not_an_error():
    feed = parse(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    assert feed == ParsedFeed(title="Quiet", items=(), warning=None)


# Hostile input: bounded time and memory, no file contents, a per-source ParseError at worst.


def bounded(body: bytes, **kwargs) -> ParsedFeed | ParseError:
    """Parse, returning a ParseError rather than raising it; fail if it took long or grew memory."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        result: ParsedFeed | ParseError = parse(body, **kwargs)
    except ParseError as exc:
        result = exc
    assert time.perf_counter() - started < 5.0
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kb < 200_000
    if isinstance(result, ParsedFeed):
        assert len(all_text(result)) < 100_000
    return result


@pytest.mark.parametrize("name", ["billion_laughs.xml", "billion_laughs_behind_comment.xml"])
def test_entity_expansion_bombs_are_not_expanded(name):
    result = bounded((FEEDS / name).read_bytes())
    assert isinstance(result, ParsedFeed)
    assert "lollollol" not in all_text(result)
    assert result.items  # the rest of the feed is still read
    assert "DTD" in (result.warning or "")


def test_one_long_entity_repeated_many_times_is_not_expanded():
    # feedparser deems an entity without '&' safe and, when expat gives up, expands it itself:
    # without our defusing this body needs about 2 GB.
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + b"x" * 100_000 + b'">\n]>\n'
        b'<rss version="2.0"><channel><title>t</title><item><title>'
        + b"&a;" * 20_000
        + b"&nbsp;</title><link>https://q.example/1</link></item></channel></rss>"
    )
    result = bounded(body)
    assert isinstance(result, ParsedFeed)
    assert "xxxxxxxxxx" not in all_text(result)


def test_short_safe_entities_declared_in_the_doctype_still_work():
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY agency "Example Agency">
<!ENTITY nbsp "&#160;">
]>
<rss version="2.0"><channel><title>&agency;</title>
<item><title>By&nbsp;&agency;</title><link>https://e.example/1</link></item></channel></rss>"""
    feed = parse(body)
    assert feed.title == "Example Agency"
    assert feed.items[0].title == "By Example Agency"


def test_external_entities_never_read_local_files():
    result = bounded((FEEDS / "external_entity.xml").read_bytes())
    assert isinstance(result, ParsedFeed)
    text = all_text(result)
    assert "root:" not in text
    hostname = Path("/etc/hostname")
    if hostname.exists() and hostname.read_text().strip():
        assert hostname.read_text().strip() not in text.split()


@pytest.mark.parametrize(
    ("declaration", "target"),
    [
        ('<!DOCTYPE rss [<!ENTITY secret SYSTEM "{uri}">]>', "secret"),
        ('<!DOCTYPE rss [\n<!ENTITY secret SYSTEM "{uri}">\n]>', "secret"),
        ('<!-- <hide> -->\n<!DOCTYPE rss [\n<!ENTITY secret SYSTEM "{uri}">\n]>', "secret"),
        ('<!DOCTYPE rss [\n<!ENTITY secret PUBLIC "-//X//Y" "{uri}">\n]>', "secret"),
        ('<!DOCTYPE rss>\n<!ENTITY secret SYSTEM "{uri}">', "secret"),
        ('<!DOCTYPE rss SYSTEM "{uri}">', "dtd"),
        ('<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "{uri}">\n%p;\n]>', "dtd"),
    ],
    ids=[
        "entity-one-line",
        "entity",
        "entity-behind-comment",
        "entity-public",
        "entity-outside-doctype",
        "external-dtd",
        "parameter-entity",
    ],
)
def test_no_doctype_trick_pulls_a_local_file_into_the_output(tmp_path, declaration, target):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-7f3a")
    dtd = tmp_path / "evil.dtd"  # an external DTD that would define &secret;
    dtd.write_text(f'<!ENTITY secret SYSTEM "{secret.as_uri()}">')
    uri = (secret if target == "secret" else dtd).as_uri()
    body = (
        '<?xml version="1.0"?>\n'
        + declaration.format(uri=uri)
        + '\n<rss version="2.0"><channel><title>T &secret;</title>'
        + "<item><title>Item &secret;</title><link>https://x.example/1</link>"
        + "<description>&secret;</description></item></channel></rss>"
    ).encode()
    result = bounded(body)
    assert "TOPSECRET" not in (all_text(result) if isinstance(result, ParsedFeed) else str(result))


def test_a_doctype_quoted_inside_an_item_is_left_alone():
    body = b"""<rss version="2.0"><channel><title>t</title><item><title>HTML in CDATA</title>
    <link>https://c.example/1</link>
    <description><![CDATA[<p>Show the markup: &lt;!DOCTYPE html&gt; is the first line.</p>]]>
    </description>
    </item></channel></rss>"""
    feed = parse(body)
    assert feed.items[0].summary == "Show the markup: is the first line."
    assert feed.warning is None


def test_a_utf16_feed_is_defused_too():
    body = (
        '<?xml version="1.0" encoding="utf-16"?>\n<!-- <a> -->\n<!DOCTYPE rss [\n<!ENTITY a "'
        + "x" * 50_000
        + '">\n]>\n<rss version="2.0"><channel><title>Wide</title><item><title>'
        + "&a;" * 5_000
        + "</title><link>https://w.example/1</link></item></channel></rss>"
    ).encode("utf-16")
    result = bounded(body)
    assert isinstance(result, ParsedFeed)
    assert result.title == "Wide"
    assert "xxxxxxxxxx" not in all_text(result)


def test_deeply_nested_markup_parses_in_bounded_time():
    depth = 5_000
    body = (
        '<rss version="2.0"><channel><title>Deep</title><item><title>Nested</title>'
        "<link>https://n.example/1</link><description><![CDATA["
        + "<div>" * depth
        + "core text"
        + "</div>" * depth
        + "]]></description></item></channel></rss>"
    ).encode()
    result = bounded(body)
    assert isinstance(result, ParsedFeed)
    assert result.items[0].summary == "core text"


@pytest.mark.parametrize(
    "payload",
    [
        "<div>" * MAX_MARKUP + "</div>" * MAX_MARKUP,  # nested elements
        "&lt;div&gt;" * (MAX_MARKUP + 1),  # escaped markup the sanitizer would parse
        "<x>" * (MAX_MARKUP + 1),  # unclosed feed-level elements
    ],
    ids=["nested", "escaped", "unclosed"],
)
def test_markup_past_the_cap_is_refused_quickly(payload):
    body = (
        '<rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
        + payload
        + "</description></item></channel></rss>"
    ).encode()
    started = time.perf_counter()
    with pytest.raises(ParseError, match="too much markup"):
        parse(body)
    assert time.perf_counter() - started < 0.5


def test_an_oversized_body_is_refused():
    body = b'<rss version="2.0"><channel><title>' + b"x" * 2_000 + b"</title></channel></rss>"
    with pytest.raises(ParseError, match="too large"):
        parse(body, max_bytes=1_000)
    assert parse(body, max_bytes=10_000).title == "x" * 2_000


@pytest.mark.parametrize("name", sorted(p.name for p in FEEDS.iterdir() if p.is_file()))
def test_keyed_entries_give_the_same_items_and_skip_the_known_ones(name: str) -> None:
    body = (FEEDS / name).read_bytes()
    kwargs = {"source_id": "src", "url": FEED_URL}
    if name.endswith(".html"):  # pages, not feeds
        with pytest.raises(ParseError):
            read_feed(body, **kwargs)
        return
    whole = parse_feed(body, now=NOW, **kwargs)
    keyed = read_feed(body, **kwargs)
    assert keyed.keys == tuple(i.key for i in whole.items)
    assert tuple(keyed.items(now=NOW)) == whole.items
    known = set(keyed.keys[::2])
    rest = keyed.items(now=NOW, skip=known)
    assert rest == [i for i in whole.items if i.key not in known]


# --- WebSub hub discovery ---------------------------------------------------------------------------


HUB_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_an_rss_feed_names_its_hub_and_self_url():
    body = with_hub(
        rss([feed_item(1)]), "https://pubsubhubbub.appspot.com/", "https://outlet.az/feed/"
    )
    feed = parse_feed(body, source_id="s", url="https://outlet.az/feed", now=HUB_NOW)
    assert feed.hub == "https://pubsubhubbub.appspot.com/"
    assert feed.self_url == "https://outlet.az/feed/"


def test_an_atom_feed_names_its_hub():
    body = atom([feed_item(1)]).replace(
        b"<title>", b'<link rel="hub" href="https://websub.example/hub"/><title>', 1
    )
    feed = parse_feed(body, source_id="s", url="https://outlet.az/atom", now=HUB_NOW)
    assert feed.hub == "https://websub.example/hub"


def test_a_feed_without_a_hub_or_with_a_non_http_one_has_none():
    assert (
        parse_feed(rss([feed_item(1)]), source_id="s", url="https://o.az/f", now=HUB_NOW).hub
        is None
    )
    body = with_hub(rss([feed_item(1)]), "javascript:alert(1)", "https://o.az/f")
    assert parse_feed(body, source_id="s", url="https://o.az/f", now=HUB_NOW).hub is None
