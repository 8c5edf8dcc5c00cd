"""Tests for bot.text.formatting and bot.text.markup: trim, clean, Telegram HTML, plain, console."""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from bot.models import Item, StoredItem, TermHit, TopicMatch
from bot.text.formatting import (
    clean,
    format_console,
    format_plain,
    format_telegram,
    format_time,
    trim,
    utf16_len,
    visible_text,
)
from bot.text.markup import TELEGRAM_TEXT_LIMIT, safe_href
from tests.emulator.html import HtmlParseError, parse_html

BAKU = ZoneInfo("Asia/Baku")
TOPICS = {"azerbaijan-iran": "Azerbaijan–Iran relations"}
WHEN = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)  # 14:05 in Baku

# Telegram HTML is checked with the Bot API emulator's parser (tests/telegram_html.py, a port of
# tdlib's parse_html, strict about bare '&'), plus what *our* messages may contain: bold and
# http(s) text links only, and the visible text our `visible_text` predicts.


def assert_valid_telegram_html(markup: str) -> None:
    text, entities = parse_html(markup)
    assert text == visible_text(markup)
    for entity in entities:
        assert entity["type"] in ("bold", "text_link"), entity
        if entity["type"] == "text_link":
            assert urlsplit(entity["url"]).scheme.lower() in ("http", "https"), entity


@pytest.mark.parametrize(
    "bad",
    [
        "<script>x</script>",
        "<b>x",
        "a & b",
        "x</b>",
        "<b><i>x</b></i>",
        '<a href="javascript:x">y</a>',
    ],
)
def test_validator_rejects_what_telegram_rejects(bad: str) -> None:
    with pytest.raises((HtmlParseError, AssertionError)):
        assert_valid_telegram_html(bad)


# ---------------------------------------------------------------------------------------------


def make(
    *,
    title: str = "Iranian president to visit Baku",
    summary: str = "",
    url: str = "https://caliber.az/en/post/iranian-president-to-visit-baku",
    source_name: str = "Caliber.Az",
    published: datetime = WHEN,
    matches: tuple[TopicMatch, ...] | None = None,
) -> StoredItem:
    if matches is None:
        matches = (
            TopicMatch(
                "azerbaijan-iran",
                (
                    TermHit("azerbaijan", "Baku", "title", "Baku"),
                    TermHit("iran", "Iran*", "title", "Iranian"),
                    TermHit("iran", "Iran*", "summary", "Iran"),
                ),
            ),
        )
    item = Item(
        source_id="caliber",
        key="k1",
        url=url,
        title=title,
        summary=summary,
        published=published,
    )
    return StoredItem(id=1, item=item, source_name=source_name, first_seen=WHEN, matches=matches)


def telegram(stored: StoredItem, **kw: object) -> str:
    out = format_telegram(stored, topic_names=TOPICS, tz=BAKU, **kw)  # type: ignore[arg-type]
    assert_valid_telegram_html(out)
    assert utf16_len(visible_text(out)) <= TELEGRAM_TEXT_LIMIT
    return out


# --- utf16_len, visible_text, clean -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("Baku", 4),
        ("Бакы", 4),
        ("ایران", 5),
        ("😀", 2),
        ("👨‍👩‍👧", 8),
        ("🇦🇿🇮🇷", 8),
        ("e\u0301", 2),
    ],
)
def test_utf16_len_counts_code_units(text: str, units: int) -> None:
    assert utf16_len(text) == units


