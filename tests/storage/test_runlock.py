"""One `run` at a time on a SQLite file; the other commands keep working beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.storage.runlock import DatabaseBusyError, lock_path, run_lock
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.telegram.test_e2e import REPO, write_config


def test_a_second_holder_is_refused_naming_the_first_until_it_lets_go(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'bot.db'}"
    with run_lock(url, command="run"):
        with pytest.raises(DatabaseBusyError) as refused, run_lock(url, command="fetch --once"):
            pass
        message = str(refused.value)
        assert "bot.db is in use by `python -m bot run`" in message
        assert f"(pid {os.getpid()})" in message
        assert "\n" not in message
    with run_lock(url, command="fetch --once"):
        pass


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/bot.db", Path("data/bot.db.run.lock")),
        ("sqlite+aiosqlite:////srv/bot.db", Path("/srv/bot.db.run.lock")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://u@h/db", None),
        ("postgres://u:p@h:5432/db", None),
    ],
)
def test_only_sqlite_files_get_a_lock_file(url: str, expected: Path | None) -> None:
    assert lock_path(url) == expected


def _bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_second_run_and_fetch_once_refuse_while_a_run_holds_the_file_and_others_work(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.put("/l.xml", rss([item(1)]))
    database = tmp_path / "data" / "bot.db"
    config = write_config(tmp_path, feed_server, {"l": "/l.xml"})
    sources = config / "sources.toml"  # one poll by the run, then none while the test runs
    sources.write_text(sources.read_text().replace('"10s"', '"1h"'))
    env = {
        **os.environ,
        "BOT_CONFIG_DIR": str(config),
        "DATABASE_URL": f"sqlite:///{database}",
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    lock = Path(f"{database}.run.lock")
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as first:
        try:
            deadline = time.monotonic() + 30
            while not (lock.exists() and "run" in lock.read_text()):
                assert time.monotonic() < deadline, "the first run never took the lock"
                assert first.poll() is None, "the first run ended"
                time.sleep(0.05)
            feed_server.wait_for_requests("/l.xml", 1, timeout=30)

            second = _bot(env, "run")
            assert second.returncode == 1
            assert second.stderr.strip().splitlines() == [
                f"cannot start: bot.db is in use by `python -m bot run` (pid {first.pid}): "
                "one `run` or `fetch --once` at a time on a SQLite database "
                "(use PostgreSQL to run several processes)"
            ]
            fetch = _bot(env, "fetch", "--once")
            assert fetch.returncode == 1
            assert len(fetch.stderr.strip().splitlines()) == 1
            assert "in use by `python -m bot run`" in fetch.stderr
            assert feed_server.request_count("/l.xml") == 1  # neither polled anything

            latest = _bot(env, "latest")
            assert latest.returncode == 0, latest.stderr
            edit = _bot(env, "config", "pause", "l")
            assert edit.returncode == 0, edit.stderr
        finally:
            first.send_signal(signal.SIGKILL)  # a crash: the kernel drops the lock
            first.wait(timeout=10)
    again = _bot(env, "fetch", "--once", "--source", "l")
    assert again.returncode == 0, again.stderr
    assert feed_server.request_count("/l.xml") == 2
