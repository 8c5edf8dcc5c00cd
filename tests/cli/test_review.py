"""`python -m bot stories | latest | digest`, run as real processes on a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.test_main import REPO, bot_env, run_bot, write_config
from tests.feeds.build import item, rss
from tests.servers import FeedServer

EVENTS = REPO / "tests" / "fixtures" / "stories" / "events.jsonl"


def _report(n: int, event_id: str, minutes_ago: int) -> object:
    record = next(
        json.loads(line)
        for line in EVENTS.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["id"] == event_id
    )
    return item(
        n,
        title=record["title"],
        description=record["summary"],
        link=record["url"],
        guid=record["url"],
        pub_date=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )


def test_latest_and_digest_show_one_story_with_both_outlets(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    config = write_config(tmp_path, feed_server, {"apa": "/apa.xml", "irna": "/irna.xml"})
    env = bot_env(tmp_path, config, database_url)
    feed_server.put("/apa.xml", rss([_report(1, "call-1a", 90), _report(2, "summon-ir", 30)]))
    feed_server.put("/irna.xml", rss([_report(3, "call-1b", 60)]))
    fetched = run_bot("fetch", "--once", env=env)
    assert fetched.returncode == 0, fetched.stderr

    latest = run_bot("latest", "--json", env=env)
    assert latest.returncode == 0, latest.stderr
    stories = [json.loads(line) for line in latest.stdout.splitlines()]
    assert [s["title"] for s in stories] == [
        "Iran summons Azerbaijani ambassador over border incident",  # newest first
        "Ilham Aliyev and Masoud Pezeshkian hold phone conversation",
    ]
    assert [o["source"] for o in stories[1]["outlets"]] == ["Outlet apa", "Outlet irna"]
    assert [o["url"] for o in stories[1]["outlets"]] == [
        "https://apa.az/en/call-1",
        "https://tasnimnews.com/en/call-1",
    ]
    plain = run_bot("latest", env=env)
    assert plain.stdout.count("Pezeshkian") == 1  # the story once, not once per outlet

    digest = run_bot("digest", env=env)
    assert digest.returncode == 0, digest.stderr
    lines = digest.stdout.splitlines()
    assert lines[0].startswith("Media review: Azerbaijan–Iran relations, ")
    # Most-covered first: the phone call (two outlets) before the summons (one).
    assert lines[2] == "1. Ilham Aliyev and Masoud Pezeshkian hold phone conversation"
    assert "   Outlet irna: https://tasnimnews.com/en/call-1" in lines
    assert any(line.startswith("2. Iran summons") for line in lines)

    md = run_bot("digest", "--format", "markdown", "--hours", "1", env=env)
    assert md.returncode == 0, md.stderr
    assert "[Outlet apa](https://tehrantimes.com/summon)" in md.stdout
    assert "Pezeshkian" not in md.stdout  # 90 and 60 minutes ago: outside the last hour

    bad = run_bot("digest", "--topic", "nope", env=env)
    assert bad.returncode == 2


def test_stories_reads_json_lines_in_order_and_reports_bad_lines(tmp_path: Path) -> None:
    env = bot_env(tmp_path, REPO / "config", f"sqlite:///{tmp_path}/x.db")
    lines = EVENTS.read_text(encoding="utf-8").splitlines()[:3]
    stdin = "\n".join([lines[2], "{not json", json.dumps({"title": "no id"}), *lines[:2]])
    done = run_bot("stories", "-", env=env, stdin=stdin)
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert out[0] == {"id": "call-1c", "story": "call-1a"}
    assert out[1]["line"] == 2
    assert "error" in out[1]
    assert out[2]["line"] == 3
    assert out[2]["error"].startswith("id:")
    assert out[3:] == [
        {"id": "call-1a", "story": "call-1a"},
        {"id": "call-1b", "story": "call-1a"},
    ]


def test_story_window_comes_from_the_environment(tmp_path: Path) -> None:
    env = bot_env(tmp_path, REPO / "config", f"sqlite:///{tmp_path}/x.db")
    rows = [
        {"id": i, "title": "Iran summons Azerbaijani ambassador", "url": "https://x.az/1",
         "published": f"2026-12-01T{h:02d}:00:00Z"}
        for i, h in ((1, 0), (2, 3))
    ]  # fmt: skip
    stdin = "\n".join(json.dumps(r) for r in rows)
    assert '"story": 1}' in run_bot("stories", "-", env=env, stdin=stdin).stdout.splitlines()[1]
    env["BOT_STORY_WINDOW"] = "2h"
    short = run_bot("stories", "-", env=env, stdin=stdin)
    assert short.stdout.splitlines()[1] == '{"id": 2, "story": 2}'
    env["BOT_STORY_WINDOW"] = "soon"
    assert run_bot("stories", "-", env=env, stdin=stdin).returncode == 2


def test_stories_explain_names_what_agreed_and_what_conflicted(tmp_path: Path) -> None:
    env = bot_env(tmp_path, REPO / "config", f"sqlite:///{tmp_path}/x.db")
    lines = {
        json.loads(line)["id"]: line for line in EVENTS.read_text(encoding="utf-8").splitlines()
    }
    stdin = "\n".join(lines[i] for i in ("call-1a", "call-1-ru", "call-2a"))
    done = run_bot("stories", "-", "--explain", env=env, stdin=stdin)
    assert done.returncode == 0, done.stderr
    first, russian, second_call = (json.loads(line) for line in done.stdout.splitlines())
    assert first == {"id": "call-1a", "story": "call-1a", "why": []}
    # The Russian report joins the English one through the signature: people and act agree.
    assert russian["story"] == "call-1a"
    (why,) = russian["why"]
    assert why["joins"] is True
    assert {"act call", "person az-aliyev", "person ir-pezeshkian"} <= set(why["agreed"])
    # The next day's call names another day and another subject: a conflict keeps it apart.
    assert second_call["story"] == "call-2a"
    verdicts = {w["with"]: w for w in second_call["why"]}
    assert verdicts["call-1a"]["joins"] is False
    assert verdicts["call-1a"]["conflicts"]
    # Without --explain the lines stay as they were.
    plain = run_bot("stories", "-", env=env, stdin=stdin)
    assert [set(json.loads(line)) for line in plain.stdout.splitlines()] == [{"id", "story"}] * 3
