"""`python -m bot labels export|import`, `match --score` and the `config` edit twins' impact lines,
run as real processes on a real database (SQLite, and PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.labels import LabelStore, NewLabel, Vote
from tests.cli.test_main import REPO, bot_env, run_bot
from tests.topics.test_relevance import DEV_SET

USER, CHAT = 987654321, -100777888


@pytest.fixture
def dev_set() -> Path:
    if not DEV_SET.is_file():
        pytest.skip(f"labelled dev set not found at {DEV_SET}")
    return DEV_SET


def env_for(tmp_path: Path, database_url: str) -> dict[str, str]:
    return bot_env(tmp_path, REPO / "config", database_url)


def exported(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_match_score_on_the_shipped_dev_set_prints_1_00(tmp_path: Path, dev_set: Path) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path}/bot.db")
    out = run_bot("match", "--score", str(dev_set), env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "precision 1.00  recall 1.00  F1 1.00"
    assert "4 without a true/false label, not scored" in lines[1]
    assert "misses (marked relevant, not flagged): none" in lines
    machine = run_bot("match", "--score", "--json", str(dev_set), env=env)
    assert machine.returncode == 0
    report = json.loads(machine.stdout)
    assert (report["precision"], report["recall"], report["f1"]) == (1.0, 1.0, 1.0)
    assert report["misses"] == report["false_alarms"] == []


def test_match_score_judges_todays_config_and_lists_misses_with_evidence(
    tmp_path: Path, dev_set: Path, database_url: str, db_engine: AsyncEngine
) -> None:
    env = env_for(tmp_path, database_url)
    edit = run_bot("config", "removeterm", "azerbaijan-iran", "azerbaijan", "Aliyev*", env=env)
    assert edit.returncode == 0, edit.stderr
    out = run_bot("match", "--score", str(dev_set), env=env)
    assert out.returncode == 0
    assert out.stdout.startswith("precision 1.00  recall 0.97  F1 0.99")
    assert "misses (marked relevant, not flagged): 1" in out.stdout
    assert "  d-055 (" in out.stdout
    assert "azerbaijan-iran: no match (missing: azerbaijan)" in out.stdout


def test_labels_round_trip_through_export_and_import(
    tmp_path: Path, dev_set: Path, database_url: str, db_engine: AsyncEngine
) -> None:
    env = env_for(tmp_path, database_url)
    loaded = run_bot("labels", "import", str(dev_set), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "imported 86 labelled item(s)" in loaded.stderr
    assert "4 without a true/false label" in loaded.stderr
    first = run_bot("labels", "export", env=env)
    assert first.returncode == 0
    lines = exported(first.stdout)
    assert len(lines) == 86
    by_id = {line["id"]: line for line in lines}
    assert by_id["d-005"]["label"] is True
    assert by_id["d-005"]["votes"] == {"relevant": 1, "not_relevant": 0}
    assert by_id["d-001"]["label"] is False
    assert {"title", "summary", "lang", "source", "url", "published"} <= set(by_id["d-005"])
    # Another instance: a fresh database gets the same labels back.
    other = env_for(tmp_path, f"sqlite:///{tmp_path}/other.db")
    export_file = tmp_path / "labels.jsonl"
    export_file.write_text(first.stdout, encoding="utf-8")
    assert run_bot("labels", "import", str(export_file), env=other).returncode == 0
    second = exported(run_bot("labels", "export", env=other).stdout)
    assert sorted(second, key=lambda x: str(x["id"])) == sorted(lines, key=lambda x: str(x["id"]))
    # Importing the same file again changes nothing (no vote counted twice).
    assert run_bot("labels", "import", str(export_file), env=other).returncode == 0
    assert exported(run_bot("labels", "export", env=other).stdout) == second
    # The scoring reads an export as it reads the dev set.
    scored = run_bot("match", "--score", str(export_file), env=other)
    assert scored.stdout.startswith("precision 1.00  recall 1.00  F1 1.00")


async def test_people_leave_the_database_only_with_with_people(
    tmp_path: Path, database_url: str, db_engine: AsyncEngine
) -> None:
    old = datetime.now(UTC) - timedelta(days=10)
    votes = (
        Vote(f"telegram:{USER}", False, old, USER, "@desk_editor", CHAT),
        Vote("telegram:42", False, datetime.now(UTC), 42, "@second", CHAT),
    )
    await LabelStore(db_engine).add(
        [
            NewLabel(
                "apa/a1",
                "Baku mayor",
                "",
                "en",
                "APA",
                None,
                None,
                ("azerbaijan-iran",),
                votes,
                True,
            ),
            NewLabel("irna/i1", "Old one", "", "en", "IRNA", None, None, (), votes[:1], True),
        ],
        now=datetime.now(UTC),
    )
    env = env_for(tmp_path, database_url)
    plain = run_bot("labels", "export", env=env)
    assert plain.returncode == 0
    for secret in (str(USER), str(CHAT), "desk_editor", "telegram:"):
        assert secret not in plain.stdout
    assert all("people" not in line for line in exported(plain.stdout))
    named = exported(run_bot("labels", "export", "--with-people", env=env).stdout)
    people = {p["user_id"]: p for line in named for p in line["people"]}  # type: ignore[attr-defined]
    assert people[USER]["chat_id"] == CHAT
    assert people[USER]["name"] == "@desk_editor"
    # --since counts only the votes cast in the window; --topic only items pushed for it.
    recent = exported(run_bot("labels", "export", "--since", "1d", env=env).stdout)
    assert [(r["id"], r["votes"]) for r in recent] == [
        ("apa/a1", {"relevant": 0, "not_relevant": 1})
    ]
    topical = exported(run_bot("labels", "export", "--topic", "azerbaijan-iran", env=env).stdout)
    assert [r["id"] for r in topical] == ["apa/a1"]
    bad = run_bot("labels", "export", "--since", "soon", env=env)
    assert bad.returncode == 2
    assert "not a duration" in bad.stderr


def test_the_cli_twins_of_edits_print_their_effect_on_the_labels(
    tmp_path: Path, dev_set: Path, database_url: str, db_engine: AsyncEngine
) -> None:
    env = env_for(tmp_path, database_url)
    assert run_bot("labels", "import", str(dev_set), env=env).returncode == 0
    out = run_bot("config", "removeterm", "azerbaijan-iran", "azerbaijan", "Baku", env=env)
    assert out.returncode == 0, out.stderr
    # The counts follow the shipped topics; the shape and the item named do not.
    assert re.search(r"^Labelled items: this edit changes \d+ of 86 verdicts\.$", out.stdout, re.M)
    assert re.search(
        r"^This edit would miss \d+ items? the desk marked relevant: ", out.stdout, re.M
    )
    assert "Border markets reopen in Bilasuvar as Baku–Tehran thaw continues" in out.stdout
    paused = run_bot("config", "pause", "caliber-az", env=env)
    assert paused.returncode == 0, paused.stderr
    assert "Labelled items" not in paused.stdout  # not an edit of the topics
