"""Operators' commands: the real PTB Application polling the Telegram emulator, a real store and
LiveConfig, and feeds on the loopback server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds.fetch import Fetcher, make_client
from bot.models import Item, MatchedItem, Validators
from bot.operator.live import LiveConfig
from bot.storage.chat_tables import outbox
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.ops import OpsStore
from bot.storage.outbox import Outbox
from bot.storage.overlay import OverlayStore
from bot.telegram.admin import AdminContext, make_admin_handlers
from bot.telegram.admin.sources import SourceCommands
from bot.telegram.admin.terms import TermCommands
from bot.telegram.app import BotApp, build_application, start, stop
from bot.telegram.commands import SubscriberCommands, make_handlers
from bot.telegram.guard import Op
from bot.telegram.replies import ArgumentError
from tests.emulator.server import SentMessage, TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer

BAKU = ZoneInfo("Asia/Baku")
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ADMIN = 7001
STRANGER = 7002
SOURCES_TOML = """
[defaults]
interval = "10m"

[[sources]]
id = "apa"
name = "APA"
url = "{base}/apa.xml"
"""
TOPICS_TOML = """
[[topics]]
id = "az-ir"
name = "Azerbaijan–Iran"
require = ["az", "ir"]

[topics.groups]
az = ["Baku", "Azerbaijan*"]
ir = ["Tehran", "Iran*"]
"""


@dataclass
class Harness:
    emu: TelegramEmulator
    live: LiveConfig
    store: Store
    chats: ChatStore
    engine: AsyncEngine
    app: BotApp
    config_dir: Path
    woken: list[bool] = field(default_factory=list)

    async def ask(self, text: str, *, chat_id: int = ADMIN, **kwargs: Any) -> str:
        """Send a command and return the plain text of the bot's reply in that chat."""
        before = len(self.emu.sent_messages(chat_id))
        self.emu.send_command(chat_id, text, **kwargs)
        sent: list[SentMessage] = await self.emu.wait_for_messages_async(chat_id, before + 1)
        return sent[before].plain_text

    def source_ids(self) -> list[str]:
        return [s.id for s in self.live.current.sources]

    def terms(self, group: str) -> tuple[str, ...]:
        [topic] = self.live.current.topics
        return next(g.terms for g in topic.groups if g.name == group)


@pytest.fixture
async def bot(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine, feed_server: FeedServer, tmp_path: Path
) -> AsyncIterator[Harness]:
    telegram_api.configure(rate_limits=None)  # many replies to one chat; pacing is not tested here
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "sources.toml").write_text(SOURCES_TOML.format(base=feed_server.base_url))
    (config_dir / "topics.toml").write_text(TOPICS_TOML)
    clock = lambda: T0  # noqa: E731
    live = LiveConfig(config_dir=config_dir, overlay=OverlayStore(db_engine), clock=clock)
    await live.load()
    chats, outbox = ChatStore(db_engine), Outbox(db_engine)
    store = Store(db_engine, on_flagged=[outbox.enqueue])
    await store.sync_sources(live.current.sources, now=T0)
    woken: list[bool] = []
    async with make_client(timeout=5.0) as client:
        admin = make_admin_handlers(
            admin_ids=[ADMIN],
            live=live,
            store=store,
            chat_store=chats,
            ops=OpsStore(db_engine, on_flagged=[outbox.enqueue]),
            fetcher=Fetcher(client),
            tz=BAKU,
            clock=clock,
            wake=lambda: woken.append(True),
        )
        public = make_handlers(
            SubscriberCommands(
                chat_store=chats,
                outbox=outbox,
                store=store,
                topics=lambda: live.current.topics,
                sources=lambda: live.current.sources,
                tz=BAKU,
                clock=clock,
            )
        )
        app = build_application(
            telegram_api.token, base_url=telegram_api.api_url, handlers=[*admin, *public]
        )
        await start(app, webhook_url=None, port=None)
        try:
            yield Harness(telegram_api, live, store, chats, db_engine, app, config_dir, woken)
        finally:
            await stop(app)


# ----------------------------------------------------------------- who may


