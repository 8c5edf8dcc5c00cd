"""`python -m bot config …` as a real process: the CLI twins of the operator commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import load_config
from tests.feeds.build import item, rss
from tests.servers import FeedServer

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
"""


class Bot:
    """Runs `python -m bot config …` against one config directory and database."""

    def __init__(self, config_dir: Path, database_url: str) -> None:
        self.config_dir = config_dir
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "BOT_", "DATABASE_URL"))
        }
        self.env.update(
            BOT_CONFIG_DIR=str(config_dir),
            DATABASE_URL=database_url,
            BOT_TIMEZONE="UTC",
            USER="desk-operator",
            LOGNAME="desk-operator",
            PYTHONWARNINGS="error::DeprecationWarning:bot",
        )

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "config", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            check=False,
        )

    def ok(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def refused(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 2, (done.stdout, done.stderr)
        return done.stderr

    def effective(self) -> tuple[dict, dict]:
        text = self.ok("show")
        sources, topics = text.split("# ---- topics.toml ----")
        return tomllib.loads(sources), tomllib.loads(topics)


def make_bot(tmp_path: Path, database_url: str) -> Bot:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "sources.toml").write_text(SOURCES, encoding="utf-8")
    shutil.copy(REPO / "config" / "topics.toml", config_dir / "topics.toml")
    return Bot(config_dir, database_url)


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    return make_bot(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")


def alpha_and_terms(bot: Bot) -> tuple[dict, list[str]]:
    """The effective `alpha` entry and the azerbaijan group's terms, from `config show`."""
    sources, topics = bot.effective()
    alpha = next(s for s in sources["sources"] if s["id"] == "alpha")
    topic = next(t for t in topics["topics"] if t["id"] == TOPIC)
    return alpha, topic["groups"]["azerbaijan"]


async def test_edits_show_in_show_are_audited_and_undone_on_each_database(
    tmp_path: Path, database_url: str
):
    bot = make_bot(tmp_path, database_url)
    assert "#1 add term 'Ganja city'" in bot.ok("addterm", TOPIC, "azerbaijan", "Ganja", "city")
    assert "enabled: True → False" in bot.ok("pause", "alpha")
    assert "interval: '10m' → '5m'" in bot.ok("interval", "alpha", "5m")
    alpha, terms = alpha_and_terms(bot)
    assert "Ganja city" in terms
    assert (alpha["enabled"], alpha["interval"]) == (False, "5m")

    audit = bot.ok("audit", "-n", "2").splitlines()
    assert audit[0].endswith("cli:desk-operator: set the interval of source 'alpha' to 5m")
    assert audit[1] == "  interval: '10m' → '5m'"
    assert "pause source 'alpha'" in audit[2]

    assert "undo #3" in bot.ok("undo")
    alpha, terms = alpha_and_terms(bot)
    assert "interval" not in alpha  # back to the default
    assert "Ganja city" in terms
    assert "[undone]" in bot.ok("audit").splitlines()[2]


def test_a_bad_edit_exits_2_with_the_reason_and_changes_nothing(bot: Bot):
    assert "must be at least 10s" in bot.refused("interval", "alpha", "5s")
    assert "not a duration" in bot.refused("interval", "alpha", "soon")
    assert "has no group 'nope'" in bot.refused("addterm", TOPIC, "nope", "Ganja")
    assert "a stem needs at least 3 letters" in bot.refused("addterm", TOPIC, "iran", "ab*")
    assert "duplicate id: source 'alpha'" in bot.refused("addsource", "alpha", "https://x.example/")
    assert "nothing to undo" in bot.refused("undo")
    assert bot.ok("audit").strip() == "no changes yet"


def test_addsource_probes_the_feed_before_accepting_it(bot: Bot, feed_server: FeedServer):
    feed_server.put("/feed.xml", rss([item(1), item(2)], title="Gamma News"))
    out = bot.ok("addsource", "gamma", feed_server.url("/feed.xml"))
    assert "probed: Gamma News: 2 items, newest 'Item 2'" in out
    sources, _ = bot.effective()
    assert {"id": "gamma", "name": "Gamma News", "url": feed_server.url("/feed.xml")} in sources[
        "sources"
    ]

    feed_server.fail("/gone.xml", 404)
    assert "HTTP 404" in bot.refused("addsource", "delta", feed_server.url("/gone.xml"))
    assert "duplicate URL: source 'gamma'" in bot.refused(
        "addsource", "delta", feed_server.url("/feed.xml")
    )
    assert feed_server.request_count("/feed.xml") == 1  # duplicates are refused before fetching


def test_export_keeps_the_comments_and_round_trips_through_load_config(bot: Bot, tmp_path: Path):
    bot.ok("addterm", TOPIC, "azerbaijan", "Ganja city")
    bot.ok("pause", "alpha")
    out = tmp_path / "exported"
    assert f"wrote {out / 'sources.toml'}" in bot.ok("export", "--to", str(out))
    sources_text = (out / "sources.toml").read_text()
    assert sources_text.startswith("# Outlets for the tests.\n")
    assert "# the first outlet\n" in sources_text
    original = (bot.config_dir / "topics.toml").read_text().splitlines()
    exported = (out / "topics.toml").read_text()
    assert all(line in exported for line in original if line.lstrip().startswith("#"))

    loaded = load_config({"BOT_CONFIG_DIR": str(out)})
    assert next(s for s in loaded.sources if s.id == "alpha").enabled is False
    groups = {g.name: g.terms for g in loaded.topics[0].groups}
    assert "Ganja city" in groups["azerbaijan"]


def test_reload_validates_the_files_with_the_edits_on_top(bot: Bot):
    bot.ok("pause", "alpha")
    assert "config OK: 1 sources (0 enabled), 1 topics, 1 operator edits" in bot.ok("reload")
    (bot.config_dir / "sources.toml").write_text(SOURCES.replace('"10m"', '"ten"'))
    done = bot("reload")
    assert done.returncode == 2
    assert "sources.toml: source 'alpha': interval" in done.stderr


def test_terms_lists_a_topic_and_testmatch_explains_with_the_live_terms(bot: Bot):
    terms = bot.ok("terms", TOPIC)
    assert terms.startswith(f"{TOPIC}: ")
    assert "  group azerbaijan (" in terms
    text = ("Azerbaijan", "and", "Iran", "meet", "in", "Ganja", "city")
    before = bot.ok("testmatch", *text)
    assert "Ganja city" not in before
    bot.ok("addterm", TOPIC, "azerbaijan", "Ganja city")
    after = bot.ok("testmatch", *text)
    assert f"{TOPIC}: MATCH" in after
    assert "azerbaijan: Ganja city in title" in after
    assert "there is no topic 'nope'" in bot.refused("terms", "nope")
