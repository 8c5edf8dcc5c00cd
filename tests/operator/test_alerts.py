"""Operator alerts: the pure decisions, the texts, and the sending through the Bot API emulator."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.errors import ConfigError
from bot.feeds.fetch import Fetcher
from bot.markup import utf16_len, visible_text
from bot.models import Source, SourceState, StoredItem, TermGroup, Topic
from bot.operator.alerts import (
    Alert,
    AlertPolicy,
    ConfigAlerts,
    SourceAlerts,
    Watch,
    alert_text,
    config_error_text,
    notify_admins,
    primed,
    step,
)
from bot.operator.live import LiveConfig
from bot.pipeline import Pipeline
from bot.storage.items import Store
from bot.storage.overlay import OverlayStore
from bot.topics.matcher import compile_topics
from tests.emulator.server import Fault, TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BAKU = ZoneInfo("Asia/Baku")
POLICY = AlertPolicy(failures=3, silence=timedelta(hours=48))
ADMINS = (501, 502)


def run(
    watch: Watch,
    outcomes: Sequence[tuple[bool, int]],
    *,
    start: datetime = T0,
    every=timedelta(hours=1),
) -> tuple[Watch, list[list[str]]]:
    """Feed (ok, new_items) runs an hour apart; the alert kinds of each run."""
    kinds: list[list[str]] = []
    for n, (ok, new) in enumerate(outcomes):
        watch, alerts = step(
            watch,
            source_id="s1",
            ok=ok,
            new_items=new,
            error=None if ok else "HTTP 500",
            now=start + n * every,
            policy=POLICY,
        )
        kinds.append([a.kind for a in alerts])
    return watch, kinds


FAIL, OK, NEW = (False, 0), (True, 0), (True, 2)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        pytest.param([FAIL, FAIL], [[], []], id="below-threshold-says-nothing"),
        pytest.param([FAIL, FAIL, FAIL], [[], [], ["failing"]], id="threshold-alerts"),
        pytest.param(
            [FAIL] * 6, [[], [], ["failing"], [], [], []], id="one-alert-however-long-it-fails"
        ),
        pytest.param(
            [FAIL, FAIL, FAIL, FAIL, OK, OK],
            [[], [], ["failing"], [], ["recovered"], []],
            id="one-recovery",
        ),
        pytest.param([FAIL, FAIL, OK, FAIL, FAIL], [[]] * 5, id="a-good-run-resets-the-count"),
        pytest.param([FAIL, FAIL, NEW], [[], [], []], id="no-recovery-without-an-alert"),
    ],
)
def test_failure_alerts_come_once_at_the_threshold_and_once_on_recovery(
    outcomes: list[tuple[bool, int]], expected: list[list[str]]
) -> None:
    _, kinds = run(Watch(), outcomes)
    assert kinds == expected


def test_silence_alerts_once_after_the_threshold_and_new_items_end_it() -> None:
    day = timedelta(hours=24)
    watch, kinds = run(Watch(last_new=T0), [OK, OK, OK, OK, NEW, OK], start=T0 + day, every=day / 2)
    # T0+24h, +36h: quiet but within 48h; +48h: alert; +60h: already told; +72h: news; then quiet.
    assert kinds == [[], [], ["silent"], [], ["resumed"], []]
    assert watch.last_new == T0 + day + 4 * day / 2


def test_silence_is_not_judged_while_a_failing_alert_stands() -> None:
    watch = Watch(failures=3, failing=True, last_new=T0)
    _, kinds = run(watch, [FAIL, FAIL], start=T0 + timedelta(days=5))
    assert kinds == [[], []]


def test_a_source_never_seen_counts_its_silence_from_its_first_run() -> None:
    watch, kinds = run(Watch(), [OK, OK], every=timedelta(hours=47))
    assert kinds == [[], []]
    assert watch.last_new == T0


@pytest.mark.parametrize(
    ("stored_failures", "first_run", "expected"),
    [
        pytest.param(5, OK, ["recovered"], id="alerted-before-restart-recovers"),
        pytest.param(5, FAIL, [], id="alerted-before-restart-not-again"),
        pytest.param(2, FAIL, ["failing"], id="restart-keeps-the-count"),
        pytest.param(0, OK, [], id="healthy"),
    ],
)
def test_memory_rebuilt_from_the_store_after_a_restart(
    stored_failures: int, first_run: tuple[bool, int], expected: list[str]
) -> None:
    state = SourceState("s1", consecutive_failures=stored_failures)
    _, kinds = run(primed(state, T0, POLICY), [first_run])
    assert kinds == [expected]


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least one"):
        AlertPolicy(failures=0)
    with pytest.raises(ValueError, match="positive"):
        AlertPolicy(silence=timedelta(0))


def test_alert_texts_escape_names_and_errors() -> None:
    source = Source(id="s-1", name="<Caliber> & Co", url="https://x.test/", interval=60)
    failing = alert_text(
        Alert("s-1", "failing", failures=5, error="HTTP 500 <html>"), source, tz=BAKU, policy=POLICY
    )
    assert "&lt;Caliber&gt; &amp; Co" in failing
    assert "HTTP 500 &lt;html&gt;" in failing
    assert "5 times in a row" in failing
    silent = alert_text(Alert("s-1", "silent", since=T0), source, tz=BAKU, policy=POLICY)
    assert "27 Nov 2026, 14:00 +04" in silent
    assert "works again" in alert_text(
        Alert("s-1", "recovered", failures=7), None, tz=BAKU, policy=POLICY
    )


def test_config_error_text_lists_problems_escaped_within_one_message() -> None:
    problems = [
        f"topics.toml: topics[0]: groups.<g{n}>: duplicate term 'x' & more" for n in range(300)
    ]
    text = config_error_text(ConfigError(problems))
    assert "groups.&lt;g0&gt;" in text
    assert "more" in text.rsplit("\n", 2)[0]
    assert utf16_len(visible_text(text)) <= 4096


# ----------------------------------------------------------------- sending through the emulator


@pytest.fixture
async def bot(telegram_api: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as b:
        yield b


async def test_one_admin_who_blocked_the_bot_does_not_stop_the_others(
    telegram_api: TelegramEmulator, bot: Bot
) -> None:
    telegram_api.inject(501, Fault.blocked(), times=None)
    delivered = await notify_admins(bot, ADMINS, "<b>hello</b> &amp; bye")
    assert delivered == 1
    [message] = telegram_api.sent_messages(502)
    assert message.plain_text == "hello & bye"
    assert telegram_api.sent_messages(501) == []


class RecordingMessenger:
    def __init__(self) -> None:
        self.announced: list[StoredItem] = []

    async def announce(self, items: Sequence[StoredItem]) -> None:
        self.announced.extend(items)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def test_a_failing_source_alerts_the_operators_once_then_once_on_recovery(
    telegram_api: TelegramEmulator,
    bot: Bot,
    feed_server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
) -> None:
    clock = Clock()
    topic = Topic("t", "T", groups=(TermGroup("g", ("Baku",)),), require=("g",))
    pipeline = Pipeline(
        fetcher=Fetcher(client),
        store=store,
        matcher=compile_topics([topic]),
        messenger=RecordingMessenger(),
        clock=clock,
        rng=random.Random(1),
    )
    source = Source(id="s1", name="Outlet <one>", url=feed_server.url("/s1.xml"), interval=60)
    await store.sync_sources([source], now=clock())
    feed_server.put("/s1.xml", rss([item(1)]))
    alerts = SourceAlerts(bot=bot, admin_ids=ADMINS, clock=clock, tz=BAKU, policy=POLICY)
    alerts.prime(await store.source_states(), {})

    await alerts.on_report(source, await pipeline.run_source(source))
    feed_server.fail("/s1.xml", 500)
    for _ in range(6):
        clock.now += timedelta(minutes=5)
        await alerts.on_report(source, await pipeline.run_source(source))
    for admin in ADMINS:
        [failing] = telegram_api.sent_messages(admin)
        assert "Outlet <one>" in failing.plain_text
        assert "3 times in a row" in failing.plain_text

    feed_server.clear_faults("/s1.xml")
    feed_server.put("/s1.xml", rss([item(1), item(2)]))
    for _ in range(2):
        clock.now += timedelta(minutes=5)
        await alerts.on_report(source, await pipeline.run_source(source))
    for admin in ADMINS:
        texts = [m.plain_text for m in telegram_api.sent_messages(admin)]
        assert len(texts) == 2
        assert "works again (after 6 failed runs)" in texts[1]


async def test_alert_memory_survives_a_restart_through_the_store(
    telegram_api: TelegramEmulator,
    bot: Bot,
    feed_server: FeedServer,
    store: Store,
    client: httpx.AsyncClient,
) -> None:
    clock = Clock()
    pipeline = Pipeline(
        fetcher=Fetcher(client),
        store=store,
        matcher=compile_topics([Topic("t", "T", (TermGroup("g", ("Baku",)),), ("g",))]),
        messenger=RecordingMessenger(),
        clock=clock,
        rng=random.Random(1),
    )
    source = Source(id="s1", name="Outlet", url=feed_server.url("/s1.xml"), interval=60)
    await store.sync_sources([source], now=clock())
    feed_server.fail("/s1.xml", 503)
    before = SourceAlerts(bot=bot, admin_ids=[501], clock=clock, tz=BAKU, policy=POLICY)
    for _ in range(4):
        await before.on_report(source, await pipeline.run_source(source))
    assert len(telegram_api.sent_messages(501)) == 1

    after = SourceAlerts(bot=bot, admin_ids=[501], clock=clock, tz=BAKU, policy=POLICY)
    after.prime(await store.source_states(), {})
    await after.on_report(source, await pipeline.run_source(source))  # still failing: no repeat
    assert len(telegram_api.sent_messages(501)) == 1
    feed_server.clear_faults("/s1.xml")
    feed_server.put("/s1.xml", rss([item(1)]))
    await after.on_report(source, await pipeline.run_source(source))
    assert "works again" in telegram_api.sent_messages(501)[-1].plain_text


async def test_a_broken_config_is_reported_once_until_a_good_load(
    telegram_api: TelegramEmulator, bot: Bot
) -> None:
    alerts = ConfigAlerts(bot=bot, admin_ids=ADMINS)
    broken = ConfigError(["config/topics.toml: TOML syntax error: Expected '=' (at line 3)"])
    await alerts.on_error(broken)
    await alerts.on_error(ConfigError(list(broken.problems)))
    assert [len(telegram_api.sent_messages(a)) for a in ADMINS] == [1, 1]
    assert "line 3" in telegram_api.sent_messages(501)[0].plain_text
    await alerts.on_change(object())
    await alerts.on_error(broken)
    assert [len(telegram_api.sent_messages(a)) for a in ADMINS] == [2, 2]


async def test_a_broken_config_file_on_disk_reaches_the_operators_through_the_watch(
    telegram_api: TelegramEmulator, bot: Bot, db_engine: AsyncEngine, tmp_path: Path
) -> None:
    (tmp_path / "sources.toml").write_text(
        '[[sources]]\nid = "a"\nname = "A"\nurl = "https://a.test/rss"\ninterval = "10m"\n'
    )
    (tmp_path / "topics.toml").write_text(
        '[[topics]]\nid = "t"\nname = "T"\nrequire = ["g"]\n[topics.groups]\ng = ["Baku"]\n'
    )
    live = LiveConfig(config_dir=tmp_path, overlay=OverlayStore(db_engine), clock=lambda: T0)
    good = await live.load()
    alerts = ConfigAlerts(bot=bot, admin_ids=ADMINS)
    live.subscribe(alerts.on_change)
    watcher = asyncio.create_task(live.watch(interval=0.02, on_error=alerts.on_error))
    try:
        (tmp_path / "topics.toml").write_text(
            '[[topics]]\nid = "t"\nname = "T"\nrequire = ["nope"]\n'
        )
        for admin in ADMINS:
            [message] = await telegram_api.wait_for_messages_async(admin, 1)
            assert "An edited config file has errors" in message.plain_text
            assert "names no group 'nope'" in message.plain_text
        assert live.current is good
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
