"""Pure normalization helpers: text, boilerplate, mojibake, URLs, identities, times, languages."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.feeds.normalize import (
    EARLIEST,
    KEY_LENGTH,
    MAX_FUTURE_SKEW,
    canonical_url,
    fix_mojibake,
    item_key,
    language_code,
    names_regional_zone,
    parse_date_text,
    plain_text,
    strip_boilerplate,
    to_utc,
    usable_identities,
)

NOW = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
SIX_TEN_THIRTY = datetime(2025, 1, 6, 10, 30, tzinfo=UTC)
LATEST = NOW + MAX_FUTURE_SKEW - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Baku &amp; Tehran</p>", "Baku & Tehran"),
        ("<p>One</p><p>Two</p>", "One Two"),
        ("line<br/>break", "line break"),
        ("Ir<b>an</b>ian", "Iranian"),
        ("&amp;nbsp;double&amp;amp;encoded", "double&encoded"),
        ("&lt;b&gt;escaped markup&lt;/b&gt;", "escaped markup"),
        ("&amp;lt;i&amp;gt;escaped twice&amp;lt;/i&amp;gt;", "escaped twice"),
        ("&ldquo;quoted&rdquo; &mdash; dash &#8230; &#x2019;", "“quoted” — dash … ’"),
        ("  spaced \n\t out\u00a0text  ", "spaced out text"),
        ("before<script>alert('x')</script>after", "before after"),
        ("a<STYLE type='text/css'>p {}</style>b", "a b"),
        ("x<!-- a comment -->y", "x y"),
        ("soft\u00adhy\u200bphen", "softhyphen"),
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian zero-width non-joiner kept
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        ("", ""),
    ],
)
def test_plain_text_strips_tags_decodes_entities_and_collapses_space(markup, expected):
    assert plain_text(markup) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>" * 20_000 + "a" * 100_000,
        "<p" * 60_000,
        "<!--" * 60_000,
        "&amp;" * 60_000,
        "<div>" * 50_000 + "</div>" * 50_000,
    ],
)
def test_plain_text_is_linear_on_hostile_markup(hostile):
    started = time.perf_counter()
    plain_text(hostile)
    strip_boilerplate(hostile)
    fix_mojibake(hostile)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Baku and Tehran signed. The post Azerbaijan and Iran agree appeared first on "
            "The Times of Israel.",
            "Baku and Tehran signed.",
        ),
        ("Talks went well […]", "Talks went well"),
        ("Talks went well (...)", "Talks went well"),
        ("Talks went well … Continue reading →", "Talks went well …"),
        ("Talks went well. Read more", "Talks went well."),
        ("Переговоры прошли успешно. Читать далее", "Переговоры прошли успешно."),
        ("Danışıqlar keçirilib. Davamını oxu", "Danışıqlar keçirilib."),
        ("Text […] The post X appeared first on Y.", "Text"),
        ("The post-war order appeared stable.", "The post-war order appeared stable."),
        ("Nothing to remove here", "Nothing to remove here"),
    ],
)
def test_strip_boilerplate_removes_teaser_furniture(text, expected):
    assert strip_boilerplate(text) == expected


@pytest.mark.parametrize(
    ("garbled", "expected"),
    [
        ("Azərbaycan və İran".encode().decode("cp1252"), "Azərbaycan və İran"),
        ("Iran’s minister".encode().decode("cp1252"), "Iran’s minister"),
        ("Азербайджан и Тегеран".encode().decode("cp1251"), "Азербайджан и Тегеран"),
        ("ایران و آذربایجان".encode().decode("cp1252"), "ایران و آذربایجان"),
    ],
)
def test_fix_mojibake_repairs_utf8_read_as_a_windows_codepage(garbled, expected):
    assert garbled != expected
    assert fix_mojibake(garbled) == expected


@pytest.mark.parametrize(
    "genuine",
    [
        "Café in Zürich, naïve façade",
        "Президент Азербайджана и Ирана, «Газпром» №1",
        "Azərbaycan və İran Bakıda",
        "ایران و جمهوری آذربایجان",
        "Ã la carte",
        "plain ascii",
    ],
)
def test_fix_mojibake_leaves_genuine_text_alone(genuine):
    assert fix_mojibake(genuine) == genuine


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "https://News.Example.AZ/a/1?utm_source=rss&utm_medium=feed&id=5#comments",
            "",
            "https://news.example.az/a/1?id=5",
        ),
        ("/a/2?fbclid=x&gclid=y&yclid=z", "https://example.az/rss", "https://example.az/a/2"),
        (
            "b/3?mc_cid=1&mc_eid=2&_ga=3&ref=tw&ref_src=twsrc&page=2",
            "https://example.az/news/",
            "https://example.az/news/b/3?page=2",
        ),
        ("HTTP://EXAMPLE.AZ:80", "", "http://example.az/"),
        ("https://example.az:8443/x", "", "https://example.az:8443/x"),
        ("https://example.az/a b", "", "https://example.az/a%20b"),
        ("  https://example.az/\n  trimmed ", "", "https://example.az/trimmed"),
        ("https://example.az/?q=a%20b&UTM_Campaign=x", "", "https://example.az/?q=a%20b"),
        ("https://example.az/путь", "", "https://example.az/путь"),
        ("javascript:alert(1)", "https://example.az/", ""),
        ("mailto:editor@example.az", "", ""),
        ("http://[::1", "", ""),
        ("", "https://example.az/", ""),
    ],
)
def test_canonical_url(url, base, expected):
    assert canonical_url(url, base) == expected


def test_usable_identities_refuses_repeated_empty_and_rejected_values():
    values = ["a", "same", "same", None, "  ", "home", "b "]
    assert usable_identities(values, reject={"home"}) == ["a", None, None, None, None, None, "b"]


def test_item_key_prefers_guid_then_link_then_text():
    by_guid = item_key(guid="g1", url="https://x/1", title="T", summary="S")
    assert by_guid == item_key(guid="g1", url="https://x/other", title="Other", summary="")
    by_url = item_key(guid=None, url="https://x/1", title="T", summary="S")
    assert by_url == item_key(guid=None, url="https://x/1", title="Changed", summary="")
    by_text = item_key(guid=None, url=None, title="T", summary="S")
    assert by_text != item_key(guid=None, url=None, title="T", summary="S2")
    assert len({by_guid, by_url, by_text}) == 3
    assert len(by_guid) == KEY_LENGTH
    assert all(c in "0123456789abcdef" for c in by_guid)


def test_item_key_does_not_confuse_a_guid_with_an_equal_link():
    assert item_key(guid="x", url=None, title="", summary="") != item_key(
        guid=None, url="x", title="", summary=""
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, NOW),
        (datetime(2025, 1, 6, 14, 30, tzinfo=timezone(timedelta(hours=4))), SIX_TEN_THIRTY),
        (datetime(2025, 1, 6, 10, 30), SIX_TEN_THIRTY),  # noqa: DTZ001
        (time.struct_time((2025, 1, 6, 10, 30, 0, 0, 6, 0)), SIX_TEN_THIRTY),
        (LATEST, LATEST),
        (NOW + MAX_FUTURE_SKEW + timedelta(seconds=1), NOW),
        (datetime(2031, 3, 9, tzinfo=UTC), NOW),
        (EARLIEST - timedelta(days=1), NOW),
        (time.struct_time((1970, 1, 1, 0, 0, 0, 3, 1, 0)), NOW),
        (time.struct_time((99999, 1, 1, 0, 0, 0, 3, 1, 0)), NOW),
    ],
)  # fmt: skip
def test_to_utc_converts_and_replaces_missing_or_absurd_times_with_now(value, expected):
    got = to_utc(value, now=NOW)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


def test_to_utc_returns_now_in_utc_whatever_zone_now_is_given_in():
    baku_now = NOW.astimezone(timezone(timedelta(hours=4)))
    got = to_utc(None, now=baku_now)
    assert got == NOW
    assert got.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 06 Jan 2025 12:00:00 AZT", datetime(2025, 1, 6, 8, 0, tzinfo=UTC)),
        ("Mon, 06 Jul 2015 12:00:00 AZST", datetime(2015, 7, 6, 7, 0, tzinfo=UTC)),
        ("Mon, 06 Jan 2025 12:00:00 IRST", datetime(2025, 1, 6, 8, 30, tzinfo=UTC)),
        ("Mon, 06 Jan 2025 12:00:00 MSK", datetime(2025, 1, 6, 9, 0, tzinfo=UTC)),
        ("Mon, 06 Jan 2025 12:00:00 +0400", datetime(2025, 1, 6, 8, 0, tzinfo=UTC)),
        ("yesterday evening", None),
        ("", None),
    ],
)
def test_parse_date_text_knows_the_regions_zone_names(text, expected):
    got = parse_date_text(text)
    assert got == expected
    if got is not None:
        assert got.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 06 Jan 2025 12:00:00 AZT", True),
        ("Mon, 06 Jan 2025 12:00:00 IRST", True),
        ("Mon, 06 Jan 2025 12:00:00 GMT", False),
        ("Mon, 06 Jan 2025 12:00:00 UTC", False),
        ("Mon, 06 Jan 2025 12:00:00 +0400", False),
    ],
)
def test_names_regional_zone(text, expected):
    assert names_regional_zone(text) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en-US", "en"),
        ("ru_RU", "ru"),
        ("az-Latn-AZ", "az"),
        ("FA", "fa"),
        ("  de ", "de"),
        ("", None),
        (None, None),
        ("english", None),
        ("12", None),
    ],
)
def test_language_code_is_the_lowercase_primary_subtag(value, expected):
    assert language_code(value) == expected
