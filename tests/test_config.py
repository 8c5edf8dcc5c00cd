"""Settings from the environment and sources.toml: defaults, validation, every problem reported.

The one file of settings tests: core settings, the review's (story window, digest time) and
the HTTP wing's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config, load_settings
from bot.errors import ConfigError
from bot.feeds.sources import load_sources

REPO = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_run_on_sqlite_with_the_console() -> None:
    settings = load_settings({})
    assert settings.telegram_bot_token is None
    assert settings.database_url == "sqlite:///data/bot.db"
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert str(settings.timezone) == "Asia/Baku"
    assert settings.config_dir == Path("config")
    assert settings.admin_ids == ()


def test_environment_names_are_read_as_documented() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "DATABASE_URL": "postgres://u:p@db/x",
            "BOT_CONFIG_DIR": "/etc/bot",
            "BOT_ADMIN_IDS": "11, 22;33",
            "BOT_TIMEZONE": "Asia/Tehran",
            "BOT_LOG_LEVEL": "debug",
            "PORT": "8080",
        }
    )
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)
    assert settings.admin_ids == (11, 22, 33)
    assert str(settings.timezone) == "Asia/Tehran"
    assert settings.log_level == "DEBUG"
    assert settings.port == 8080
    assert settings.config_dir == Path("/etc/bot")


def test_bad_environment_lists_every_problem_by_variable_name() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"BOT_TIMEZONE": "Mars/Olympus", "BOT_ADMIN_IDS": "12,abc", "PORT": "0"})
    text = "\n".join(info.value.problems)
    assert "BOT_TIMEZONE" in text
    assert "Mars/Olympus" in text
    assert "BOT_ADMIN_IDS" in text
    assert "PORT" in text
    assert len(info.value.problems) >= 3


def test_shipped_sources_are_valid_and_cover_the_named_outlets() -> None:
    sources = load_sources(REPO / "config" / "sources.toml")
    names = {s.name for s in sources}
    assert {"Caliber.Az", "Iran Front Page", "The Times of Israel"} <= names
    assert len(sources) >= 15
    assert all(s.interval >= 10 for s in sources)
    azertac = next(s for s in sources if s.id == "azertac-en")
    assert azertac.user_agent
    assert "Mozilla" in azertac.user_agent


def test_sources_take_defaults_and_parse_intervals(tmp_path: Path) -> None:
    path = write(
        tmp_path / "sources.toml",
        """
[defaults]
interval = "5m"
language = "ru"

[[sources]]
id = "a"
name = "A"
url = "http://127.0.0.1/a.xml"

[[sources]]
id = "b"
name = "B"
url = "https://example.org/b.xml"
interval = "1h30m"
language = "fa"
enabled = false
""",
    )
    a, b = load_sources(path)
    assert (a.interval, a.language, a.enabled) == (300.0, "ru", True)
    assert (b.interval, b.language, b.enabled) == (5400.0, "fa", False)


def test_every_bad_source_line_is_reported_with_file_entry_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "sources.toml",
        """
[[sources]]
id = "Bad Id"
name = "X"
url = "ftp://example.org/feed"
interval = "5s"

[[sources]]
id = "ok"
name = "OK"
url = "https://example.org/feed"
interval = "1m"
colour = "red"

