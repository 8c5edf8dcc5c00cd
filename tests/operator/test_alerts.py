"""Operator alerts: the pure decisions, the texts, and the sending through the Bot API emulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
from bot.models import Source, StoredItem, TermGroup, Topic
from bot.operator.alerts import (
    Alert,
    AlertPolicy,
    ConfigAlerts,
    Facts,
    SourceAlerts,
    alert_text,
    config_error_text,
    step,
)
from bot.operator.live import LiveConfig
from bot.polling.decide import SourceReport
from bot.polling.pipeline import Pipeline
from bot.storage.items import Store
from bot.storage.leases import SourceClaims
from bot.storage.ops import OpsStore
from bot.storage.overlay import OverlayStore
from bot.telegram.operators import AdminNotifier, notify_admins
from bot.text.markup import utf16_len, visible_text
from bot.topics.matcher import compile_topics
from tests.emulator.server import Fault, TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BAKU = ZoneInfo("Asia/Baku")
POLICY = AlertPolicy(failures=3, silence=timedelta(hours=48))
ADMINS = (501, 502)


def run(
    outcomes: Sequence[tuple[bool, int]],
    *,
    start: datetime = T0,
    every: timedelta = timedelta(hours=1),
    failures: int = 0,
    last_success: datetime | None = None,
    newest: datetime | None = None,
    added: datetime = T0,
) -> list[list[str]]:
    """Feed (ok, new_items) runs `every` apart, the stored facts moving on as the database's do
    (count of failures, last good run, newest item); the alert kinds of each run."""
    kinds: list[list[str]] = []
    for n, (ok, new) in enumerate(outcomes):
        at = start + n * every
        after = 0 if ok else failures + 1
        facts = Facts(
            ok=ok,
            at=at,
            failures_before=failures,
            failures=after,
            last_success_before=last_success,
            new_items=new,
            quiet_since=newest or added,
            error=None if ok else "HTTP 500",
        )
        kinds.append([a.kind for a in step(facts, source_id="s1", policy=POLICY)])
        failures = after
        if ok:
            last_success = at
            newest = at if new else newest
    return kinds


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
    assert run(outcomes) == expected


def test_silence_alerts_once_after_the_threshold_and_new_items_end_it() -> None:
    day = timedelta(hours=24)
    kinds = run(
        [OK, OK, OK, OK, NEW, OK, OK],
        start=T0 + day,
        every=day / 2,
        last_success=T0,
        newest=T0,
    )
    # +24h, +36h: quiet but within 48h; +48h: alert; +60h: already told; +72h: news; then quiet
    # again, counted from the news (+84h, +96h).
    assert kinds == [[], [], ["silent"], [], ["resumed"], [], []]


def test_silence_is_judged_by_good_runs_only_and_the_recovery_tells_it() -> None:
    kinds = run(
        [FAIL, FAIL, OK, OK],
        start=T0 + timedelta(days=5),
        failures=3,
        last_success=T0,
        newest=T0,
    )
    assert kinds == [[], [], ["recovered", "silent"], []]


def test_no_resumed_unless_a_good_run_was_past_the_deadline() -> None:
    # The last good run came an hour before the deadline, so nobody said "silent".
    kinds = run([NEW], start=T0 + timedelta(hours=49), last_success=T0 + timedelta(hours=47))
    assert kinds == [[]]


def test_a_source_without_items_counts_its_silence_from_its_addition() -> None:
    # Was: from the process's first run of it. The database's time of addition is the same for
    # every process, and survives restarts.
    kinds = run([OK, OK, OK], every=timedelta(hours=47), added=T0)
    assert kinds == [[], [], ["silent"]]


@pytest.mark.parametrize(
    ("stored_failures", "first_run", "expected"),
    [
        pytest.param(5, OK, ["recovered"], id="alerted-before-recovers"),
        pytest.param(5, FAIL, [], id="alerted-before-not-again"),
        pytest.param(2, FAIL, ["failing"], id="the-count-is-the-stored-one"),
        pytest.param(0, OK, [], id="healthy"),
    ],
)
def test_any_process_judges_a_run_from_the_stored_count_alone(
    stored_failures: int, first_run: tuple[bool, int], expected: list[str]
) -> None:
    # Was: memory rebuilt from the store at start-up. There is no memory now: a restarted
    # process, or one that never polled the source, sees what every other would.
    assert run([first_run], failures=stored_failures, newest=T0) == [expected]


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


async def test_with_no_operators_set_an_alert_is_logged_not_sent(
    telegram_api: TelegramEmulator, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert await AdminNotifier(bot, ()).__call__("<b>hello</b>") == 0
    assert "no BOT_ADMIN_IDS" in caplog.text
    assert all(telegram_api.sent_messages(a) == [] for a in ADMINS)


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


class Process:
    """What one `python -m bot run` process brings to a source's run: its own engine, pipeline
    and alerts; the database, the feed server, the Bot API and the clock are shared."""

    def __init__(
        self, name: str, engine: AsyncEngine, bot: Bot, client: httpx.AsyncClient, clock: Clock
    ) -> None:
        self.name, self.clock = name, clock
        self.store = Store(engine)
        self.claims = SourceClaims(engine)
        self.pipeline = Pipeline(
            fetcher=Fetcher(client),
            store=self.store,
            matcher=compile_topics([Topic("t", "T", (TermGroup("g", ("Baku",)),), ("g",))]),
            messenger=RecordingMessenger(),
            clock=clock,
            rng=random.Random(1),
        )
        self.alerts = SourceAlerts(
            notify=AdminNotifier(bot, ADMINS),
            last_news=OpsStore(engine).last_news,
            tz=BAKU,
            policy=POLICY,
        )

    async def poll(self, source: Source) -> SourceReport:
        """Claim the source and run it, as the scheduler's job does, then judge the run."""
        state = await self.claims.claim(source.id, self.name, now=self.clock(), ttl=120)
        assert state is not None, f"{self.name} could not claim {source.id}"
        report = await self.pipeline.run_source(source, state=state)
        await self.alerts.on_report(source, report)
        return report


