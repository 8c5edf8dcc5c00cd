"""The command line's rule: every subcommand, fed a bad input, exits non-zero with at most a few
lines on stderr and no traceback (`--debug` shows it).

Each subcommand runs as a real process (`python -m bot …`) with the shipped config. The faults:
a missing file, a folder, a file that is not UTF-8 and an empty file (for the commands that read
a file); an unreachable PostgreSQL server and a file that is not a database (for the commands
that use the database); an existing output path (`config export --to`). Read-only commands on a
database that does not exist refuse with one line naming it and create nothing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 3

FILE_COMMANDS = [["match"], ["stories"], ["summarize"], ["extract"]]
DATABASE_COMMANDS = [
    ["run"], ["fetch", "--once"], ["latest"], ["digest"], ["check-config"],
    ["config", "show"], ["config", "export"], ["config", "audit"], ["config", "undo"],
    ["config", "pause", "apa"], ["config", "terms", "azerbaijan-iran"], ["config", "reload"],
    ["config", "compact"], ["config", "testmatch", "Baku and Tehran"],
    ["config", "addterm", "azerbaijan-iran", "azerbaijan", "Ganja city"],
]  # fmt: skip
READ_ONLY = [
    ["latest"], ["digest"], ["config", "show"], ["config", "audit"], ["config", "export"],
    ["config", "terms", "azerbaijan-iran"], ["config", "testmatch", "Baku"],
]  # fmt: skip


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket is: nobody answers


def environment(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "BOT_", "DATABASE_URL"))
    }
    env.update(BOT_CONFIG_DIR=str(REPO / "config"), DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def bot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env, capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
    )  # fmt: skip


def bad_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes(b'{"id": "1", "title": "Caf\xe9 in Baku", "summary": ""}\n')
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    return {
        "missing file": tmp_path / "nowhere.jsonl",
        "folder": folder,
        "not UTF-8": latin1,
        "empty file": empty,
    }


def check(case: str, done: subprocess.CompletedProcess[str]) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0, (case, done.stdout[-500:], done.stderr[-500:])
    assert "Traceback" not in done.stderr, (case, done.stderr[-2000:])
    assert 1 <= len(lines) <= MAX_LINES, (case, done.stderr[-2000:])


def run_all(cases: list[tuple[str, Callable[[], subprocess.CompletedProcess[str]]]]) -> None:
    # Two at a time: each is a Python process; the machine is small.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: (c[0], c[1]()), cases))
    for case, done in results:
        check(case, done)


def test_every_file_command_refuses_a_bad_file_in_one_line(tmp_path: Path):
    env = environment(f"sqlite:///{tmp_path / 'bot.db'}")
    cases = [
        (f"{' '.join(cmd)} / {fault}", lambda cmd=cmd, path=path: bot([*cmd, str(path)], env))
        for cmd in FILE_COMMANDS
        for fault, path in bad_files(tmp_path).items()
    ]
    run_all(cases)


def test_every_database_command_refuses_a_bad_database_in_one_line(tmp_path: Path):
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("these are my notes, not a database\n", encoding="utf-8")
    faults = {
        "unreachable server": f"postgresql://bot:secret@127.0.0.1:{closed_port()}/bot",
        "not a database": f"sqlite:///{not_a_database}",
    }
    cases = [
        (f"{' '.join(cmd)} / {fault}", lambda cmd=cmd, url=url: bot(cmd, environment(url)))
        for cmd in DATABASE_COMMANDS
        if cmd != ["check-config"]  # it opens no database
        for fault, url in faults.items()
    ]
    run_all(cases)
    assert not_a_database.read_text(encoding="utf-8").startswith("these are my notes")


def test_an_existing_output_path_is_refused_in_one_line_and_force_overwrites(tmp_path: Path):
    env = environment(f"sqlite:///{tmp_path / 'bot.db'}")
    out = tmp_path / "out"
    out.mkdir()
    (out / "topics.toml").write_text("# keep me\n", encoding="utf-8")
    check("config export --to an existing file", bot(["config", "export", "--to", str(out)], env))
    assert (out / "topics.toml").read_text(encoding="utf-8") == "# keep me\n"
    assert bot(["config", "export", "--to", str(out), "--force"], env).returncode == 0
    assert (out / "topics.toml").read_text(encoding="utf-8") != "# keep me\n"


@pytest.mark.parametrize("cmd", READ_ONLY, ids=" ".join)
def test_a_read_only_command_refuses_a_database_that_does_not_exist(tmp_path: Path, cmd):
    missing = tmp_path / "typo" / "bot.db"
    done = bot(cmd, environment(f"sqlite:///{missing}"))
    check(" ".join(cmd), done)
    assert f"sqlite:///{missing}" in done.stderr
    assert not missing.parent.exists()  # nothing created


def test_debug_shows_the_traceback(tmp_path: Path):
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("notes\n", encoding="utf-8")
    done = bot(["--debug", "latest"], environment(f"sqlite:///{not_a_database}"))
    assert done.returncode != 0
    assert "Traceback" in done.stderr
