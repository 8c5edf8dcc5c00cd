"""The status page's desk-feedback figures: /quality's figures of the last 7 days, with no name,
user id or chat id of anyone, through the real HTTP server on a real database."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.storage.labels import LabelStore
from bot.storage.outbox import Outbox
from bot.storage.outbox_sends import OutboxSends
from tests.web.rig import WebRig, start_rig

NOW = datetime.now(UTC).replace(microsecond=0)
EDITOR, CHAT = 987654321, 55501
WRONG = "Baku mayor meets Iranian chef"
RIGHT = "Aliyev and Pezeshkian discuss the Aras corridor in Baku and Tehran"


@pytest.fixture
async def rig(db_engine: AsyncEngine) -> AsyncIterator[WebRig]:
    sources = [Source("apa", "APA", "https://apa.example/rss", 600.0)]
    rig = await start_rig(db_engine, sources, start_scheduler=False)
    try:
        yield rig
    finally:
        await rig.close()


async def test_the_status_page_shows_the_desks_verdicts_without_people(rig: WebRig) -> None:
    await rig.chats.subscribe(
        CHAT, kind="private", title=None, topics=["azerbaijan-iran"], thread_id=None, now=NOW
    )
    match = TopicMatch("azerbaijan-iran", (TermHit("azerbaijan", "Baku", "title", "Baku"),))
    for key, title in (("a1", WRONG), ("a2", RIGHT)):
        item = Item("apa", key, f"https://apa.example/{key}", title, "", NOW, "en")
        await rig.store.save_fetch(
            "apa",
            items=[MatchedItem(item, (match,))],
            validators=Validators(),
            now=NOW - timedelta(hours=2),
            next_poll=NOW,
            announce=True,
        )
    sends = OutboxSends(rig.db)
    for n, row in enumerate(await Outbox(rig.db).next_pending(CHAT)):
        await sends.mark_sent(row.outbox_id, message_id=n + 1, now=NOW - timedelta(hours=1))
    wrong_id = next(s.id for s in await rig.store.latest(5) if s.item.title == WRONG)
    await LabelStore(rig.db).record(
        wrong_id, relevant=False, user_id=EDITOR, user_name="@desk_editor", chat_id=CHAT, now=NOW
    )
    page = (await rig.http.get("/")).text
    assert "<h2>Relevance feedback</h2>" in page
    assert "<li>Last 7 days: 1 label(s) on 1 item(s).</li>" in page
    assert "<li>Pushed: 2 item(s); marked not relevant: 1 (50%).</li>" in page
    assert "<li>  APA: 1/2 (50%)</li>" in page
    assert html.escape(f"“{WRONG}” (APA)", quote=False) in page
    for private in ("desk_editor", str(EDITOR), str(CHAT), "telegram:"):
        assert private not in page
