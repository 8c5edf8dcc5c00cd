"""/addsource checks before it adds: both the id's and the URL's problems at once, and a feed
whose items are already stored under another source refused (`/addsource! …` adds it anyway);
/audit shows a term change as the difference, like `config audit`.

The real PTB Application polls the Telegram emulator; a real store, LiveConfig and the feed
server on loopback. "apa" already holds the items of /apa.xml, stored as a poll stores them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds.fetch import Fetcher, make_client
from bot.models import Item, MatchedItem, Validators
from bot.operator.live import LiveConfig
from bot.operator.newsource import duplicate_of, new_source_problems
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.ops import OpsStore
from bot.storage.outbox import Outbox
from bot.storage.overlap import FeedOverlap
from bot.storage.overlay import OverlayStore
from bot.telegram.admin import make_admin_handlers
from bot.telegram.app import build_application, start, stop
from tests.emulator.server import TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.telegram.test_admin import ADMIN, BAKU, SOURCES_TOML, T0, TOPICS_TOML, Harness

LINKS = [f"https://example.com/news/{n}" for n in range(1, 6)]


@pytest.fixture
async def bot(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine, feed_server: FeedServer, tmp_path: Path
) -> AsyncIterator[Harness]:
    telegram_api.configure(rate_limits=None)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "sources.toml").write_text(SOURCES_TOML.format(base=feed_server.base_url))
    (config_dir / "topics.toml").write_text(TOPICS_TOML)
    clock = lambda: T0  # noqa: E731
    live = LiveConfig(config_dir=config_dir, overlay=OverlayStore(db_engine), clock=clock)
    await live.load()
    chats = ChatStore(db_engine)
    store = Store(db_engine, on_flagged=[Outbox(db_engine).enqueue])
    await store.sync_sources(live.current.sources, now=T0)
    stored = [
        MatchedItem(Item("apa", f"k{n}", link, f"Item {n}", "", T0 - timedelta(hours=n)), ())
        for n, link in enumerate(LINKS, 1)
    ]
    await store.save_fetch(
        "apa", items=stored, validators=Validators(), now=T0, next_poll=T0, announce=False
    )
    async with make_client(timeout=5.0) as client:
        handlers = make_admin_handlers(
            admin_ids=[ADMIN], live=live, store=store, chat_store=chats,
            ops=OpsStore(db_engine), fetcher=Fetcher(client), tz=BAKU, clock=clock,
            overlap=FeedOverlap(db_engine),
        )  # fmt: skip
        app = build_application(
            telegram_api.token, base_url=telegram_api.api_url, handlers=handlers
        )
        await start(app, webhook_url=None, port=None)
        try:
            yield Harness(telegram_api, live, store, chats, db_engine, app, config_dir)
        finally:
            await stop(app)


async def test_addsource_names_the_ids_and_the_urls_problems_together(
    bot: Harness, feed_server: FeedServer
):
    reply = await bot.ask("/addsource bad_ID! notaurl")
    assert reply.startswith("Not added:")
    assert "id 'bad_ID!': must be a slug" in reply
    assert "URL 'notaurl': must be an http:// or https:// URL" in reply
    assert bot.source_ids() == ["apa"]


async def test_a_feed_already_polled_under_another_id_is_refused_naming_that_source(
    bot: Harness, feed_server: FeedServer
):
    # The same outlet at another address: four of its five links are stored under "apa".
    feed_server.put("/copy.xml", rss([item(n) for n in (1, 2, 3, 4, 9)], title="APA again"))
    url = feed_server.url("/copy.xml") + "?x=1"
    reply = await bot.ask(f"/addsource apa2 {url}")
    assert reply == (
        "Not added: this looks like a feed already polled: 4 of its 5 items are already stored "
        f"under source 'apa' (APA). To add it anyway: /addsource! apa2 {url}"
    )
    assert bot.source_ids() == ["apa"]
    # "/addsource!" — Telegram marks only "/addsource" as the command, the "!" follows it.
    before = len(bot.emu.sent_messages(ADMIN))
    bot.emu.send_message(
        ADMIN,
        f"/addsource! apa2 {url}",
        entities=[{"type": "bot_command", "offset": 0, "length": len("/addsource")}],
    )
    [forced] = (await bot.emu.wait_for_messages_async(ADMIN, before + 1))[before:]
    assert "Added" in forced.plain_text
    assert bot.source_ids() == ["apa", "apa2"]


async def test_a_feed_sharing_few_links_is_added(bot: Harness, feed_server: FeedServer):
    feed_server.put("/other.xml", rss([item(n) for n in (1, 7, 8, 9)], title="Other"))
    reply = await bot.ask(f"/addsource other {feed_server.url('/other.xml')}")
    assert "Added" in reply


async def test_audit_shows_a_term_change_as_the_difference(bot: Harness):
    for n in range(12):  # more terms than the old before/after lists showed
        await bot.ask(f"/addterm az-ir az Term{n:02d}")
    audit = await bot.ask("/audit 1")
    assert "+'Term11'" in audit
    assert "Term00" not in audit  # the unchanged terms are not repeated
    assert "before:" not in audit
    assert "13 → 14 terms" in audit


@pytest.mark.parametrize(
    ("source_id", "url", "problems"),
    [
        ("ok", "https://x.org/feed", []),
        ("", "https://x.org/feed", ["id '': must be a slug"]),
        ("ok", "ftp://x", ["URL 'ftp://x': must be an http"]),
        ("Bad Id", "x", ["id 'Bad Id': must be a slug", "URL 'x': must be an http"]),
    ],
)
def test_new_source_problems_judges_id_and_url_by_the_files_rules(
    source_id: str, url: str, problems: list[str]
):
    found = new_source_problems(source_id, url)
    assert len(found) == len(problems)
    for line, beginning in zip(found, problems, strict=True):
        assert line.startswith(beginning)


@pytest.mark.parametrize(
    ("links", "holders", "expected"),
    [
        (["a", "b", "c", "d"], {"x": 3}, ("x", 3, 4)),
        (["a", "b", "c", "d"], {"x": 2}, None),  # half is not most
        (["a", "b", "c", "d"], {"new": 4}, None),  # its own items (a re-add) do not count
        (["a"], {"x": 1}, None),  # too few links to judge
        (["a", "a", "b"], {"x": 2, "y": 1}, ("x", 2, 2)),  # distinct links
        ([], {}, None),
    ],
)
def test_duplicate_of_needs_most_of_the_links_under_one_other_source(
    links: list[str], holders: dict[str, int], expected: tuple[str, int, int] | None
):
    found = duplicate_of(links, holders, new_id="new")
    assert (None if found is None else (found.source_id, found.shared, found.total)) == expected
