"""Operators and the desk's labels, through the real PTB Application and the Bot API emulator:
every edit of the topics replies with its effect on the labelled items, and `/quality` shows the
desk's verdicts on a prepared history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds.fetch import Fetcher, make_client
from bot.models import Item, MatchedItem, Source, TermHit, TopicMatch, Validators
from bot.operator.live import LiveConfig
from bot.storage.chats import ChatStore
from bot.storage.items import Store
from bot.storage.labels import LabelStore, NewLabel, Vote
from bot.storage.ops import OpsStore
from bot.storage.outbox import Outbox
from bot.storage.outbox_sends import OutboxSends
from bot.storage.overlay import OverlayStore
from bot.telegram.admin import make_admin_handlers
from bot.telegram.app import build_application, start, stop
from tests.emulator.server import SentMessage, TelegramEmulator

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ADMIN, STRANGER, COLLEAGUE = 7001, 7002, 7005
TOPICS_TOML = """
[[topics]]
id = "az-ir"
name = "Azerbaijan–Iran"
require = ["az", "ir"]
list_terms = ["Azerbaijan", "Iran", "Turkey", "Georgia"]
list_min = 3
joint_terms = ["signed"]

[topics.groups]
az = ["Baku", "Azerbaijan*"]
ir = ["Tehran", "Iran*"]

[[topics.entities]]
id = "irgc"
kind = "institution"
state = "ir"
forms = ["IRGC"]
"""
SOURCES = [
    Source("apa", "APA", "https://apa.example/rss", 600.0),
    Source("irna", "IRNA", "https://irna.example/rss", 600.0),
]
# (source, key, title, the desk's verdicts)
HISTORY = [
    ("apa", "a1", "Baku hosts Iranian minister", [True]),
    ("apa", "a2", "Baku mayor meets Iranian chef", [False, False]),
    ("irna", "i1", "IRGC delegation arrives in Baku", [False]),
    ("irna", "i2", "Iran, Turkey and Azerbaijan signed a transit deal", [True]),
    ("irna", "i3", "Tehran and Baku discuss the Aras corridor", []),  # pushed, not labelled
]


@dataclass
class Harness:
    emu: TelegramEmulator
    live: LiveConfig
    labels: LabelStore
    store: Store
    chats: ChatStore
    engine: AsyncEngine

    async def ask(self, text: str) -> str:
        before = len(self.emu.sent_messages(ADMIN))
        self.emu.send_command(ADMIN, text, user_id=ADMIN)
        sent: list[SentMessage] = await self.emu.wait_for_messages_async(ADMIN, before + 1)
        return sent[before].plain_text


@pytest.fixture
async def desk(
    telegram_api: TelegramEmulator, db_engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Harness]:
    telegram_api.configure(rate_limits=None)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "sources.toml").write_text("")
    (config_dir / "topics.toml").write_text(TOPICS_TOML)
    clock = lambda: T0  # noqa: E731
    live = LiveConfig(config_dir=config_dir, overlay=OverlayStore(db_engine), clock=clock)
    await live.load()
    chats, labels = ChatStore(db_engine), LabelStore(db_engine)
    store = Store(db_engine, on_flagged=[Outbox(db_engine).enqueue])
    await store.sync_sources(SOURCES, now=T0)
    async with make_client(timeout=5.0) as client:
        handlers = make_admin_handlers(
            admin_ids=[ADMIN],
            live=live,
            store=store,
            chat_store=chats,
            ops=OpsStore(db_engine),
            fetcher=Fetcher(client),
            tz=ZoneInfo("Asia/Baku"),
            clock=clock,
            labels=labels,
        )
        app = build_application(
            telegram_api.token, base_url=telegram_api.api_url, handlers=handlers
        )
        await start(app, webhook_url=None, port=None)
        try:
            yield Harness(telegram_api, live, labels, store, chats, db_engine)
        finally:
            await stop(app)


async def label(desk: Harness, title: str, verdict: bool, *, who: int = ADMIN) -> None:
    """A labelled item as an earlier press left it (the item itself long gone)."""
    vote = Vote(f"telegram:{who}", verdict, T0 - timedelta(hours=1), who, f"@user{who}", who)
    new = NewLabel(f"apa/{title}", title, "", "en", "APA", None, None, ("az-ir",), (vote,), True)
    await desk.labels.add([new], now=T0)


async def test_an_edit_that_turns_verdicts_wrong_says_so_and_can_be_undone(desk: Harness) -> None:
    await label(desk, "Baku hosts Iranian minister", True)
    await label(desk, "Baku mayor meets Iranian chef", False)
    await label(desk, "Paris and Tehran talk weather", False)
    reply = await desk.ask("/removeterm az-ir az Baku")
    assert reply.startswith("Done:")
    assert "Labelled items: this edit changes 2 of 3 verdicts." in reply
    assert (
        "This edit would miss 1 item the desk marked relevant: “Baku hosts Iranian minister” (APA)"
        in reply
    )
    assert "It puts 1 item right: “Baku mayor meets Iranian chef” (APA)" in reply
    await desk.ask("/undo")
    reply = await desk.ask("/addterm az-ir az Paris")
    assert (
        "This edit would flag 1 item the desk marked not relevant: "
        "“Paris and Tehran talk weather” (APA)" in reply
    )
    reply = await desk.ask("/addveto az-ir minister")
    assert "would miss 1 item the desk marked relevant: “Baku hosts Iranian minister”" in reply
    reply = await desk.ask('/addmask az-ir "Baku mayor"')
    assert "It puts 1 item right: “Baku mayor meets Iranian chef” (APA)" in reply
    assert "would miss" not in reply


async def test_an_edit_that_changes_no_labelled_verdict_says_so(desk: Harness) -> None:
    await label(desk, "Baku hosts Iranian minister", True)
    reply = await desk.ask("/addterm az-ir ir Mashhad")
    assert "Labelled items: this edit changes none of the 1 verdicts." in reply
    assert "would miss" not in reply


async def test_without_labels_an_edit_replies_as_before(desk: Harness) -> None:
    reply = await desk.ask("/addterm az-ir ir Mashhad")
    assert reply.startswith("Done:")
    assert "Labelled" not in reply


async def pushed_history(desk: Harness) -> None:
    """The HISTORY items stored, pushed to the operator's chat, and labelled as listed."""
    await desk.chats.subscribe(
        ADMIN, kind="private", title=None, topics=["az-ir"], thread_id=None, now=T0
    )
    for n, (source, key, title, _) in enumerate(HISTORY):
        item = Item(source, key, f"https://{source}.example/{key}", title, "", T0, "en")
        match = TopicMatch("az-ir", (TermHit("az", "Baku", "title", "Baku"),))
        await desk.store.save_fetch(
            source,
            items=[MatchedItem(item, (match,))],
            validators=Validators(),
            now=T0 - timedelta(days=1, minutes=n),
            next_poll=T0,
            announce=True,
        )
    sends = OutboxSends(desk.engine)
    for n, row in enumerate(await Outbox(desk.engine).next_pending(ADMIN)):
        await sends.mark_sent(row.outbox_id, message_id=n + 1, now=T0 - timedelta(days=1))
    by_key = {s.item.key: s.id for s in await desk.store.latest(10)}
    for source, key, _, verdicts in HISTORY:
        for who, verdict in zip((ADMIN, COLLEAGUE), verdicts, strict=False):
            await desk.labels.record(
                by_key[key],
                relevant=verdict,
                user_id=who,
                user_name=f"@user{who}",
                chat_id=ADMIN,
                now=T0 - timedelta(hours=len(verdicts) + (1 if source == "apa" else 0)),
            )