[[sources]]
id = "ok"
name = "Twin"
url = "https://example.org/feed"
interval = "soon"
""",
    )
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    problems = info.value.problems
    text = "\n".join(problems)
    assert f"{path}: source 'Bad Id': id: must be a slug" in text
    assert "source 'Bad Id': url: must be an http:// or https:// URL" in text
    assert "source 'Bad Id': interval: must be at least 10s" in text
    assert "source 'ok': colour: unknown field" in text
    assert "source 'ok': interval: 'soon' is not a duration" in text
    # The third entry's duplicate id and URL come with its field error, not after it is fixed.
    assert "source 'ok': id: used twice (source #2 and #3)" in text
    assert "source 'ok': url: the same URL as source 'ok'" in text
    assert len(problems) == 7
    assert "sources[" not in text  # no internal indexes


def test_duplicate_ids_and_urls_are_refused(tmp_path: Path) -> None:
    entry = '[[sources]]\nid = "{id}"\nname = "N"\nurl = "{url}"\ninterval = "1m"\n'
    path = write(
        tmp_path / "sources.toml",
        entry.format(id="a", url="https://x.org/1")
        + entry.format(id="a", url="https://x.org/2")
        + entry.format(id="c", url="https://x.org/1"),
    )
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    text = "\n".join(info.value.problems)
    assert "source 'a': id: used twice (source #1 and #2)" in text
    assert "source 'c': url: the same URL as source 'a'" in text


def test_field_errors_are_plain_words_not_validation_jargon(tmp_path: Path) -> None:
    path = write(
        tmp_path / "sources.toml",
        '[[sources]]\nid = 5\nname = ""\nurl = "https://x.org/1"\nenabled = "maybe"\n'
        'fetch_article = "often"\nuser_agent = 7\n',
    )
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert [p.removeprefix(f"{path}: ") for p in info.value.problems] == [
        "source #1 (no id): id: must be text in quotes",
        "source #1 (no id): name: must not be empty",
        "source #1 (no id): enabled: must be true or false",
        "source #1 (no id): user_agent: must be text in quotes",
        "source #1 (no id): fetch_article: must be one of 'never', 'short' or 'always'",
    ]


def test_bad_admin_ids_are_named_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"BOT_ADMIN_IDS": "x,12345,y"})
    [problem] = info.value.problems
    assert problem.startswith("environment: BOT_ADMIN_IDS: not a Telegram user id: 'x', 'y'")
    assert load_settings({"BOT_ADMIN_IDS": "12345, 678"}).admin_ids == (12345, 678)


def test_a_missing_config_file_hints_at_bot_config_dir(tmp_path: Path) -> None:
    # Run outside the project folder with BOT_CONFIG_DIR unset, as a newcomer would.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check-config"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "config/sources.toml: file not found (BOT_CONFIG_DIR is not set" in done.stderr
    assert str(tmp_path / "config") in done.stderr
    with pytest.raises(ConfigError) as info:
        load_config({"BOT_CONFIG_DIR": str(tmp_path / "nowhere")})
    assert f"BOT_CONFIG_DIR is '{tmp_path / 'nowhere'}'" in info.value.problems[0]


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "sources.toml", '[[sources]]\nid = "a\n')
    with pytest.raises(ConfigError, match=r"sources\.toml: TOML syntax error.*line 2"):
        load_sources(path)


def test_load_config_collects_problems_from_every_file_at_once(tmp_path: Path) -> None:
    shutil.copy(REPO / "config" / "topics.toml", tmp_path / "topics.toml")
    write(
        tmp_path / "sources.toml",
        '[[sources]]\nid = "a"\nname = "A"\nurl = "nope"\ninterval = "1m"\n',
    )
    with (tmp_path / "topics.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[topics]]\nid = "Bad Topic"\nname = "x"\nrequire = ["missing"]\n')
    with pytest.raises(ConfigError) as info:
        load_config({"BOT_CONFIG_DIR": str(tmp_path), "BOT_LOG_LEVEL": "loud"})
    text = "\n".join(info.value.problems)
    assert "BOT_LOG_LEVEL" in text
    assert "sources.toml: source 'a': url:" in text
    assert "topics.toml" in text


def test_shipped_config_loads_whole() -> None:
    config = load_config({"BOT_CONFIG_DIR": str(REPO / "config")})
    assert config.sources
    assert config.topics
    assert any(t.id == "azerbaijan-iran" for t in config.topics)


def test_retention_settings_default_to_180_days_and_keep_flagged_items() -> None:
    assert (load_settings({}).keep_days, load_settings({}).keep_flagged_days) == (180, None)
    settings = load_settings({"BOT_KEEP_DAYS": "30", "BOT_KEEP_FLAGGED_DAYS": "365"})
    assert (settings.keep_days, settings.keep_flagged_days) == (30, 365)
    assert load_settings({"BOT_KEEP_DAYS": "0"}).keep_days == 0
    with pytest.raises(ConfigError) as info:
        load_settings({"BOT_KEEP_DAYS": "-1", "BOT_KEEP_FLAGGED_DAYS": "0"})
    text = "\n".join(info.value.problems)
    assert "BOT_KEEP_DAYS" in text
    assert "BOT_KEEP_FLAGGED_DAYS" in text


def test_the_leader_lease_and_claim_expiry_take_durations_or_seconds() -> None:
    settings = load_settings({"BOT_LEADER_LEASE": "2s", "BOT_CLAIM_TTL": "90"})
    assert (settings.leader_lease, settings.claim_ttl) == (2, 90)
    defaults = load_settings({})
    assert (defaults.leader_lease, defaults.claim_ttl) == (30, 30)
    with pytest.raises(ConfigError) as refused:
        load_settings({"BOT_LEADER_LEASE": "1s", "BOT_CLAIM_TTL": "2h"})
    assert any("BOT_LEADER_LEASE" in p and "between 2s and 1h" in p for p in refused.value.problems)
    assert any("BOT_CLAIM_TTL" in p for p in refused.value.problems)


# --- BOT_STORY_WINDOW and BOT_DIGEST_TIME ------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.story_window == 48 * 3600
    assert settings.digest_time == (9, 0)


def test_values_in_the_usual_syntax() -> None:
    settings = load_settings({"BOT_STORY_WINDOW": "1d12h", "BOT_DIGEST_TIME": "7:30"})
    assert settings.story_window == 36 * 3600
    assert settings.digest_time == (7, 30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_STORY_WINDOW", "30m"),
        ("BOT_STORY_WINDOW", "15d"),
        ("BOT_STORY_WINDOW", "soon"),
        ("BOT_DIGEST_TIME", "24:00"),
        ("BOT_DIGEST_TIME", "9am"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    assert any(problem.startswith(f"environment: {name}:") for problem in caught.value.problems)


# --- BOT_HTTP_PORT, BOT_HTTP_HOST, BOT_PUBLIC_URL ---------------------------------------------------


def test_http_settings_default_to_no_server_on_loopback():
    settings = load_settings({})
    assert settings.http_port is None
    assert settings.http_host == "127.0.0.1"
    assert settings.public_url is None


def test_http_settings_are_read_by_their_documented_names():
    settings = load_settings(
        {
            "BOT_HTTP_PORT": "8080",
            "BOT_HTTP_HOST": "0.0.0.0",
            "BOT_PUBLIC_URL": "https://bot.example.org",
        }
    )
    assert (settings.http_port, settings.http_host) == (8080, "0.0.0.0")
    assert settings.public_url == "https://bot.example.org"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"BOT_HTTP_PORT": "70000"}, "BOT_HTTP_PORT"),
        ({"BOT_HTTP_PORT": "web"}, "BOT_HTTP_PORT"),
        ({"BOT_PUBLIC_URL": "bot.example.org"}, "BOT_PUBLIC_URL"),
        ({"BOT_HTTP_HOST": ""}, "BOT_HTTP_HOST"),
    ],
)
def test_bad_http_settings_are_refused_by_name(env, problem):
    with pytest.raises(ConfigError, match=problem):
        load_settings(env)


def test_feedback_default_and_label_retention_are_read_as_documented() -> None:
    defaults = load_settings({})
    assert defaults.feedback_default is False
    assert defaults.keep_labels_days is None  # labels are kept for ever
    settings = load_settings({"BOT_FEEDBACK_DEFAULT": "on", "BOT_KEEP_LABELS_DAYS": "365"})
    assert settings.feedback_default is True
    assert settings.keep_labels_days == 365
    assert load_settings({"BOT_FEEDBACK_DEFAULT": "off"}).feedback_default is False
    with pytest.raises(ConfigError) as info:
        load_settings({"BOT_FEEDBACK_DEFAULT": "maybe", "BOT_KEEP_LABELS_DAYS": "0"})
    text = "\n".join(info.value.problems)
    assert "BOT_FEEDBACK_DEFAULT" in text
    assert "BOT_KEEP_LABELS_DAYS" in text