async def test_admin_adds_a_source_after_probing_it_and_it_is_live(
    bot: Harness, feed_server: FeedServer
) -> None:
    feed_server.put(
        "/new.xml",
        rss([item(1), item(2, title="Baku & Tehran talk")], title="New Outlet"),
    )
    reply = await bot.ask(f"/addsource new {feed_server.url('/new.xml')}")
    assert "feed “New Outlet”, 2 item(s)" in reply
    assert "newest: “Baku & Tehran talk”" in reply
    assert "/undo" in reply
    assert bot.source_ids() == ["apa", "new"]
    [added] = [s for s in bot.live.current.sources if s.id == "new"]
    assert added.name == "New Outlet"  # the feed's own title when no NAME is given
    named = await bot.ask(f"/addsource other {feed_server.url('/new.xml')}?x=1 Other Desk")
    assert "Added" in named
    assert [s.name for s in bot.live.current.sources if s.id == "other"] == ["Other Desk"]


@pytest.mark.parametrize(
    ("path", "setup", "reason"),
    [
        ("/missing.xml", lambda fs: None, "404"),
        (
            "/page.html",
            lambda fs: fs.put(
                "/page.html", b"<html><body>hi</body></html>", content_type="text/html"
            ),
            "HTML",
        ),
        ("/err.xml", lambda fs: fs.fail("/err.xml", 500), "500"),
    ],
)
async def test_addsource_refuses_what_is_not_a_feed_with_the_reason(
    bot: Harness, feed_server: FeedServer, path: str, setup: Any, reason: str
) -> None:
    setup(feed_server)
    reply = await bot.ask(f"/addsource bad {feed_server.url(path)}")
    assert reply.startswith("Not added")
    assert reason in reply
    assert bot.source_ids() == ["apa"]


async def test_addsource_refuses_a_duplicate_id_or_url_without_fetching(
    bot: Harness, feed_server: FeedServer
) -> None:
    assert "already a source apa" in await bot.ask(f"/addsource apa {feed_server.url('/x.xml')}")
    reply = await bot.ask(f"/addsource apa2 {feed_server.url('/apa.xml')}")
    assert "already source apa" in reply
    assert feed_server.request_count("/apa.xml") == 0
    assert feed_server.request_count("/x.xml") == 0


async def test_a_non_admin_is_refused_changes_nothing_and_is_logged(
    bot: Harness, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.put("/new.xml", rss([item(1)]))
    caplog.set_level(logging.WARNING, logger="bot.telegram.admin")
    for command in (
        f"/addsource new {feed_server.url('/new.xml')}",
        "/pause apa",
        '/addterm az-ir az "South Caucasus"',
        "/undo",
        "/audit",
    ):
        reply = await bot.ask(command, chat_id=STRANGER)
        assert reply == "Sorry, this command is for the bot's operators."
    assert bot.source_ids() == ["apa"]
    assert bot.live.current.sources[0].enabled
    assert "South Caucasus" not in bot.terms("az")
    assert await bot.live.audit(10) == []
    assert feed_server.request_count("/new.xml") == 0
    refusals = [r.getMessage() for r in caplog.records if "not an operator" in r.getMessage()]
    assert len(refusals) == 5
    assert all(f"user {STRANGER}" in line for line in refusals)


async def test_an_admin_in_a_group_is_asked_to_use_a_private_chat(bot: Harness) -> None:
    reply = await bot.ask("/pause apa", chat_id=-4001, user_id=ADMIN)
    assert "only in a private chat" in reply
    assert bot.live.current.sources[0].enabled


async def test_sources_shows_operators_the_health_view_and_others_the_public_one(
    bot: Harness,
) -> None:
    await bot.store.states.save_failure(
        "apa", error="HTTP 503 <busy>", now=T0, next_poll=T0 + timedelta(minutes=20)
    )
    await bot.store.states.save_failure(
        "apa", error="HTTP 503 <busy>", now=T0, next_poll=T0 + timedelta(minutes=40)
    )
    admin = await bot.ask("/sources")
    assert "2 failure(s) in a row" in admin
    assert "last error: HTTP 503 <busy>" in admin
    assert "next poll 27 Nov 2026, 14:40 +04" in admin
    assert "last success never" in admin
    public = await bot.ask("/sources", chat_id=STRANGER)
    assert "News outlets" in public
    assert "HTTP 503" not in public
    await bot.emu.wait_until_async(lambda: not bot.emu.pending_updates)
    assert len(bot.emu.sent_messages(ADMIN)) == 1  # the public view did not answer the admin too


# ----------------------------------------------------------------- edits, audit, undo


async def test_quoted_multi_word_terms_are_one_term_and_testmatch_explains(bot: Harness) -> None:
    before = await bot.ask("/testmatch South Caucasus talks in Tehran")
    assert "no match" in before
    assert "missing: az" in before
    reply = await bot.ask('/addterm az-ir az "South Caucasus"')
    assert reply == "Done: add term 'South Caucasus' to az-ir/az. /undo reverts it."
    assert bot.terms("az") == ("Baku", "Azerbaijan*", "South Caucasus")
    after = await bot.ask("/testmatch South Caucasus talks in Tehran")
    assert "✅ MATCH: Azerbaijan–Iran az-ir" in after
    assert "az: South Caucasus" in after
    assert "ir: Tehran" in after
    assert "South Caucasus" in await bot.ask("/terms az-ir")
    typographic = await bot.ask("/addveto az-ir «football match»")
    assert "add veto 'football match'" in typographic


async def test_unbalanced_quotes_and_missing_arguments_get_usage(bot: Harness) -> None:
    reply = await bot.ask('/addterm az-ir az "South Caucasus')
    assert "a quote is not closed" in reply
    assert "Usage: /addterm TOPIC GROUP TERM" in reply
    reply = await bot.ask("/addterm az-ir az South Caucasus")
    assert "quote a term of several words" in reply
    assert bot.terms("az") == ("Baku", "Azerbaijan*")


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ('/addterm az-ir az "Ir*"', "at least 3 letters"),
        ("/addterm az-ir az Baku", "already in az-ir/az"),
        ("/addterm az-ir nosuch Baku2", "has no group 'nosuch'"),
        ("/addterm nosuch az Baku2", "no topic 'nosuch'"),
        ("/interval apa 5s", "at least 10s"),
        ("/interval apa soon", "not a duration"),
        ("/resume apa", "already running"),
        ("/removesource nosuch", "no source 'nosuch'"),
    ],
)
async def test_a_bad_edit_is_refused_with_the_reason(
    bot: Harness, command: str, reason: str
) -> None:
    before = bot.live.current
    reply = await bot.ask(command)
    assert reason in reply
    assert bot.live.current is before
    assert await bot.live.audit(10) == []