def test_visible_text_strips_tags_and_decodes_entities() -> None:
    markup = (
        '<b><a href="https://x.y/?a&amp;b">A &lt;b&gt; &amp; &quot;q&quot; &#x27;s&#x27;</a></b>\nz'
    )
    assert visible_text(markup) == "A <b> & \"q\" 's'\nz"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("two\nlines\r\nand\ttab", "two lines and tab"),
        ("  padded   out  ", "padded out"),
        ("red \x1b[31mALERT\x1b[0m text", "red ALERT text"),
        ("title\x1b]0;pwned\x07 bar", "title bar"),
        ("bell\x07 nul\x00 del\x7f c1\x85x\x9b2J", "bell nul del c1 x"),
        ("\u202eevil\u202c \u2066iso\u2069", "evil iso"),
        ("line\u2028sep\u2029para", "line sep para"),
        ("می\u200cخواهد \u200fرسمی", "می\u200cخواهد \u200fرسمی"),  # ZWNJ and RLM belong to the text
        ("lone \ud83d surrogate", "lone \ufffd surrogate"),
    ],
)
def test_clean_removes_controls_and_collapses_whitespace(raw: str, expected: str) -> None:
    assert clean(raw) == expected


# --- trim ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),  # exact limit: unchanged
        ("exactly ten!", 11, "exactly…"),
        ("", 5, ""),
        ("anything", 0, ""),
        ("anything", 1, "…"),
        ("ab", 1, "…"),
        # a sentence end within range is preferred and keeps its punctuation
        ("First sentence here. Second one is long.", 30, "First sentence here."),
        ("Is it war? Nobody knows yet at all.", 20, "Is it war?"),
        ('He said "stop." Then left the room.', 25, 'He said "stop."'),
        # a sentence end too early to be worth it: word boundary instead
        ("Hi. This is a rather long second sentence.", 30, "Hi. This is a rather long…"),
        # "Mr." and initials are not sentence ends
        ("Talks with Mr. Aliyev went on for hours today", 25, "Talks with Mr. Aliyev…"),
        ("Report by J. Smith and others on the talks", 20, "Report by J. Smith…"),
        # word boundary, trailing punctuation dropped before the ellipsis
        ("Baku, Tehran, Ankara, Moscow", 16, "Baku, Tehran…"),
        ("one two three four five", 12, "one two…"),
        # no spaces at all: hard cut
        ("a" * 50, 10, "a" * 9 + "…"),
        ("azərbaycanlılaşdıramadıqlarımızdanmışsınızcasına", 12, "azərbaycanl…"),
        # limit smaller than the first word: hard cut, not an empty string
        ("Internationalisation matters", 6, "Inter…"),
        ("A Internationalisation", 10, "A Interna…"),  # boundary too early: hard cut loses less
        # Cyrillic
        (
            "Президент Ирана посетит Баку. Визит пройдёт в понедельник.",
            35,
            "Президент Ирана посетит Баку.",
        ),
        ("Президент Ирана посетит Баку в понедельник", 20, "Президент Ирана…"),
        # Persian: ؟ ends a sentence, ZWNJ is not a space
        (
            "آیا رئیس‌جمهور ایران به باکو می‌رود؟ هنوز معلوم نیست.",
            40,
            "آیا رئیس‌جمهور ایران به باکو می‌رود؟",
        ),
        ("رئیس‌جمهور ایران به باکو سفر می‌کند", 20, "رئیس‌جمهور ایران به…"),
        ("رئیس‌جمهور", 6, "رئیس…"),  # hard cut lands after a ZWNJ: it is dropped too
    ],
)
def test_trim_cuts_at_sentence_then_word_then_hard(text: str, limit: int, expected: str) -> None:
    out = trim(text, limit)
    assert out == expected
    assert len(out) <= max(limit, 0)


