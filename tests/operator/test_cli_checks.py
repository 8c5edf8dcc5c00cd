"""`config addsource` checks before it adds, as a real process on a real database: both the id's
and the URL's problems at once, and a feed already polled under another id refused with one
line naming that source (`--force` adds it anyway)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.feeds.build import item, rss
from tests.operator.test_cli import REPO, Bot, make_bot
from tests.servers import FeedServer


def fetch_once(bot: Bot) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "fetch", "--once"],
        env=bot.env, capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_addsource_names_the_ids_and_the_urls_problems_together(tmp_path: Path):
    bot = make_bot(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")
    done = bot("addsource", "bad_ID!", "notaurl")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "refused:"
    assert lines[1].startswith("  - id 'bad_ID!': must be a slug")
    assert lines[2] == "  - URL 'notaurl': must be an http:// or https:// URL"
    assert len(lines) == 3


def test_a_feed_already_polled_is_refused_in_one_line_and_force_adds_it(
    tmp_path: Path, feed_server: FeedServer
):
    bot = make_bot(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")
    feed_server.put("/feed.xml", rss([item(n) for n in range(1, 6)], title="Gamma News"))
    bot.ok("addsource", "gamma", feed_server.url("/feed.xml"))
    fetch_once(bot)  # gamma's five items are stored
    copy = feed_server.url("/feed.xml") + "?utm=1"
    done = bot("addsource", "gamma2", copy)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"refused: {copy} looks like a feed already polled: 5 of its 5 items are already "
        "stored under source 'gamma' (Gamma News); --force adds it anyway"
    )
    assert "gamma2" not in bot.ok("show")
    assert "add source 'gamma2'" in bot.ok("addsource", "gamma2", copy, "--force")


def test_testmatch_without_text_exits_non_zero_with_usage(tmp_path: Path):
    bot = make_bot(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")
    for blank in ("", "   "):
        done = bot("testmatch", blank)
        assert done.returncode == 2
        assert done.stderr.strip() == (
            "refused: no text to test; usage: python -m bot config testmatch TEXT…"
        )


def test_export_refuses_to_replace_files_without_force(tmp_path: Path):
    bot = make_bot(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")
    bot.ok("pause", "alpha")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sources.toml").write_text("# mine\n", encoding="utf-8")
    done = bot("export", "--to", str(out))
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"refused: {out / 'sources.toml'} already exists; --force replaces"
    )
    assert (out / "sources.toml").read_text(encoding="utf-8") == "# mine\n"
    assert not (out / "topics.toml").exists()
    assert "wrote" in bot.ok("export", "--to", str(out), "--force")
    assert "enabled = false" in (out / "sources.toml").read_text(encoding="utf-8")
    a_file = tmp_path / "file.toml"
    a_file.write_text("x", encoding="utf-8")
    done = bot("export", "--to", str(a_file))
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"refused: {a_file} is a file; --to takes a folder for the two files"
    )


def test_read_only_config_actions_refuse_a_database_that_does_not_exist(tmp_path: Path):
    missing = tmp_path / "typo" / "bot.db"
    bot = make_bot(tmp_path, f"sqlite:///{missing}")
    for action in (["show"], ["audit"], ["reload"]):
        done = bot(*action)
        assert done.returncode == 2, action
        assert done.stderr.strip() == (
            f"refused: no database at sqlite:///{missing}: {missing} does not exist; "
            "check DATABASE_URL (`run` and `fetch --once` create it)"
        ), action
    assert not missing.parent.exists()  # no folder, no file created
