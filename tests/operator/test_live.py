"""LiveConfig on a real database (SQLite and PostgreSQL): files + stored edits, audit, undo, watch."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_config
from bot.errors import ConfigError
from bot.models import Topic
from bot.operator.edits import (
    AddMask,
    AddSource,
    AddTerm,
    AddVeto,
    Edit,
    PauseSource,
    RemoveMask,
    RemoveSource,
    RemoveTerm,
    ResumeSource,
    SetInterval,
)
from bot.operator.export import export_config
from bot.operator.live import Effective, LiveConfig
from bot.storage.overlay import OverlayStore

REPO = Path(__file__).resolve().parents[2]
TOPIC = "azerbaijan-iran"
SOURCES = """\
# Outlets for the tests.
[defaults]
interval = "10m"

[[sources]]
# the first outlet
id = "alpha"
name = "Alpha"
url = "https://alpha.example/feed"

[[sources]]
id = "beta"  # the second outlet
name = "Beta"
url = "https://beta.example/rss"
enabled = false
"""
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "sources.toml").write_text(SOURCES, encoding="utf-8")
    shutil.copy(REPO / "config" / "topics.toml", directory / "topics.toml")
    return directory


def make_live(config_dir: Path, engine: AsyncEngine) -> LiveConfig:
    return LiveConfig(config_dir=config_dir, overlay=OverlayStore(engine), clock=Clock())


@pytest.fixture
async def live(config_dir: Path, db_engine: AsyncEngine) -> LiveConfig:
    config = make_live(config_dir, db_engine)
    await config.load()
    return config


def source(effective: Effective, sid: str):
    return next((s for s in effective.sources if s.id == sid), None)


def topic(effective: Effective) -> Topic:
    return next(t for t in effective.topics if t.id == TOPIC)


def group(effective: Effective, name: str) -> tuple[str, ...]:
    return next(g.terms for g in topic(effective).groups if g.name == name)


@pytest.mark.parametrize(
    ("edit", "check"),
    [
        (
            AddSource("gamma", "https://gamma.example/feed", "Gamma"),
            lambda e: getattr(source(e, "gamma"), "interval", None) == 600,
        ),
        (RemoveSource("alpha"), lambda e: source(e, "alpha") is None),
        (PauseSource("alpha"), lambda e: source(e, "alpha").enabled is False),
        (ResumeSource("beta"), lambda e: source(e, "beta").enabled is True),
        (RemoveSource("beta"), lambda e: source(e, "beta") is None),
        (SetInterval("alpha", 300), lambda e: source(e, "alpha").interval == 300),
        (
            AddTerm(TOPIC, "azerbaijan", "Ganja city"),
            lambda e: "Ganja city" in group(e, "azerbaijan"),
        ),
        (RemoveTerm(TOPIC, "iran", "Tehran*"), lambda e: "Tehran*" not in group(e, "iran")),
        (AddMask(TOPIC, "Azerbaijan Street"), lambda e: "Azerbaijan Street" in topic(e).masks),
        (RemoveMask(TOPIC, "East Azerbaijan*"), lambda e: "East Azerbaijan*" not in topic(e).masks),
        (AddVeto(TOPIC, "Eurovision"), lambda e: "Eurovision" in topic(e).vetoes),
    ],
)
async def test_each_edit_applies_shows_in_current_and_survives_a_restart(
    live: LiveConfig, config_dir: Path, db_engine: AsyncEngine, edit: Edit, check
):
    assert not check(live.current)
    await live.apply(edit, actor="telegram:42")
    assert check(live.current)
    restarted = make_live(config_dir, db_engine)
    assert check(await restarted.load())


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (SetInterval("alpha", 5), "interval: must be at least 10s"),
        (AddSource("alpha", "https://new.example/feed"), "duplicate id: source 'alpha'"),
        (AddSource("gamma", "https://alpha.example/feed/"), "duplicate URL: source 'alpha'"),
        (AddSource("Bad Id", "https://new.example/feed"), "id: must be a slug"),
        (AddSource("gamma", "ftp://new.example/feed"), "url: must be an http:// or https:// URL"),
        (AddTerm("nope", "azerbaijan", "Ganja"), "there is no topic 'nope'"),
        (AddTerm(TOPIC, "nope", "Ganja"), f"topic '{TOPIC}' has no group 'nope'"),
        (AddTerm(TOPIC, "azerbaijan", "ab*"), "a stem needs at least 3 letters"),
        (AddTerm(TOPIC, "azerbaijan", "Tehran"), "is also in groups"),
        (AddVeto(TOPIC, "***"), "veto"),
        (PauseSource("beta"), "already paused"),
    ],
)
async def test_a_bad_edit_is_refused_with_the_reason_and_changes_nothing(
    live: LiveConfig, edit: Edit, reason: str
):
    heard: list[Effective] = []

    async def listener(effective: Effective) -> None:
        heard.append(effective)

    live.subscribe(listener)
    before = live.current
    with pytest.raises(ConfigError) as caught:
        await live.apply(edit, actor="telegram:42")
    assert reason in str(caught.value)
    assert live.current is before
    assert await live.audit() == []
    assert heard == []


async def test_listeners_are_called_with_the_new_config_after_each_change(live: LiveConfig):
    heard: list[Effective] = []

    async def listener(effective: Effective) -> None:
        heard.append(effective)

    live.subscribe(listener)
    await live.apply(PauseSource("alpha"), actor="cli:ops")
    await live.undo(actor="cli:ops")
    await live.reload()
    assert [source(e, "alpha").enabled for e in heard] == [False, True, True]
    assert heard[-1] is live.current


async def test_undo_restores_the_previous_config_and_is_itself_audited(live: LiveConfig):
    original = live.current
    await live.apply(AddTerm(TOPIC, "azerbaijan", "Ganja city"), actor="telegram:1")
    await live.apply(SetInterval("alpha", 60), actor="telegram:1")

    result = await live.undo(actor="telegram:2")
    assert result.summary == "undo #2 (set the interval of source 'alpha' to 1m)"
    assert (result.before["interval"], result.after["interval"]) == ("1m", "10m")
    assert source(live.current, "alpha").interval == 600
    assert "Ganja city" in group(live.current, "azerbaijan")

    await live.undo(actor="telegram:2")
    assert live.current.sources == original.sources
    assert live.current.topics == original.topics
    trail = await live.audit(10)
    assert [(e.action, e.actor, e.undone) for e in trail] == [
        ("undo", "telegram:2", False),
        ("undo", "telegram:2", False),
        ("interval", "telegram:1", True),
        ("addterm", "telegram:1", True),
    ]
    with pytest.raises(ConfigError, match="nothing to undo"):
        await live.undo(actor="telegram:2")


async def test_undo_survives_a_restart(live: LiveConfig, config_dir: Path, db_engine: AsyncEngine):
    await live.apply(PauseSource("alpha"), actor="telegram:1")
    await live.undo(actor="telegram:1")
    restarted = make_live(config_dir, db_engine)
    assert source(await restarted.load(), "alpha").enabled is True


async def test_audit_lists_who_when_what_before_and_after_newest_first(live: LiveConfig):
    await live.apply(AddTerm(TOPIC, "azerbaijan", "Ganja city"), actor="telegram:42")
    await live.apply(PauseSource("alpha"), actor="cli:ops")
    newest, oldest = await live.audit(2)
    assert (newest.actor, newest.action, newest.target) == ("cli:ops", "pause", "source alpha")
    assert (newest.before["enabled"], newest.after["enabled"]) == (True, False)
    assert newest.summary == "pause source 'alpha'"
    assert (oldest.actor, oldest.target) == ("telegram:42", f"{TOPIC}/azerbaijan")
    assert oldest.after == [*oldest.before, "Ganja city"]
    assert T0 < oldest.at < newest.at
    assert [e.id for e in await live.audit(1)] == [newest.id]


async def test_a_recorded_change_is_audited_but_undo_reverts_the_last_config_edit(
    live: LiveConfig,
):
    await live.apply(PauseSource("alpha"), actor="telegram:1")
    record_id = await live.record(
        actor="telegram:1", action="addchannel", target="channel -1001", before=None, after=["t"]
    )
    assert (await live.audit(1))[0].id == record_id
    result = await live.undo(actor="telegram:1")
    assert result.summary.startswith("undo #1 ")
    assert source(live.current, "alpha").enabled is True


async def test_a_file_change_shows_through_what_the_operator_did_not_edit(
    live: LiveConfig, config_dir: Path
):
    await live.apply(PauseSource("alpha"), actor="telegram:1")
    path = config_dir / "sources.toml"
    path.write_text(path.read_text().replace("alpha.example/feed", "alpha.example/new"))
    effective = await live.reload()
    assert source(effective, "alpha").url == "https://alpha.example/new"
    assert source(effective, "alpha").enabled is False


async def test_a_stored_edit_the_files_no_longer_allow_is_skipped_and_named(
    live: LiveConfig, config_dir: Path
):
    await live.apply(PauseSource("alpha"), actor="telegram:1")
    await live.apply(AddSource("gamma", "https://gamma.example/feed"), actor="telegram:1")
    path = config_dir / "sources.toml"
    text = path.read_text().replace('id = "alpha"', 'id = "alpha2"')
    path.write_text(text + '\n[[sources]]\nid = "gamma"\nname = "G"\nurl = "https://g.example/"\n')
    effective = await live.reload()
    assert [s.id for s in effective.sources] == ["alpha2", "beta", "gamma"]
    assert source(effective, "gamma").url == "https://g.example/"  # the file wins
    assert len(effective.stale) == 2
    assert "#1 pause source 'alpha': there is no source 'alpha'" in effective.stale[0]
    assert "duplicate id" in effective.stale[1]


async def test_reload_with_a_broken_file_keeps_the_last_good_config_and_raises(
    live: LiveConfig, config_dir: Path
):
    good = live.current
    (config_dir / "sources.toml").write_text('[[sources]]\nid = "x"\nurl = "nope"\n')
    with pytest.raises(ConfigError) as caught:
        await live.reload()
    assert "sources.toml: source 'x'" in str(caught.value)
    assert live.current is good
    # Edits still apply, over the last good files.
    await live.apply(PauseSource("alpha"), actor="telegram:1")
    assert source(live.current, "alpha").enabled is False


async def test_watch_reports_a_broken_file_once_keeps_the_last_good_and_reloads_when_fixed(
    live: LiveConfig, config_dir: Path
):
    errors: asyncio.Queue[ConfigError] = asyncio.Queue()
    changes: asyncio.Queue[Effective] = asyncio.Queue()

    async def on_error(exc: ConfigError) -> None:
        await errors.put(exc)

    async def listener(effective: Effective) -> None:
        await changes.put(effective)

    live.subscribe(listener)
    good = live.current
    watcher = asyncio.create_task(live.watch(interval=0.02, on_error=on_error))
    try:
        path = config_dir / "sources.toml"
        path.write_text(SOURCES + "[[sources]\n")  # a TOML syntax error
        error = await asyncio.wait_for(errors.get(), 5)
        assert "sources.toml: TOML syntax error" in str(error)
        assert live.current is good
        await asyncio.sleep(0.1)  # several polls of the same broken file
        assert errors.empty()

        path.write_text(SOURCES.replace('"10m"', '"20m"'))
        fixed = await asyncio.wait_for(changes.get(), 5)
        assert source(fixed, "alpha").interval == 1200
        assert live.current is fixed
    finally:
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher


async def test_watch_puts_edits_made_by_another_process_in_force(
    live: LiveConfig, config_dir: Path, db_engine: AsyncEngine
):
    other = make_live(config_dir, db_engine)  # e.g. `python -m bot config` on the same database
    await other.load()
    changes: asyncio.Queue[Effective] = asyncio.Queue()

    async def listener(effective: Effective) -> None:
        await changes.put(effective)

    async def on_error(exc: ConfigError) -> None:
        raise AssertionError(exc)

    live.subscribe(listener)
    watcher = asyncio.create_task(live.watch(interval=0.02, on_error=on_error))
    try:
        await other.apply(AddSource("gamma", "https://gamma.example/feed"), actor="cli:ops")
        effective = await asyncio.wait_for(changes.get(), 5)
        assert source(effective, "gamma") is not None
    finally:
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher


async def test_an_edit_checks_against_edits_stored_by_another_process(
    live: LiveConfig, config_dir: Path, db_engine: AsyncEngine
):
    other = make_live(config_dir, db_engine)
    await other.load()
    await other.apply(AddSource("gamma", "https://gamma.example/feed"), actor="cli:ops")
    with pytest.raises(ConfigError, match="duplicate id"):
        await live.apply(AddSource("gamma", "https://gamma2.example/feed"), actor="telegram:1")
    await live.apply(PauseSource("gamma"), actor="telegram:1")  # it knows gamma now
    assert source(live.current, "gamma").enabled is False


async def test_a_failing_listener_does_not_undo_the_edit_or_silence_the_others(live: LiveConfig):
    heard: list[Effective] = []

    async def broken(effective: Effective) -> None:
        raise RuntimeError("listener bug")

    async def listener(effective: Effective) -> None:
        heard.append(effective)

    live.subscribe(broken)
    live.subscribe(listener)
    await live.apply(PauseSource("alpha"), actor="telegram:1")
    assert heard == [live.current]
    assert source(live.current, "alpha").enabled is False


async def test_current_before_load_is_an_error(config_dir: Path, db_engine: AsyncEngine):
    with pytest.raises(RuntimeError, match="load"):
        _ = make_live(config_dir, db_engine).current


async def test_export_keeps_the_comments_and_round_trips_through_load_config(
    live: LiveConfig, config_dir: Path, tmp_path: Path
):
    await live.apply(AddSource("gamma", "https://gamma.example/feed", "Gamma"), actor="t:1")
    await live.apply(PauseSource("alpha"), actor="t:1")
    await live.apply(AddTerm(TOPIC, "azerbaijan", "Ganja city"), actor="t:1")
    await live.apply(RemoveTerm(TOPIC, "iran", "Tehran*"), actor="t:1")
    out = tmp_path / "exported"
    export_config(config_dir, live.data, out)

    sources_text = (out / "sources.toml").read_text()
    assert "# the first outlet" in sources_text
    assert 'id = "beta"  # the second outlet' in sources_text
    original_topics = (config_dir / "topics.toml").read_text()
    comments = [line for line in original_topics.splitlines() if line.lstrip().startswith("#")]
    exported_topics = (out / "topics.toml").read_text()
    assert all(comment in exported_topics for comment in comments)

    loaded = load_config({"BOT_CONFIG_DIR": str(out)})
    assert loaded.sources == live.current.sources
    assert loaded.topics == live.current.topics