@pytest.mark.parametrize(
    "text",
    [
        "👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧",
        "🇦🇿🇮🇷🇦🇿🇮🇷🇦🇿🇮🇷",
        "👍🏽👍🏽👍🏽👍🏽👍🏽",
        "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301",
        "کِتابِ مُسَلَّمِ",
        "❤️❤️❤️❤️❤️",
    ],
)
def test_trim_hard_cut_never_splits_a_grapheme(text: str) -> None:
    for limit in range(2, len(text)):
        head = trim(text, limit).removesuffix("…")
        assert text.startswith(head)
        rest = text[len(head) :]
        assert rest, "a cut was expected"
        first = rest[0]
        assert unicodedata.category(first) not in ("Mn", "Mc", "Me")
        assert first not in "\u200d\ufe0f"
        assert not 0x1F3FB <= ord(first) <= 0x1F3FF
        assert not head.endswith("\u200d")
        flags = len(head) - len(head.rstrip("".join(chr(c) for c in range(0x1F1E6, 0x1F200))))
        assert flags % 2 == 0, f"a flag was split at limit {limit}"


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox. Jumps over the lazy dog! And then? Nothing at all, really.",
        "Президент Азербайджана Ильхам Алиев принял министра иностранных дел Ирана.",
        "وزیر امور خارجه ایران با همتای آذربایجانی خود در باکو دیدار کرد.",
        "nospacesatallinthisverylongstringofletters",
        "😀 😀😀 😀😀😀 😀😀😀😀",
    ],
)
def test_trim_result_is_a_prefix_within_the_limit_for_every_limit(text: str) -> None:
    for limit in range(len(text) + 2):
        out = trim(text, limit)
        assert len(out) <= limit
        assert text.startswith(out.removesuffix("…"))
        if limit >= len(text):
            assert out == text


# --- format_telegram ----------------------------------------------------------------------------


def test_telegram_message_layout() -> None:
    stored = make(summary="President Pezeshkian will arrive in Baku on Monday for talks.")
    assert telegram(stored) == (
        '<b><a href="https://caliber.az/en/post/iranian-president-to-visit-baku">'
        "Iranian president to visit Baku</a></b>\n"
        "Caliber.Az · 27 Nov 2026, 14:05 +04\n"
        "\n"
        "President Pezeshkian will arrive in Baku on Monday for talks.\n"
        "\n"
        "Topic: Azerbaijan–Iran relations #azerbaijan_iran"
    )


def test_telegram_message_without_summary_or_topics_has_only_title_and_meta() -> None:
    out = telegram(make(matches=()))
    assert out.endswith("</a></b>\nCaliber.Az · 27 Nov 2026, 14:05 +04")


def test_summary_that_repeats_the_title_is_left_out() -> None:
    out = telegram(make(summary="  Iranian president to VISIT Baku "))
    assert visible_text(out).count("Iranian president") == 1


def test_several_topics_are_listed_with_names_and_hashtags() -> None:
    matches = (TopicMatch("azerbaijan-iran", ()), TopicMatch("south caucasus/2", ()))
    out = telegram(make(matches=matches))
    assert out.endswith(
        "Topics: Azerbaijan–Iran relations, south caucasus/2 #azerbaijan_iran #south_caucasus_2"
    )


@pytest.mark.parametrize(
    "title",
    [
        "<script>alert(1)</script>",
        "<b>unbalanced bold",
        "closing </a></b> tags",
        "Tom & Jerry &amp; friends &lt;3 &nbsp;",
        "\"double\" and 'single' quotes",
        '<a href="javascript:alert(1)">click</a>',
        "1 < 2 > 0 <<>> &&",
        "&#x3C;script&#x3E; &#60;",
        "<i><b>nested</i></b> <tg-spoiler>x</tg-spoiler>",
    ],
)
def test_hostile_title_gives_valid_html_showing_the_title_verbatim(title: str) -> None:
    out = telegram(make(title=title, summary=f"Summary with {title} inside."))
    shown = visible_text(out)
    assert shown.startswith(title + "\n")
    assert f"Summary with {title} inside." in shown


@pytest.mark.parametrize(
    "url",
    [
        "https://x.az/?a=1&b=2",
        'https://x.az/"><script>alert(1)</script>',
        "https://x.az/it's",
        "http://x.az/path?q=<b>",
        "HTTPS://X.AZ/UPPER",
    ],
)
def test_http_links_are_kept_with_the_href_escaped(url: str) -> None:
    out = telegram(make(url=url))
    href = re.match(r'<b><a href="([^"]*)">', out)
    assert href, out
    assert html.unescape(href.group(1)) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "tg://resolve?domain=x",
        "file:///etc/passwd",
        "/relative/path",
        "//scheme-relative.example/x",
        "https://",
        "http://[::1",
        "https://x.az/a b",
        "https://x.az/\x1b[31m",
        "",
    ],
)
def test_other_links_are_dropped_and_the_title_shown_unlinked(url: str) -> None:
    out = telegram(make(url=url))
    assert "<a" not in out
    assert out.startswith("<b>Iranian president to visit Baku</b>\n")
    assert safe_href(url) is None


