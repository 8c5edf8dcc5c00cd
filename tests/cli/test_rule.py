"""The command line's rule: every subcommand, fed a bad input, exits non-zero with at most a few
lines on stderr and no traceback (`--debug` shows it).

The subcommands run in this process through `bot.cli.main.main` (the same parser, config
loading, logging set-up and handlers as `python -m bot`; a process per case would cost ~15 s of
imports each on this machine), with the shipped config and the environment set by
`monkeypatch`; an escaping exception would fail the test as a traceback would. The faults: a
missing file, a folder, a file that is not UTF-8 and an empty file (commands that read a file);
an unreachable PostgreSQL server and a file that is not a database (commands that use the
database); an existing output path (`config export --to`); a database that does not exist
(read-only commands refuse it, naming it, and create nothing). One real process checks that
`--debug` shows the traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 3

FILE_COMMANDS = [["match"], ["stories"], ["summarize"], ["extract"]]
DATABASE_COMMANDS = [
    ["run"], ["fetch", "--once"], ["latest"], ["digest"],
    ["config", "show"], ["config", "export"], ["config", "audit"], ["config", "undo"],
    ["config", "pause", "apa"], ["config", "terms", "azerbaijan-iran"], ["config", "reload"],
    ["config", "compact"], ["config", "testmatch", "Baku and Tehran"],
    ["config", "addterm", "azerbaijan-iran", "azerbaijan", "Ganja city"],
    ["search", "bridge"], ["alerts", "list"],
]  # fmt: skip
READ_ONLY = [
    ["latest"], ["digest"], ["config", "show"], ["config", "audit"], ["config", "export"],
    ["config", "reload"], ["search", "bridge", "-corridor"], ["alerts", "list"],
]  # fmt: skip
FILE_FAULTS = ["missing file", "folder", "not UTF-8", "empty file"]
DATABASE_FAULTS = ["unreachable server", "not a database"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again with the socket: nobody answers


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "BOT_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BOT_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    return monkeypatch


def bad_file(tmp_path: Path, fault: str) -> Path:
    path = tmp_path / "input.jsonl"
    if fault == "folder":
        path.mkdir()
    elif fault == "not UTF-8":
        path.write_bytes(b'{"id": "1", "title": "Caf\xe9 in Baku", "summary": ""}\n')
    elif fault == "empty file":
        path.write_bytes(b"")
    return path


def bad_database(tmp_path: Path, fault: str) -> str:
    if fault == "unreachable server":
        return f"postgresql://bot:secret@127.0.0.1:{closed_port()}/bot"
    notes = tmp_path / "notes.db"
    notes.write_text("these are my notes, not a database\n", encoding="utf-8")
    return f"sqlite:///{notes}"


def one_line_refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)  # an exception escaping here fails the test: that is the traceback
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line]
    assert code != 0, (argv, err)
    assert "Traceback" not in err, (argv, err)
    assert 1 <= len(lines) <= MAX_LINES, (argv, err)
    return err


@pytest.mark.parametrize("fault", FILE_FAULTS)
@pytest.mark.parametrize("cmd", FILE_COMMANDS, ids=" ".join)
def test_a_file_command_refuses_a_bad_file_in_one_line(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys, cmd: list[str], fault: str
):
    path = bad_file(tmp_path, fault)
    err = one_line_refusal([*cmd, str(path)], capsys)
    assert str(path) in err


@pytest.mark.parametrize("fault", DATABASE_FAULTS)
@pytest.mark.parametrize("cmd", DATABASE_COMMANDS, ids=" ".join)
def test_a_database_command_refuses_a_bad_database_in_one_line(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys, cmd: list[str], fault: str
):
    url = bad_database(tmp_path, fault)
    env.setenv("DATABASE_URL", url)
    err = one_line_refusal(cmd, capsys)
    assert "secret" not in err  # the password stays masked
    if fault == "not a database":
        notes = tmp_path / "notes.db"
        assert notes.read_text(encoding="utf-8").startswith("these are my notes")


def test_an_existing_output_path_is_refused_in_one_line_and_force_overwrites(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys
):
    assert main(["config", "addterm", "azerbaijan-iran", "azerbaijan", "Ganja city"]) == 0
    out = tmp_path / "out"
    out.mkdir()
    (out / "topics.toml").write_text("# keep me\n", encoding="utf-8")
    capsys.readouterr()
    one_line_refusal(["config", "export", "--to", str(out)], capsys)
    assert (out / "topics.toml").read_text(encoding="utf-8") == "# keep me\n"
    assert main(["config", "export", "--to", str(out), "--force"]) == 0
    assert (out / "topics.toml").read_text(encoding="utf-8") != "# keep me\n"
    a_file = tmp_path / "file.toml"
    a_file.write_text("x", encoding="utf-8")
    one_line_refusal(["config", "export", "--to", str(a_file)], capsys)


@pytest.mark.parametrize("cmd", READ_ONLY, ids=" ".join)
def test_a_read_only_command_refuses_a_database_that_does_not_exist(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys, cmd: list[str]
):
    missing = tmp_path / "typo" / "bot.db"
    env.setenv("DATABASE_URL", f"sqlite:///{missing}")
    err = one_line_refusal(cmd, capsys)
    assert f"sqlite:///{missing}" in err
    assert not missing.parent.exists()  # nothing created


@pytest.mark.parametrize(
    ("cmd", "shown"),
    [
        (["config", "terms", "azerbaijan-iran"], "azerbaijan-iran: "),
        (["config", "testmatch", "Baku and Tehran sign a deal"], "azerbaijan-iran"),
    ],
    ids=["terms", "testmatch"],
)
def test_trying_terms_needs_no_database_and_creates_none(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys, cmd: list[str], shown: str
):
    missing = tmp_path / "typo" / "bot.db"
    env.setenv("DATABASE_URL", f"sqlite:///{missing}")
    assert main(cmd) == 0
    out, err = capsys.readouterr()
    assert shown in out  # the files' terms, as with a database holding no edits
    assert err.strip() == (
        f"note: no database at sqlite:///{missing}: the files alone, without operator edits"
    )
    assert not missing.parent.exists()  # nothing created


def test_an_unknown_topic_names_the_topics_file_actually_read(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys
):
    err = one_line_refusal(["latest", "--topic", "nope"], capsys)
    assert f"(from {REPO / 'config' / 'topics.toml'})" in err


def test_debug_shows_the_traceback(tmp_path: Path):
    notes = tmp_path / "notes.db"
    notes.write_text("notes\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env.update(BOT_CONFIG_DIR=str(REPO / "config"), DATABASE_URL=f"sqlite:///{notes}")
    for argv, shown in ((["latest"], False), (["--debug", "latest"], True)):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *argv],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode != 0
        assert ("Traceback" in done.stderr) is shown, done.stderr[-1000:]