async def test_a_failing_source_alerts_the_operators_once_then_once_on_recovery(
    telegram_api: TelegramEmulator,
    bot: Bot,
    feed_server: FeedServer,
    db_engine: AsyncEngine,
    client: httpx.AsyncClient,
) -> None:
    one = Process("one", db_engine, bot, client, Clock())
    source = Source(id="s1", name="Outlet <one>", url=feed_server.url("/s1.xml"), interval=60)
    await one.store.sync_sources([source], now=one.clock())
    feed_server.put("/s1.xml", rss([item(1)]))

    await one.poll(source)
    feed_server.fail("/s1.xml", 500)
    for _ in range(6):
        one.clock.now += timedelta(hours=2)  # past the backoff: due again
        await one.poll(source)
    for admin in ADMINS:
        [failing] = telegram_api.sent_messages(admin)
        assert "Outlet <one>" in failing.plain_text
        assert "3 times in a row" in failing.plain_text

    feed_server.clear_faults("/s1.xml")
    feed_server.put("/s1.xml", rss([item(1), item(2)]))
    for _ in range(2):
        one.clock.now += timedelta(hours=2)
        await one.poll(source)
    for admin in ADMINS:
        texts = [m.plain_text for m in telegram_api.sent_messages(admin)]
        assert len(texts) == 2
        assert "works again (after 6 failed runs)" in texts[1]


async def test_a_restarted_process_neither_repeats_nor_forgets_an_alert(
    telegram_api: TelegramEmulator,
    bot: Bot,
    feed_server: FeedServer,
    db_engine: AsyncEngine,
    client: httpx.AsyncClient,
) -> None:
    clock = Clock()
    before = Process("before", db_engine, bot, client, clock)
    source = Source(id="s1", name="Outlet", url=feed_server.url("/s1.xml"), interval=60)
    await before.store.sync_sources([source], now=clock())
    feed_server.fail("/s1.xml", 503)
    for _ in range(4):
        clock.now += timedelta(hours=2)
        await before.poll(source)
    assert len(telegram_api.sent_messages(501)) == 1

    after = Process("after", db_engine, bot, client, clock)  # nothing primed: nothing to prime
    clock.now += timedelta(hours=2)
    await after.poll(source)  # still failing: no repeat
    assert len(telegram_api.sent_messages(501)) == 1
    feed_server.clear_faults("/s1.xml")
    feed_server.put("/s1.xml", rss([item(1)]))
    clock.now += timedelta(hours=2)
    await after.poll(source)
    assert "works again" in telegram_api.sent_messages(501)[-1].plain_text


async def test_two_processes_taking_turns_at_a_source_tell_each_change_exactly_once(
    telegram_api: TelegramEmulator,
    bot: Bot,
    feed_server: FeedServer,
    db_engine: AsyncEngine,
    other_engine: AsyncEngine,
    client: httpx.AsyncClient,
) -> None:
    telegram_api.configure(rate_limits=None)  # four alerts within a second of real time
    clock = Clock()
    a = Process("A", db_engine, bot, client, clock)
    b = Process("B", other_engine, bot, client, clock)
    source = Source(id="s1", name="Outlet", url=feed_server.url("/s1.xml"), interval=60)
    await a.store.sync_sources([source], now=clock())
    await b.store.sync_sources([source], now=clock())
    feed_server.put("/s1.xml", rss([item(1)]))
    script = [
        (a, 0, "good", []),  # first sight: item 1 stored at T0
        (b, 2, "fail", []),
        (a, 4, "fail", []),
        (b, 6, "fail", ["failing"]),  # the third in a row, whoever ran the first two
        (a, 8, "fail", []),
        (b, 10, "fail", []),
        (a, 12, "good", ["recovered"]),  # A never said "failing"; the stored count did
        (b, 36, "good", []),
        (a, 60, "good", ["silent"]),  # the first good run past T0 + 48 h
        (b, 62, "good", []),
        (b, 64, "news", ["resumed"]),
        (a, 66, "good", []),
    ]
    told = 0
    for process, hours, action, kinds in script:
        clock.now = T0 + timedelta(hours=hours)
        feed_server.clear_faults("/s1.xml")
        if action == "fail":
            feed_server.fail("/s1.xml", 500)
        elif action == "news":
            feed_server.put("/s1.xml", rss([item(2), item(1)]))
        report = await process.poll(source)
        assert (report.outcome == "failed") == (action == "fail"), (hours, report)
        told += len(kinds)  # one message per alert here: no run calls for two
        assert [len(telegram_api.sent_messages(admin)) for admin in ADMINS] == [told] * 2, hours
    texts = ("has failed 3 times", "works again", "no new items since", "has new items again")
    for admin in ADMINS:
        got = [m.plain_text for m in telegram_api.sent_messages(admin)]
        assert len(got) == len(texts), got
        for text, expected in zip(got, texts, strict=True):
            assert expected in text


async def test_a_broken_config_is_reported_once_until_a_good_load(
    telegram_api: TelegramEmulator, bot: Bot
) -> None:
    alerts = ConfigAlerts(notify=AdminNotifier(bot, ADMINS))
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
    alerts = ConfigAlerts(notify=AdminNotifier(bot, ADMINS))
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