def test_summary_is_trimmed_at_a_sentence_boundary() -> None:
    summary = (
        "Pezeshkian arrives on Monday. " + "He will discuss trade and transit at length. " * 10
    )
    out = telegram(make(summary=summary), summary_limit=80)
    assert "\nPezeshkian arrives on Monday. He will discuss trade and transit at length.\n" in out


def test_summary_trim_never_cuts_an_escape() -> None:
    summary = "&&&&& <<<<< >>>>> " * 20
    for limit in range(5, 60):
        out = telegram(make(summary=summary), summary_limit=limit)
        lines = visible_text(out).split("\n")
        assert len(lines[3]) <= limit
        assert lines[3].removesuffix("…") in summary


def test_summary_newlines_and_controls_are_collapsed() -> None:
    out = telegram(make(summary="Line one.\n\nLine\ttwo\x1b[2J.\r\n"))
    assert "\nLine one. Line two.\n" in out
    assert "\x1b" not in out


@pytest.mark.parametrize(
    ("tz", "shown"),
    [
        ("Asia/Baku", "27 Nov 2026, 14:05 +04"),
        ("Asia/Tehran", "27 Nov 2026, 13:35 +03:30"),
        ("UTC", "27 Nov 2026, 10:05 UTC"),
        ("America/St_Johns", "27 Nov 2026, 06:35 -03:30"),
        ("Pacific/Kiritimati", "28 Nov 2026, 00:05 +14"),
    ],
)
def test_publication_time_is_shown_in_the_given_timezone(tz: str, shown: str) -> None:
    out = format_telegram(make(), topic_names=TOPICS, tz=ZoneInfo(tz))
    assert f"Caliber.Az · {shown}\n" in out


def test_naive_publication_time_is_read_as_utc() -> None:
    assert format_time(datetime(2026, 1, 3, 20, 0), BAKU) == "4 Jan 2026, 00:00 +04"  # noqa: DTZ001


PERSIAN = "رئیس‌جمهور ایران برای گفتگو درباره کریدور زنگزور به باکو سفر می‌کند. "
RUSSIAN = "Президент Ирана посетит Баку для переговоров по Зангезурскому коридору. "
EMOJI = "🇦🇿🇮🇷 👨‍👩‍👧 😀 "
MIXED = PERSIAN + RUSSIAN + EMOJI + "Iran & Azerbaijan <talks>. "


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (PERSIAN * 100, ""),
        (EMOJI * 500, ""),
        ("😀" * 5000, "😀" * 5000),
        (MIXED * 60, MIXED * 60),
        ("short title", MIXED * 60),
        ("<&>" * 3000, "<&>" * 3000),
        ("x" * 4096, ""),
        ("x" * 4000, "y" * 4000),
    ],
    ids=[
        "persian",
        "emoji",
        "astral",
        "mixed",
        "long-summary",
        "escapes",
        "ascii-4096",
        "ascii-both",
    ],
)
def test_long_multilingual_message_stays_within_telegram_limit(title: str, summary: str) -> None:
    for render in (format_telegram, format_plain):
        out = render(
            make(title=title, summary=summary), topic_names=TOPICS, tz=BAKU, summary_limit=10_000
        )
        shown = visible_text(out) if render is format_telegram else out
        assert utf16_len(shown) <= TELEGRAM_TEXT_LIMIT
        assert "Caliber.Az · 27 Nov 2026, 14:05 +04" in shown
        assert "#azerbaijan_iran" in shown
        head = shown.split("\n", 1)[0].removesuffix("…")
        assert len(head) >= min(len(clean(title)), 1000)
        assert clean(title).startswith(head)
    assert_valid_telegram_html(
        format_telegram(make(title=title, summary=summary), topic_names=TOPICS, tz=BAKU)
    )