async def test_undo_restores_and_audit_lists_who_what_before_and_after(bot: Harness) -> None:
    assert "pause source 'apa'" in await bot.ask("/pause apa")
    assert not bot.live.current.sources[0].enabled
    assert "set the interval" in await bot.ask("/interval apa 30m")
    assert bot.live.current.sources[0].interval == 1800
    assert "Undone: undo #2" in await bot.ask("/undo")
    assert bot.live.current.sources[0].interval == 600
    assert "Undone" in await bot.ask("/undo")
    assert bot.live.current.sources[0].enabled
    assert "nothing to undo" in await bot.ask("/undo")
    audit = await bot.ask("/audit 3")
    assert "Last 3 change(s)" in audit
    assert "telegram:7001" in audit
    assert "pause source 'apa'" in audit
    assert "(undone)" in audit
    assert "before:" in audit
    assert "after:" in audit
    assert "N is a number" in await bot.ask("/audit lots")


async def test_reload_reports_a_broken_file_and_keeps_the_last_good_config(bot: Harness) -> None:
    (bot.config_dir / "topics.toml").write_text("[[topics]\nid = ")
    before = bot.live.current
    reply = await bot.ask("/reload")
    assert "the last good config keeps running" in reply
    assert "TOML syntax error" in reply
    assert bot.live.current is before
    (bot.config_dir / "topics.toml").write_text(
        TOPICS_TOML.replace('"Baku",', '"Baku", "Nakhchivan",')
    )
    assert await bot.ask("/reload") == "Reloaded: 1 source(s) (1 polled), 1 topic(s)."
    assert "Nakhchivan" in bot.terms("az")


# ----------------------------------------------------------------- channels


