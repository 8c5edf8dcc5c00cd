"""Paused and disabled sources are shown everywhere, marked: the status page, `/metrics`, `/healthz`.

The database holds four sources: one polled and healthy, one polled and failing, one paused (in
the config with `enabled = false`, as `/pause` leaves it) and one disabled (it left the config;
the store keeps it, disabled). The real server renders every path. The status page's summary
line comes first and links to the table; rows name the source id; only real errors get a
"Last error" label; the two page navigators have labels of their own. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from bot.storage.items import Store
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.web.rig import WebRig, start_rig

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def rig(db_engine: AsyncEngine, feed_server: FeedServer) -> AsyncIterator[WebRig]:
    feed_server.put("/st/ok.xml", rss([item(1, title="Weather in Paris", pub_date=NOW)]))
    feed_server.fail("/st/down.xml", 503)
    ok = Source("ok", "Same Name", feed_server.url("/st/ok.xml"), 600.0)
    down = Source("down", "Down Outlet", feed_server.url("/st/down.xml"), 600.0)
    paused = Source("held", "Same Name", "https://held.example/feed", 600.0, enabled=False)
    gone = Source("gone", "Gone Outlet", "https://gone.example/feed", 600.0)
    # "gone" was configured once; the rig's config no longer names it, so the store disables it.
    await Store(db_engine).sync_sources([ok, down, paused, gone])
    rig = await start_rig(db_engine, [ok, down, paused])
    try:
        await rig.pipeline.run_all([ok])  # polled once: "ok", not "new"
        await rig.store.states.save_failure(
            "down", error="HTTP 503", now=NOW, next_poll=NOW + timedelta(minutes=10)
        )
        await (
            rig.store.states.save_failure(  # an old failure of the paused source: not "failing" now
                "held", error="HTTP 404", now=NOW, next_poll=NOW + timedelta(minutes=10)
            )
        )
        yield rig
    finally:
        await rig.close()


def rows(page: str) -> dict[str, str]:
    """Source id → its table row's HTML."""
    body = page.split('<table id="sources">', 1)[1]
    found = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return {
        re.search(r'<span class="sid">\((.*?)\)</span>', r).group(1): r  # type: ignore[union-attr]
        for r in found
        if 'class="sid"' in r
    }


async def test_the_status_page_lists_paused_and_disabled_sources_marked(rig: WebRig):
    page = (await rig.http.get("/")).text
    shown = rows(page)
    assert set(shown) == {"ok", "down", "held", "gone"}
    assert 'class="failing">failing</td>' in shown["down"]
    assert 'class="paused">paused</td>' in shown["held"]
    assert 'class="disabled">disabled</td>' in shown["gone"]
    assert 'data-label="Next poll">—</td>' in shown["held"]  # not polled
    # Two outlets named "Same Name" are told apart by their ids.
    assert "Same Name</a> <span" in shown["ok"]
    assert "Same Name</a> <span" in shown["held"]
    assert 'id="failing-count">1 failing</li>' in page


async def test_the_summary_line_comes_first_names_the_failing_and_links_to_the_table(rig: WebRig):
    page = (await rig.http.get("/")).text
    line = re.search(r'<p class="health-line" id="source-health">(.*?)</p>', page, re.S)
    assert line is not None
    text = " ".join(re.sub(r"<[^>]+>", "", line.group(1)).split())
    assert text == (
        "4 sources: 1 ok, 1 failing, 1 paused, 1 disabled (failing: Down Outlet) · sources table"
    )
    assert '<a href="#sources-table">' in line.group(1)
    assert '<h2 id="sources-table">Sources</h2>' in page
    assert page.index('id="source-health"') < page.index("Newest stories")


async def test_only_a_source_with_an_error_gets_a_last_error_label(rig: WebRig):
    page = (await rig.http.get("/")).text
    shown = rows(page)
    assert 'data-label="Last error"' not in shown["ok"]
    assert 'data-label="Last error" class="error">HTTP 503' in shown["down"]
    assert page.count('data-label="Last error"') == 2  # "down", and the paused one's old error


async def test_the_two_page_navigators_have_distinct_labels(rig: WebRig):
    page = (await rig.http.get("/")).text
    labels = re.findall(r'<nav class="pager"[^>]*aria-label="([^"]+)"', page)
    assert len(labels) == 2
    assert len(set(labels)) == 2


async def test_topic_names_do_not_break_inside_a_word(rig: WebRig):
    page = (await rig.http.get("/")).text
    assert '<span class="topic">Azerbaijan–Iran relations</span>' in page
    assert ".topic { white-space: nowrap; }" in page


async def test_metrics_list_every_source_with_a_paused_gauge_and_counts_by_state(rig: WebRig):
    text = (await rig.http.get("/metrics")).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    paused = {k[1][0][1]: v for k, v in samples.items() if k[0] == "bot_source_paused"}
    assert paused == {"ok": 0.0, "down": 0.0, "held": 1.0, "gone": 1.0}
    failures = {k[1][0][1] for k in samples if k[0] == "bot_source_consecutive_failures"}
    assert failures == {"ok", "down", "held", "gone"}
    by_state = {k[1][0][1]: v for k, v in samples.items() if k[0] == "bot_sources"}
    assert by_state == {"active": 2.0, "paused": 1.0, "disabled": 1.0}


async def test_healthz_counts_paused_and_disabled_sources(rig: WebRig):
    body = (await rig.http.get("/healthz")).json()
    assert body["sources"] == 4
    assert body["polled"] == 2
    assert body["paused"] == 1
    assert body["disabled"] == 1