def test_length_limit_is_exact_around_the_boundary() -> None:
    # Sweep the title length across the limit with astral characters, so an off-by-one in
    # UTF-16 accounting or a split surrogate pair would show.
    base = utf16_len(visible_text(telegram(make(title="", summary="")))) - len("(untitled)")
    fitted = 0
    for extra in range(-6, 8):
        budget = TELEGRAM_TEXT_LIMIT - base + extra
        title = "😀" * (budget // 2) + "a" * (budget % 2)
        out = telegram(make(title=title))
        shown = visible_text(out)
        if extra <= 0:
            assert shown.startswith(title + "\n")
            fitted += 1
        else:
            assert shown.split("\n", 1)[0].endswith("…")
        assert utf16_len(shown) <= TELEGRAM_TEXT_LIMIT
    assert fitted == 7


def test_summary_is_shortened_before_the_title() -> None:
    title = "t" * 3000
    out = telegram(make(title=title, summary="word " * 1000), summary_limit=5000)
    shown = visible_text(out)
    assert shown.startswith(title + "\n")
    summary = shown.split("\n\n")[1]
    assert summary.endswith("…")
    assert TELEGRAM_TEXT_LIMIT - 6 <= utf16_len(shown) <= TELEGRAM_TEXT_LIMIT  # trimmed, not gutted


def test_summary_squeezed_too_far_is_dropped() -> None:
    title = "t" * 4000
    out = telegram(make(title=title, summary="Some summary that cannot fit. " * 10))
    assert "summary" not in out
    assert visible_text(out).startswith(title + "\n")


# --- format_plain -------------------------------------------------------------------------------


def test_plain_message_is_the_same_text_with_the_link_last() -> None:
    stored = make(title="A & <b>B</b>", summary="Talks went well. More later.")
    assert format_plain(stored, topic_names=TOPICS, tz=BAKU) == (
        "A & <b>B</b>\n"
        "Caliber.Az · 27 Nov 2026, 14:05 +04\n"
        "\n"
        "Talks went well. More later.\n"
        "\n"
        "Topic: Azerbaijan–Iran relations #azerbaijan_iran\n"
        "https://caliber.az/en/post/iranian-president-to-visit-baku"
    )


def test_plain_message_leaves_out_unsafe_and_huge_links() -> None:
    for url in ("javascript:alert(1)", "https://x.az/" + "a" * 2000):
        out = format_plain(make(url=url), topic_names=TOPICS, tz=BAKU)
        assert out.endswith("#azerbaijan_iran")


def test_plain_message_matches_the_visible_html() -> None:
    stored = make(title='Iran & Azerbaijan <sign> "deal"', summary="A deal. " * 80)
    html_out = visible_text(format_telegram(stored, topic_names=TOPICS, tz=BAKU))
    plain = format_plain(stored, topic_names=TOPICS, tz=BAKU)
    assert plain.startswith(html_out + "\n")


# --- format_console -----------------------------------------------------------------------------


def test_console_block_shows_source_time_title_link_and_terms() -> None:
    assert format_console(make(), topic_names=TOPICS, tz=BAKU) == (
        "── Caliber.Az · 2026-11-27 14:05 +04 ──\n"
        "Iranian president to visit Baku\n"
        "https://caliber.az/en/post/iranian-president-to-visit-baku\n"
        "azerbaijan-iran: azerbaijan=[Baku], iran=[Iran*]"
    )


def test_console_block_lists_every_topic_and_group() -> None:
    matches = (
        TopicMatch(
            "azerbaijan-iran",
            (
                TermHit("azerbaijan", "Azərbaycan*", "title", "Azərbaycanın"),
                TermHit("iran", "İran*", "summary", "İranla"),
                TermHit("azerbaijan", "Baku", "summary", "Baku"),
                TermHit("azerbaijan", "Azərbaycan*", "summary", "Azərbaycan"),
            ),
        ),
        TopicMatch("energy", ()),
    )
    out = format_console(make(matches=matches), topic_names=TOPICS, tz=ZoneInfo("UTC"))
    assert out.splitlines()[0] == "── Caliber.Az · 2026-11-27 10:05 UTC ──"
    assert out.splitlines()[3:] == [
        "azerbaijan-iran: azerbaijan=[Azərbaycan*, Baku], iran=[İran*]",
        "energy",
    ]


def test_console_block_has_no_control_characters() -> None:
    hostile = "\x1b[2J\x1b]0;owned\x07Title\rover\x08\x08written\x00\x9b1m\u202eevil\u202c\nnext"
    matches = (TopicMatch("t\x1b[1m", (TermHit("g\x07", "term\x1b[0m", "title", "x"),)),)
    stored = make(
        title=hostile, url="https://x.az/\x1b[31m", source_name="Src\x1b[5m\n", matches=matches
    )
    out = format_console(stored, topic_names=TOPICS, tz=BAKU)
    for ch in out:
        assert ch == "\n" or unicodedata.category(ch) != "Cc", repr(ch)
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    lines = out.split("\n")
    assert len(lines) == 4
    assert lines[1] == "Title overwrittenevil next"
    assert lines[0] == "── Src · 2026-11-27 14:05 +04 ──"
    assert lines[3] == "t: g=[term]"


def test_console_block_without_title_or_link() -> None:
    out = format_console(make(title=" \x1b[0m ", url="", matches=()), topic_names=TOPICS, tz=BAKU)
    assert out.split("\n") == ["── Caliber.Az · 2026-11-27 14:05 +04 ──", "(untitled)"]


# --- The review summary in delivered messages -------------------------------------------------------


T = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def stored(review: str | None, teaser: str = "Feed teaser <i>here</i>.") -> StoredItem:
    item = Item("s", "k", "https://example.com/a", "Baku & Tehran talk", teaser, T)
    match = TopicMatch("az-ir", (TermHit("az", "Baku", "title", "Baku"),))
    return StoredItem(1, item, "Outlet", T, (match,), review_summary=review)


def test_the_review_summary_replaces_the_teaser_and_is_escaped() -> None:
    review = "Baku <b>and</b> Tehran agreed & signed. Iran's envoy spoke."
    html = format_telegram(stored(review), topic_names={"az-ir": "Az–Ir"}, tz=ZoneInfo("UTC"))
    assert "Baku &lt;b&gt;and&lt;/b&gt; Tehran agreed &amp; signed. Iran's envoy spoke." in html
    assert "teaser" not in html
    assert "teaser" not in format_plain(stored(review), topic_names={}, tz=ZoneInfo("UTC"))


def test_a_review_summary_longer_than_the_teaser_limit_is_kept_whole() -> None:
    review = "Baku spoke. " * 40  # 480 characters, as BOT_SUMMARY_CHARS=500 allows
    html = format_telegram(stored(review.strip()), topic_names={}, tz=ZoneInfo("UTC"))
    assert review.strip() in html


def test_without_a_review_summary_the_teaser_is_shown() -> None:
    html = format_telegram(stored(None), topic_names={}, tz=ZoneInfo("UTC"))
    assert "Feed teaser &lt;i&gt;here&lt;/i&gt;." in html


def test_console_shows_the_review_summary_line_cleaned() -> None:
    out = format_console(
        stored("Baku \x1b[31mred\x1b[0m spoke."), topic_names={}, tz=ZoneInfo("UTC")
    )
    lines = out.splitlines()
    assert lines[3] == "Baku red spoke."
    assert "\x1b" not in out
    assert "Baku red spoke." not in format_console(stored(None), topic_names={}, tz=ZoneInfo("UTC"))