async def test_addchannel_makes_a_channel_where_the_bot_is_admin_a_target(bot: Harness) -> None:
    bot.emu.add_chat(-100500, "channel", title="Desk <news>", username="desk")
    reply = await bot.ask("/addchannel @desk")
    assert reply == "Desk <news> -100500 now receives: az-ir."
    chat = await bot.chats.chat(-100500)
    assert chat is not None
    assert (chat.kind, chat.topics, chat.added_by, chat.active) == (
        "channel",
        ("az-ir",),
        ADMIN,
        True,
    )
    [entry] = await bot.live.audit(1)
    assert (entry.action, entry.actor) == ("add channel", "telegram:7001")
    assert "no longer receives" in await bot.ask("/removechannel -100500")
    gone = await bot.chats.chat(-100500)
    assert gone is not None
    assert not gone.active


async def test_addchannel_refuses_a_channel_where_the_bot_is_not_admin(bot: Harness) -> None:
    bot.emu.add_chat(-100600, "channel", title="Other", username="other")
    bot.emu.set_member_status(-100600, bot.emu.bot_id, "member")
    reply = await bot.ask("/addchannel @other az-ir")
    assert "I am not an admin of Other" in reply
    assert await bot.chats.chat(-100600) is None
    assert "I cannot see @nowhere" in await bot.ask("/addchannel @nowhere")
    assert "no topic 'nosuch'" in await bot.ask("/addchannel @other nosuch")


# ----------------------------------------------------------------- rematch


async def _store_items(bot: Harness) -> None:
    titles = ["Nakhchivan and Tehran sign a deal", "Nakhchivan border: Iran reopens crossing"]
    items = [
        Item("apa", f"k{n}", f"https://apa.az/{n}", t, "", T0 - timedelta(hours=n + 1))
        for n, t in enumerate(titles)
    ]
    await bot.store.save_fetch(
        "apa",
        items=[MatchedItem(i) for i in items],
        validators=Validators(),
        now=T0,
        next_poll=T0,
        announce=True,
    )


async def _outbox(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.scalars(select(outbox.c.chat_id))).all())


async def test_rematch_flags_recent_items_and_announces_only_when_asked(bot: Harness) -> None:
    await bot.chats.subscribe(
        -100700, kind="channel", title="C", topics=["az-ir"], thread_id=None, now=T0
    )
    await _store_items(bot)
    await bot.ask('/addterm az-ir az "Nakhchivan"')
    quiet = await bot.ask("/rematch az-ir 1.5")
    assert "over 1 item(s) of the last 1.5 h (0 already flagged): 1 newly flagged" in quiet
    assert "Not announced" in quiet
    assert await _outbox(bot.engine) == []
    assert bot.woken == []
    loud = await bot.ask("/rematch az-ir 24 announce")
    assert "over 2 item(s) of the last 24 h (1 already flagged): 1 newly flagged" in loud
    assert "Nakhchivan border: Iran reopens crossing" in loud
    assert "being sent" in loud
    assert await _outbox(bot.engine) == [-100700]
    assert bot.woken == [True]
    assert "no topic 'nosuch'" in await bot.ask("/rematch nosuch")
    assert "HOURS is" in await bot.ask("/rematch az-ir 0")


# ------------------------------------------------- one command on its own, without PTB


async def test_one_operator_command_method_edits_without_telegram(
    db_engine: AsyncEngine, tmp_path: Path
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "sources.toml").write_text(SOURCES_TOML.format(base="http://127.0.0.1:9"))
    (config_dir / "topics.toml").write_text(TOPICS_TOML)
    live = LiveConfig(config_dir=config_dir, overlay=OverlayStore(db_engine), clock=lambda: T0)
    await live.load()
    chats = ChatStore(db_engine)
    async with make_client(timeout=5.0) as client:
        ctx = AdminContext(
            live=live,
            store=Store(db_engine),
            chat_store=chats,
            ops=OpsStore(db_engine),
            fetcher=Fetcher(client),
            tz=BAKU,
            clock=lambda: T0,
        )
        op = Op(user_id=ADMIN, chat_id=ADMIN, rest="apa 45m", bot=None)  # type: ignore[arg-type]
        reply = await SourceCommands(ctx).interval(op)
        assert reply.startswith("Done:")
        assert live.current.sources[0].interval == 45 * 60
        with pytest.raises(ArgumentError, match="a source id and a duration are needed"):
            await SourceCommands(ctx).interval(Op(ADMIN, ADMIN, "apa", None))  # type: ignore[arg-type]
        explained = await TermCommands(ctx).testmatch(Op(ADMIN, ADMIN, "Baku and Tehran", None))  # type: ignore[arg-type]
        assert "az-ir" in explained