async def test_quality_shows_the_desks_verdicts_on_what_was_pushed(desk: Harness) -> None:
    await pushed_history(desk)
    reply = await desk.ask("/quality")
    lines = reply.splitlines()
    assert lines[0] == "Last 7 days: 5 label(s) on 4 item(s)."
    assert lines[1] == "Pushed: 5 item(s); marked not relevant: 2 (40%)."
    assert "  APA: 1/2 (50%)" in lines
    assert "  IRNA: 1/3 (33%)" in lines
    assert "  terms: 2/4 (50%)" in lines  # every flagged item has a term
    assert "  entities: 1/1 (100%)" in lines  # the IRGC item
    assert "  lists: 0/1 (0%)" in lines  # the signed deal
    wrong = lines[lines.index("Most recently marked not relevant:") + 1 :]
    assert wrong[0].startswith("  “")
    assert {w.split("”")[0].lstrip(" “") for w in wrong} == {
        "Baku mayor meets Iranian chef",
        "IRGC delegation arrives in Baku",
    }
    assert any("@user7001" in w and "@user7005" in w for w in wrong)  # names, for operators


async def test_quality_takes_a_window_and_refuses_a_bad_one(desk: Harness) -> None:
    await pushed_history(desk)
    assert (await desk.ask("/quality 30m")).splitlines()[0] == "Last 30m: 0 label(s) on 0 item(s)."
    assert (await desk.ask("/quality 30d")).startswith("Last 30 days: 5 label(s)")
    assert "not a duration" in await desk.ask("/quality soon")


async def test_quality_and_edits_are_refused_to_non_operators(desk: Harness) -> None:
    await label(desk, "Baku hosts Iranian minister", True)
    before = desk.live.current.topics
    for n, command in enumerate(("/quality", "/removeterm az-ir az Baku"), start=1):
        desk.emu.send_command(STRANGER, command, user_id=STRANGER)
        reply = (await desk.emu.wait_for_messages_async(STRANGER, n))[-1]
        assert reply.plain_text == "Sorry, this command is for the bot's operators."
    assert desk.live.current.topics == before
