"""The command line, run as a real process against the loopback feed server and a real database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.feeds.build import item, rss
from tests.servers import FeedServer

REPO = Path(__file__).resolve().parents[2]
FLAGGED = "Azerbaijan and Iran open a new border crossing"


def write_config(tmp_path: Path, server: FeedServer, paths: dict[str, str]) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.toml", config / "topics.toml")
    entries = "".join(
        f'[[sources]]\nid = "{sid}"\nname = "Outlet {sid}"\nurl = "{server.url(path)}"\ninterval = "10s"\n\n'
        for sid, path in paths.items()
    )
    (config / "sources.toml").write_text(entries, encoding="utf-8")
    return config


def bot_env(tmp_path: Path, config: Path, database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "BOT_", "DATABASE_URL"))
    }
    env.update(
        BOT_CONFIG_DIR=str(config),
        DATABASE_URL=database_url,
        BOT_TIMEZONE="Asia/Baku",
        PYTHONUNBUFFERED="1",
        PYTHONWARNINGS="error::DeprecationWarning:bot",
    )
    return env


def run_bot(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )


def test_fetch_once_prints_a_table_and_latest_lists_flagged_items(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    config = write_config(tmp_path, feed_server, {"good": "/good.xml", "down": "/down.xml"})
    env = bot_env(tmp_path, config, database_url)
    feed_server.put("/good.xml", rss([item(1, title=FLAGGED), item(2, title="Paris weather")]))
    feed_server.fail("/down.xml", 503)

    fetched = run_bot("fetch", "--once", env=env)
    assert fetched.returncode == 0, fetched.stderr
    rows = {line.split()[0]: line for line in fetched.stdout.splitlines() if line.strip()}
    assert "first-sight" in rows["good"]
    assert rows["good"].split()[3:5] == ["2", "1"]  # new, flagged
    assert "failed" in rows["down"]
    assert "503" in rows["down"]
    assert "2 sources, 1 failed" in fetched.stdout

    latest = run_bot("latest", "--json", "-n", "5", env=env)
    assert latest.returncode == 0, latest.stderr
    records = [json.loads(line) for line in latest.stdout.splitlines()]
    assert [r["title"] for r in records] == [FLAGGED]
    assert records[0]["source"] == "Outlet good"
    assert records[0]["topics"] == ["azerbaijan-iran"]
    assert records[0]["url"] == "https://example.com/news/1"

    only = run_bot("fetch", "--once", "--source", "down", env=env)
    assert only.returncode == 0
    assert "good" not in only.stdout


def test_match_reads_json_lines_and_keeps_order_and_bad_lines(tmp_path: Path) -> None:
    env = bot_env(tmp_path, REPO / "config", f"sqlite:///{tmp_path}/x.db")
    lines = "\n".join(
        [
            json.dumps(
                {
                    "id": "a",
                    "title": "Azərbaycan İrana pambıq ixracına başlayıb",
                    "summary": "",
                    "lang": "az",
                }
            ),
            "{not json",
            json.dumps({"id": 7, "title": "Paris weather", "summary": "Sunny."}),
        ]
    )
    out = run_bot("match", "-", env=env, stdin=lines + "\n")
    assert out.returncode == 1  # a bad line is reported, the rest still ran
    first, bad, last = (json.loads(line) for line in out.stdout.splitlines())
    assert first["id"] == "a"
    assert first["topics"] == ["azerbaijan-iran"]
    assert set(first["terms"]["azerbaijan-iran"]) == {"azerbaijan", "iran"}
    assert bad["line"] == 2
    assert "error" in bad
    assert last == {"id": 7, "topics": [], "terms": {}}


def test_a_bad_config_exits_2_listing_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.toml", config / "topics.toml")
    (config / "sources.toml").write_text(
        '[[sources]]\nid = "A"\nname = "x"\nurl = "gopher://x"\ninterval = "1s"\n', encoding="utf-8"
    )
    env = bot_env(tmp_path, config, f"sqlite:///{tmp_path}/x.db")
    env["BOT_TIMEZONE"] = "Nowhere/Special"
    for command in (["check-config"], ["run"], ["fetch", "--once"]):
        result = run_bot(*command, env=env)
        assert result.returncode == 2, command
        for needle in (
            "BOT_TIMEZONE",
            "sources[0] (id=A): id",
            "sources[0] (id=A): url",
            "interval",
        ):
            assert needle in result.stderr, (command, needle)
    good = run_bot(
        "check-config", env=bot_env(tmp_path, REPO / "config", f"sqlite:///{tmp_path}/x.db")
    )
    assert good.returncode == 0
    assert "config OK" in good.stdout


def test_run_prints_flagged_items_and_stops_cleanly_on_sigterm(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    config = write_config(tmp_path, feed_server, {"live": "/live.xml"})
    env = bot_env(tmp_path, config, database_url)
    feed_server.put("/live.xml", rss([item(1, title="Backlog: Baku–Tehran talks")]))
    # The first pass stores the backlog silently; the next item must be printed.
    assert run_bot("fetch", "--once", env=env).returncode == 0
    feed_server.put(
        "/live.xml", rss([item(2, title=FLAGGED), item(1, title="Backlog: Baku–Tehran talks")])
    )

    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            feed_server.wait_for_requests(
                "/live.xml", 2, timeout=40
            )  # fetch --once, then run's poll
            deadline = time.monotonic() + 20
            output = ""
            assert proc.stdout is not None
            assert proc.stderr is not None
            while FLAGGED not in output and time.monotonic() < deadline:
                output += proc.stdout.readline()
            assert FLAGGED in output
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
            assert time.monotonic() - started < 10
            # Read what readline left in the buffer too (communicate() would bypass it).
            rest = proc.stdout.read()
            errors = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, errors
    printed = output + rest
    assert "Backlog" not in printed
    assert "Outlet live" in printed
    assert "https://example.com/news/2" in printed
    assert printed.count(FLAGGED) == 1


@pytest.mark.parametrize("argv", [["fetch"], ["latest", "-n", "x"], ["nonsense"]])
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str]) -> None:
    env = bot_env(tmp_path, REPO / "config", f"sqlite:///{tmp_path}/x.db")
    result = run_bot(*argv, env=env)
    assert result.returncode == 2
    assert "usage" in result.stderr
