"""bot.web.status: the sources table in pages, failing sources first, through a real HTTP client.

The database holds 450 sources (a few failing, recorded through the real store); the real
server renders the page. `pager` is the pure part: which slice a page value asks for.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from bot.web.status import PAGE_SIZE, pager
from tests.web.rig import WebRig, start_rig

COUNT = 450  # three pages: 200, 200, 50
FAILING = [7, 123, 250, 333, 449]  # spread over what would be every page by id
NOW = datetime.now(UTC).replace(microsecond=0)


def ids_shown(page: str) -> list[int]:
    """The sources in the table, in order (each links to its feed)."""
    return [int(n) for n in re.findall(r'<td><a href="https://o(\d{4})\.example/feed"', page)]


@pytest.fixture
async def rig(db_engine: AsyncEngine) -> AsyncIterator[WebRig]:
    sources = [
        Source(f"s{n:04d}", f"Outlet {n}", f"https://o{n:04d}.example/feed", 600.0)
        for n in range(COUNT)
    ]
    # Nothing is polled: the failures are recorded as a failed poll records them.
    rig = await start_rig(db_engine, sources, start_scheduler=False)
    try:
        for n in FAILING:
            await rig.store.states.save_failure(
                f"s{n:04d}", error="HTTP 503", now=NOW, next_poll=NOW + timedelta(minutes=10)
            )
        yield rig
    finally:
        await rig.close()


def expected_order() -> list[int]:
    return FAILING + [n for n in range(COUNT) if n not in FAILING]


async def test_page_one_shows_the_failing_sources_first_and_counts_all_sources(rig: WebRig):
    answer = await rig.http.get("/")
    assert answer.status_code == 200
    page = answer.text
    assert ids_shown(page) == expected_order()[:PAGE_SIZE]
    assert page.count('class="failing">failing</td>') == len(FAILING)
    assert 'id="sources-count">450 sources</li>' in page
    assert 'id="failing-count">5 failing</li>' in page
    assert page.count("sources 1–200 of 450") == 2  # above and below the table
    assert 'href="/?page=2" rel="next">next</a>' in page
    assert 'rel="prev"' not in page
    assert "<script" not in page


async def test_page_two_shows_the_second_slice_with_links_both_ways(rig: WebRig):
    page = (await rig.http.get("/", params={"page": "2"})).text
    assert ids_shown(page) == expected_order()[PAGE_SIZE : 2 * PAGE_SIZE]
    assert "sources 201–400 of 450" in page
    assert 'href="/?page=1" rel="prev">previous</a>' in page
    assert 'href="/?page=3" rel="next">next</a>' in page
    # The summary still counts every source, not the page's.
    assert 'id="sources-count">450 sources</li>' in page
    assert 'id="failing-count">5 failing</li>' in page
    assert "failing</td>" not in page  # all five are on page 1


async def test_the_last_page_holds_the_rest_and_no_next_link(rig: WebRig):
    page = (await rig.http.get("/?page=3")).text
    assert ids_shown(page) == expected_order()[2 * PAGE_SIZE :]
    assert "sources 401–450 of 450" in page
    assert 'rel="next"' not in page


BAD_PAGES = [
    ("?page=abc", 1),
    ("?page=0", 1),
    ("?page=-2", 1),
    ("?page=", 1),
    ("?page=1.5", 1),
    ("?page=%FF%FE", 1),  # not UTF-8
    ("?page=%00", 1),
    ("?page=%D9%A2", 1),  # "٢", a digit, but not one of ours
    ("?page=4", 3),
    ("?page=99999999999999999999", 3),
    ("?page=" + "9" * 5000, 3),
    ("?page=002", 2),
    ("?page=2&page=3", 3),  # the last one given counts
]


async def test_a_bad_or_out_of_range_page_shows_page_one_or_the_last_page(rig: WebRig):
    # One server for every value (each would otherwise fill a database of 450 sources).
    for query, shown in BAD_PAGES:
        answer = await rig.http.get("/" + query)
        assert answer.status_code == 200, query
        start = (shown - 1) * PAGE_SIZE
        assert ids_shown(answer.text) == expected_order()[start : start + PAGE_SIZE], query


@pytest.mark.parametrize(
    ("asked", "total", "number", "rows", "label"),
    [
        ("1", 3000, 1, (0, 200), "sources 1–200 of 3,000"),
        ("2", 3000, 2, (200, 400), "sources 201–400 of 3,000"),
        ("15", 3000, 15, (2800, 3000), "sources 2,801–3,000 of 3,000"),
        ("16", 3000, 15, (2800, 3000), "sources 2,801–3,000 of 3,000"),
        ("x", 3000, 1, (0, 200), "sources 1–200 of 3,000"),
        (" 3 ", 450, 3, (400, 450), "sources 401–450 of 450"),
        ("1", 200, 1, (0, 200), "sources 1–200 of 200"),
        ("2", 200, 1, (0, 200), "sources 1–200 of 200"),
        ("1", 0, 1, (0, 0), "no sources"),
        ("5", 0, 1, (0, 0), "no sources"),
    ],
)
def test_pager_picks_the_rows_of_a_page(
    asked: str, total: int, number: int, rows: tuple[int, int], label: str
):
    shown = pager(asked, total)
    assert (shown.number, (shown.start, shown.stop), shown.label) == (number, rows, label)
    assert shown.previous == (number - 1 or None)
    assert shown.next == (number + 1 if number < shown.pages else None)
