"""bot.review.query and bot.review.searchwords: the query language, parsed into folded, stemmed words."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import SearchPhrase, SearchWord
from bot.review.query import MAX_TERMS, QueryError, parse_query
from bot.review.searchwords import folder, search_word
from bot.topics.folding import normalize

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def words(query: str) -> list[list[tuple[str, ...]]]:
    """Each clause's phrases as the first forms of their words."""
    parsed = parse_query(query, now=NOW)
    return [[tuple(w.forms[0] for w in p.words) for p in clause] for clause in parsed.clauses]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # English plurals, case
        ("Bridges", SearchWord(("bridge",), prefix=True)),
        ("countries", SearchWord(("countr",), prefix=True)),
        ("crosses", SearchWord(("cross",), prefix=True)),
        ("war", SearchWord(("war", "wars", "wares"))),
        # Russian: case endings come off, the nominative is a prefix stem
        ("Граница", SearchWord(("границ",), prefix=True)),
        ("иранский", SearchWord(("иранск",), prefix=True)),
        ("мосты", SearchWord(("мост",), prefix=True)),
        (
            "газ",
            SearchWord(
                (
                    "газ",
                    "газа",
                    "газу",
                    "газом",
                    "газе",
                    "газы",
                    "газов",
                    "газам",
                    "газами",
                    "газах",
                )
            ),
        ),
        # Azerbaijani: dotted and dotless i fold to i, suffixes come off words with AZ letters
        ("Bakıda", SearchWord(("baki",), prefix=True)),
        ("BAKI", SearchWord(("baki",), prefix=True)),
        ("körpüsü", SearchWord(("korpu",), prefix=True)),
        ("sərhəd", SearchWord(("sərhəd",), prefix=True)),
        # Persian: Arabic yeh/kaf become Persian, ZWNJ goes, the plural comes off
        ("ايران", SearchWord(("ایران",), prefix=True)),
        ("پل‌ها", SearchWord(("پلها", "پل", "پلهای", "پلی"))),
        ("كشور", SearchWord(("کشور",), prefix=True)),
        # Digits match whole
        ("2026", SearchWord(("2026",))),
    ],
)
def test_a_word_is_folded_and_stemmed_by_its_script(typed: str, expected: SearchWord):
    (clause,) = parse_query(typed, now=NOW).clauses
    assert clause == (SearchPhrase((expected,)),)


def test_search_word_keeps_short_words_whole():
    assert search_word("iran").prefix is True
    assert search_word("oil").prefix is False


def test_words_are_anded_phrases_keep_order_and_or_joins_neighbours():
    assert words("Astara bridge") == [[("astara",)], [("bridge",)]]
    assert words('"Astara bridge" opens') == [[("astara", "bridge")], [("open",)]]
    assert words("«пограничную реку»") == [[("пограничн", "реку")]]  # a short word: as typed
    assert words("drone OR БПЛА debris") == [[("drone",), ("бпла",)], [("debris",)]]
    assert words('"drone debris" OR обломки') == [[("drone", "debris"), ("обломк",)]]
    assert words("Tehran–Baku") == [[("tehran", "baku")]]  # a hyphenated word is a phrase


def test_exclusions_and_filters():
    q = parse_query(
        'astara -exercise -"military drill" source:apa-en lang:RU lang:az flagged:', now=NOW
    )
    assert [[w.forms[0] for w in p.words] for p in q.exclude] == [
        ["exercise"],
        ["military", "drill"],
    ]
    assert q.sources == ("apa-en",)
    assert q.langs == ("ru", "az")
    assert q.flagged is True
    assert q.text.startswith("astara -exercise")


def test_time_bounds():
    q = parse_query("astara since:7d until:2026-11-29", now=NOW)
    assert q.since == NOW - timedelta(days=7)
    assert q.until == datetime(2026, 11, 30, tzinfo=UTC)  # the whole day included
    q = parse_query("astara since:2026-11-01", now=NOW)
    assert q.since == datetime(2026, 11, 1, tzinfo=UTC)


def test_an_unknown_key_is_an_ordinary_word():
    assert words("http://apa.az") == [[("http", "apa", "az")]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ('"astara bridge', 'unclosed quote: add the closing "'),
        ("«astara bridge", "unclosed quote: add the closing »"),
        ("-astara", "not only words to leave out"),
        ('-"astara bridge" -baku', "not only words to leave out"),
        ("OR astara", "OR must stand between"),
        ("astara OR", "OR must stand between"),
        ("astara OR -baku", "OR cannot join"),
        ("astara OR OR baku", "OR must stand between"),
        ("since:7d", "no word to look for"),
        ("astara since:yesterday", "since: takes 7d"),
        ("astara until:2026-13-01", "until: takes"),
        ("astara since:2026-11-30 until:2026-11-01", "since: must come before until:"),
        ("astara lang:russian", "lang: needs a language code"),
        ("astara source:", "source: needs an outlet id"),
        ("astara flagged:no", "flagged: takes no value"),
        ("!!! ???", "no word to look for"),
        (" ".join(f"w{n}" for n in range(MAX_TERMS + 1)), "too many words"),
        ("x" * 501, "too long"),
    ],
)
def test_a_malformed_query_is_one_clear_line(query: str, message: str):
    with pytest.raises(QueryError, match=message) as caught:
        parse_query(query, now=NOW)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "The ministers of Azerbaijan-Iran met in Baku: «border» crossing, U.S. don't 12% 2025.",
        "Пограничный мост «Астара» — открыт; İran ilə sərhəd. پل‌های مرزی آستارا. علي‌اف ك ي",
        "e\u0301te\u0301 ½ x_y a\u00adb ١٢٣ ۴۵ Ǆ ﬁ foo—bar ‹y› “x”",
    ],
)
def test_the_index_folds_text_into_the_words_the_parser_sees(text: str):
    assert folder()(text) == normalize(text)


def test_the_index_folds_ascii_text_as_the_filter_does():
    # ASCII text takes a shortcut (a byte table in C); every ASCII character, alone and in runs,
    # must still give the words the filter's own tokenizer gives.
    fold = folder()
    every = "".join(chr(c) for c in range(128))
    rng = random.Random(21)
    alphabet = every + "AZaz09 " * 8
    texts = [every, every[::-1], *(chr(c) * 3 + "Ab1" for c in range(128))]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 60))) for _ in range(500)]
    assert [fold(t) for t in texts] == [normalize(t) for t in texts]


def test_the_index_folding_agrees_with_the_filter_on_real_items():
    fold = folder()
    path = Path("/work/shared/data/relevance-dev.jsonl")
    if not path.exists():
        pytest.skip("shared data not present")
    texts = [
        value
        for line in path.read_text(encoding="utf-8").splitlines()
        for value in json.loads(line).values()
        if isinstance(value, str)
    ]
    assert [fold(t) for t in texts] == [normalize(t) for t in texts]
