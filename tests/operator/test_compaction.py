"""Compaction of the operator edit log: the plan (pure) and `LiveConfig.compact` on a real database.

A long random history of edits and undos is compacted; the effective config must not change, the
log must shrink, the audit trail must say what went, and `/undo` must still walk back through
the recent edits exactly as it would have without the compaction.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import ConfigError
from bot.operator.compaction import plan, unordered
from bot.operator.edits import (
    AddMask,
    AddSource,
    AddTerm,
    Edit,
    PauseSource,
    RemoveMask,
    RemoveSource,
    RemoveTerm,
    ResumeSource,
    SetInterval,
    to_json,
)
from bot.operator.live import Effective, LiveConfig
from bot.storage.engine import make_engine, migrate
from bot.storage.overlay import ChangeRow, OverlayStore
from tests.operator.test_live import TOPIC, Clock, config_dir, make_live  # noqa: F401 (fixture)

AT = datetime(2025, 3, 1, tzinfo=UTC)


def row(n: int, edit: Edit | None, *, undone: bool = False, undoes: int | None = None) -> ChangeRow:
    return ChangeRow(
        id=n,
        at=AT,
        actor="cli:test",
        action="edit" if edit else "undo",
        target="t",
        summary=f"change {n}",
        edit=to_json(edit) if edit else None,
        before=None,
        after=None,
        undone=undone,
        undoes=undoes,
    )


def test_the_plan_folds_old_edits_and_leaves_recent_ones() -> None:
    rows = [
        row(1, PauseSource("alpha")),
        row(2, SetInterval("alpha", 300)),
        row(3, ResumeSource("alpha")),  # supersedes 1
        row(4, AddTerm(TOPIC, "azerbaijan", "Ganja")),
        row(5, RemoveTerm(TOPIC, "azerbaijan", "ganja")),  # supersedes 4 (spelling folded)
        row(6, AddSource("gamma", "https://gamma.example/feed"), undone=True),
        row(7, None, undoes=6),  # 6 and 7 go together
        row(8, AddSource("delta", "https://delta.example/feed")),
        row(9, PauseSource("delta")),
        row(10, RemoveSource("delta")),  # supersedes 8 and 9
        row(11, SetInterval("alpha", 600)),  # recent: kept, and 2 stays too
        row(12, AddMask(TOPIC, "Baku Street"), undone=True),
        row(13, None, undoes=12),
    ]
    result = plan(rows, keep_recent=3)
    assert result.remove == (1, 4, 6, 7, 8, 9)
    assert (result.superseded, result.undone, result.upto) == (4, 1, 10)
    assert plan(rows, keep_recent=len(rows)).remove == ()


def test_an_undone_edit_whose_undo_is_recent_is_kept() -> None:
    rows = [row(1, RemoveMask(TOPIC, "x"), undone=True), row(2, None, undoes=1)]
    assert plan(rows, keep_recent=1).remove == ()


def random_edit(rng: random.Random) -> Edit:
    sid = rng.choice(["alpha", "beta", "gamma"])
    term = rng.choice(["Ganja", "Lankaran", "Sumgait"])
    return rng.choice(
        [
            PauseSource(sid),
            ResumeSource(sid),
            SetInterval(sid, rng.choice([60, 300, 900])),
            AddSource(sid, f"https://{sid}.example/feed"),
            RemoveSource(sid),
            AddTerm(TOPIC, "azerbaijan", term),
            RemoveTerm(TOPIC, "azerbaijan", term),
            AddMask(TOPIC, f"{term} Street"),
            RemoveMask(TOPIC, f"{term} Street"),
        ]
    )


async def history(live: LiveConfig, rng: random.Random, n: int) -> None:
    """`n` accepted changes: random edits (refused ones skipped) and some undos."""
    done = 0
    while done < n:
        try:
            if rng.random() < 0.2:
                await live.undo(actor="cli:test")
            else:
                await live.apply(random_edit(rng), actor="cli:test")
        except ConfigError:
            continue
        done += 1


def shape(effective: Effective) -> tuple[object, ...]:
    # Folding may move a term within its group; the matcher does not care (see compaction).
    return (effective.sources, unordered(effective.topics))


@pytest.fixture
async def twin_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A second database (SQLite) for the same history, left uncompacted."""
    engine = make_engine(f"sqlite:///{tmp_path}/twin.db")
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_compaction_keeps_the_config_and_undo_walks_back_as_before(
    config_dir: Path,  # noqa: F811 (the fixture)
    db_engine: AsyncEngine,
    twin_engine: AsyncEngine,
) -> None:
    live, twin = make_live(config_dir, db_engine), make_live(config_dir, twin_engine)
    await live.load()
    await twin.load()
    await history(live, random.Random(5), 40)
    await history(twin, random.Random(5), 40)
    assert shape(live.current) == shape(twin.current)
    overlay = OverlayStore(db_engine)
    rows_before = await overlay.count()
    keep = 8
    recent = [r for r in (await overlay.audit(keep)) if r.edit is not None and not r.undone]

    result = await live.compact(actor="cli:test", keep_recent=keep)
    assert len(result.remove) > 5
    assert await overlay.count() == rows_before - len(result.remove) + 1
    assert shape(live.current) == shape(twin.current)
    assert shape(await make_live(config_dir, db_engine).load()) == shape(twin.current)
    newest = (await live.audit(1))[0]
    assert (newest.action, newest.summary) == ("compact", result.summary)
    assert f"up to #{result.upto}" in newest.summary

    # /undo through every recent edit gives, step by step, what it gives on the uncompacted log.
    assert recent
    for _ in recent:
        undone, twin_undone = await live.undo(actor="cli:test"), await twin.undo(actor="cli:test")
        assert undone.summary == twin_undone.summary
        assert shape(live.current) == shape(twin.current)

    # Nothing left to fold within the kept changes: a second compaction removes nothing.
    again = await live.compact(actor="cli:test", keep_recent=10_000)
    assert again.remove == ()


async def test_the_log_compacts_itself_past_the_threshold(
    config_dir: Path,  # noqa: F811 (the fixture)
    db_engine: AsyncEngine,
) -> None:
    overlay = OverlayStore(db_engine)
    live = LiveConfig(
        config_dir=config_dir, overlay=overlay, clock=Clock(), compact_at=20, compact_keep=6
    )
    await live.load()
    for n in range(15):  # pause/resume pairs: all but the newest fold away
        await live.apply(PauseSource("alpha"), actor="cli:test")
        await live.apply(ResumeSource("alpha"), actor="cli:test")
        assert await overlay.count() <= 21, n
    actions = [e.action for e in await live.audit(100)]
    assert actions.count("compact") >= 1
    assert len(actions) <= 21
    assert next(s for s in live.current.sources if s.id == "alpha").enabled is True
